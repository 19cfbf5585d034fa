// iisdetect investigation report: optional helpers (filter, expand/collapse). The page is complete
// without them. The script only reads textContent and toggles classes/attributes; it never parses
// or inserts markup, so log text can never become code here.
(function () {
  "use strict";
  var controls = document.getElementById("controls");
  if (!controls) { return; }
  controls.classList.remove("hidden");
  var alerts = Array.prototype.slice.call(document.querySelectorAll("details.alert"));
  var keys = alerts.map(function (d) {
    var s = d.querySelector("summary");
    return s ? s.textContent.toLowerCase() : "";
  });
  var input = document.getElementById("filter");
  var shown = document.getElementById("shown");
  function apply() {
    var q = input.value.trim().toLowerCase();
    var n = 0;
    for (var i = 0; i < alerts.length; i++) {
      var hit = !q || keys[i].indexOf(q) !== -1;
      alerts[i].classList.toggle("hidden", !hit);
      if (hit) { n++; }
    }
    shown.textContent = String(n);
  }
  input.addEventListener("input", apply);
  function setAll(open) {
    var all = document.querySelectorAll("details.incident, details.alert");
    for (var i = 0; i < all.length; i++) { all[i].open = open; }
  }
  document.getElementById("expand").addEventListener("click", function () { setAll(true); });
  document.getElementById("collapse").addEventListener("click", function () { setAll(false); });
  apply();
}());
