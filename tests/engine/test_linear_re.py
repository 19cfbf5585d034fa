"""engine/linear_re.py: rule regexes and correlation patterns run in linear time (RE2).

No test times anything: the work is bounded by a CPU-time limit on a child process (5 CPU seconds
for 1 MB fields where backtracking ``re`` needs hours), so a slow machine cannot make them flaky
and a quadratic regex cannot pass.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from iisdetect.engine.linear_re import UnsupportedRegex, compile_linear

CPU_SECONDS = 5


def run_bounded(code: str) -> subprocess.CompletedProcess:
    prelude = f"import resource; resource.setrlimit(resource.RLIMIT_CPU, ({CPU_SECONDS}, {CPU_SECONDS}))\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], capture_output=True, timeout=120)


def test_backtracking_features_are_refused_with_a_reason():
    with pytest.raises(UnsupportedRegex, match="backtracking"):
        compile_linear(r"(a)\1")
    with pytest.raises(UnsupportedRegex):
        compile_linear(r"(?<=x)y")


def test_semantics_used_by_rules_and_correlation():
    rx = compile_linear(r"dontLog:\s*\"?\s*true", ignore_case=True)
    assert rx.search('appcmd set config /section:httpLogging /DONTLOG:"True"')
    assert compile_linear("a.b", dotall=True).fullmatch("a\nb") and not compile_linear("a.b").fullmatch("a\nb")
    dll = compile_linear(r"([^\\/\s]+\.dll)\b", ignore_case=True)
    assert dll.findall(r"x C:\T\Evil.DLL y.dll") == ["Evil.DLL", "y.dll"]


def test_default_ruleset_and_correlation_on_a_1mb_field_stay_linear():
    proc = run_bounded(
        """
        from iisdetect.model.event import Event
        from iisdetect.engine.ruleset import load_rules
        from iisdetect.engine.detector import Detector
        from iisdetect.hunting.alerts import Alert
        from iisdetect.hunting.incidents import correlate
        rules = load_rules("iis", ()).rules
        det = Detector(rules)
        cmds = ["appcmd set config httplogging logFile.enabled: logTargetW3C: dontLog:" + " " * 1_000_000 + "x",
                "appcmd install module /name:x /image:" + "A" * 1_000_000,
                "appcmd set config " + "-name: " * 150_000 + "x.dll"]
        alerts = []
        for i, cmd in enumerate(cmds):
            ev = Event("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", 1, "WEB01",
                       f"2024-05-02T10:15:0{i}.000000Z", i, None,
                       {"Image": "C:\\\\Windows\\\\System32\\\\inetsrv\\\\appcmd.exe", "CommandLine": cmd},
                       "x", "line 1")
            alerts += [Alert(r, ev) for r in det.match(ev)]
        from datetime import timedelta
        correlate(alerts, timedelta(hours=1))
        print("done", len(alerts))
        """
    )
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    assert proc.stdout.split() == [b"done", b"2"]  # the tamper and the module-install rules both fired


def test_user_rule_with_a_catastrophic_pattern_runs_in_linear_time(tmp_path):
    rule = tmp_path / "redos.yml"
    rule.write_text(
        "title: redos\nid: 0b3c6d8e-8a57-4d0e-9d0b-4b8a4f7e5a11\nstatus: test\nlevel: low\n"
        "logsource: {product: windows, category: process_creation}\n"
        "detection: {sel: {CommandLine|re: '(a+)+$'}, condition: sel}\n"
    )
    proc = run_bounded(
        f"""
        from iisdetect.model.event import Event
        from iisdetect.engine.ruleset import load_rules
        from iisdetect.engine.detector import Detector
        rep = load_rules(None, [{str(rule)!r}])
        det = Detector(rep.rules)
        ev = Event("Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", 1, "H",
                   "2024-05-02T10:15:00Z", 1, None, {{"CommandLine": "a" * 1_000_000 + "!"}}, "x", "line 1")
        print(len(rep.rules), len(det.match(ev)))
        """
    )
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    assert proc.stdout.split() == [b"1", b"0"]
