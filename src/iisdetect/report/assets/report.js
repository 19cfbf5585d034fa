// iisdetect investigation report: optional helpers (filter, expand/collapse). The page is complete
// without them. The script only reads textContent and toggles classes/attributes; it never parses
// or inserts markup, so log text can never become code here.
(function () {
  "use strict";
  // details: one object per alert in the JSON data block, built as text when the alert is first opened.
  // Only createElement/textContent are used; a value can never become markup or code.
  var BAD = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
  function visible(s) {
    return String(s).replace(BAD, function (c) { return "\\u" + ("000" + c.charCodeAt(0).toString(16)).slice(-4); });
  }
  var items = null;
  function item(i) {
    if (items === null) {
      var block = document.getElementById("events");
      items = block ? JSON.parse(block.textContent) : [];
    }
    return items[i] || { r: [], e: {} };
  }
  function el(tag, cls, txt) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (txt !== undefined) { n.textContent = txt; }
    return n;
  }
  function fill(details) {
    var body = details.querySelector("div.body");
    if (!body || body.hasAttribute("data-done")) { return; }
    body.setAttribute("data-done", "1");
    var it = item(Number(body.getAttribute("data-ev")));
    var table = el("table", "kv"), tbody = el("tbody");
    (it.r || []).forEach(function (row) {
      var tr = el("tr"), td = el("td");
      tr.appendChild(el("th", "", visible(row[0])));
      if (row[0] === "guide" && typeof it.g === "number") {
        var a = el("a", "", visible(row[1]));
        a.href = "#guide-" + String(Math.floor(it.g));
        td.appendChild(a);
      } else {
        td.textContent = visible(row[1]);
      }
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    while (body.firstChild) { body.removeChild(body.firstChild); }
    body.appendChild(table);
    body.appendChild(el("h4", "", it.f ? "full event" : "alert record (this JSON carries no full event)"));
    body.appendChild(el("pre", "event", visible(JSON.stringify(it.e, null, 2))));
  }
  var query = "";
  function matches(it) {
    return !query || it.s.join(" ").toLowerCase().indexOf(query) !== -1;
  }
  function build(holder) {
    if (holder.hasAttribute("data-done")) { return; }
    holder.setAttribute("data-done", "1");
    var range = holder.getAttribute("data-group").split(" ");
    var start = Number(range[0]), end = Number(range[1]);
    while (holder.firstChild) { holder.removeChild(holder.firstChild); }
    for (var i = start; i < end; i++) {
      var it = item(i);
      var d = el("details", "alert"), sm = el("summary");
      sm.appendChild(el("span", "muted", visible(it.s[0])));
      sm.appendChild(document.createTextNode(" "));
      sm.appendChild(el("span", "lv " + (/^lv-[a-z]+$/.test(it.l) ? it.l : "lv-other"), visible(it.s[1])));
      sm.appendChild(document.createTextNode(" EID " + visible(it.s[2]) + " "));
      sm.appendChild(el("span", "type", visible(it.s[3])));
      sm.appendChild(el("span", "ev", visible(it.s[4])));
      d.appendChild(sm);
      var body = el("div", "body");
      body.setAttribute("data-ev", String(i));
      d.appendChild(body);
      if (!matches(it)) { d.classList.add("hidden"); }
      holder.appendChild(d);
    }
  }
  document.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d || !d.open || !d.classList) { return; }
    if (d.classList.contains("alert")) { fill(d); return; }
    var holder = d.querySelector(":scope > div.body > div.alerts");
    if (holder) { build(holder); }
  }, true);
  var controls = document.getElementById("controls");
  if (!controls) { return; }
  controls.classList.remove("hidden");
  var groups = Array.prototype.slice.call(document.querySelectorAll("div.alerts[data-group]"));
  var input = document.getElementById("filter");
  var shown = document.getElementById("shown");
  function apply() {
    query = input.value.trim().toLowerCase();
    var total = 0;
    groups.forEach(function (holder) {
      var range = holder.getAttribute("data-group").split(" ");
      var n = 0;
      for (var i = Number(range[0]); i < Number(range[1]); i++) { if (matches(item(i))) { n++; } }
      total += n;
      var box = holder.closest("details.incident");
      if (box) { box.classList.toggle("hidden", n === 0 && query !== ""); }
      var built = holder.querySelectorAll(":scope > details.alert");
      for (var j = 0; j < built.length; j++) {
        built[j].classList.toggle("hidden", !matches(item(Number(range[0]) + j)));
      }
    });
    shown.textContent = String(total);
  }
  input.addEventListener("input", apply);
  function setAll(open) {
    var all = document.querySelectorAll("details.incident");
    for (var i = 0; i < all.length; i++) {
      all[i].open = open;
      var holder = all[i].querySelector(":scope > div.body > div.alerts");
      if (open && holder) { build(holder); }
    }
    var alerts = document.querySelectorAll("details.alert");
    for (var k = 0; k < alerts.length; k++) { alerts[k].open = open; if (open) { fill(alerts[k]); } }
  }
  document.getElementById("expand").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse").addEventListener("click", function () { setAll(false); });
  shown.textContent = String(groups.reduce(function (t, h) {
    var r = h.getAttribute("data-group").split(" "); return t + Number(r[1]) - Number(r[0]);
  }, 0));
}());
