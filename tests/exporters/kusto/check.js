// Parse and semantically analyse KQL with Microsoft's Kusto.Language (npm @kusto/language-service-next,
// the Bridge.NET build of the C# library). Input (stdin JSON): {"tables": {"Name": "(col:type, ...)"},
// "queries": ["..."]}. Output (stdout JSON): one list of error diagnostics per query:
// [{"code": "KS142", "message": "...", "start": 12, "length": 6}]. Used by tests/exporters/test_sentinel.py.
"use strict";
global.window = global; // the Bridge runtime expects a browser-like global
require("@kusto/language-service-next/bridge.min.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
const K = Kusto.Language;
const S = K.Symbols;

let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  const tables = Object.entries(req.tables).map(([name, schema]) =>
    S.TableSymbol.From(schema).WithName(name)
  );
  const db = new S.DatabaseSymbol.$ctor1("db", tables);
  const globals = K.GlobalState.Default.WithDatabase(db);
  const out = req.queries.map((q) => {
    const code = K.KustoCode.ParseAndAnalyze(q, globals);
    const diags = code.GetDiagnostics();
    const errs = [];
    for (let i = 0; i < diags.Count; i++) {
      const d = diags.getItem(i);
      if (d.Severity === "Error") errs.push({ code: d.Code, message: d.Message, start: d.Start, length: d.Length });
    }
    return errs;
  });
  process.stdout.write(JSON.stringify(out));
});
