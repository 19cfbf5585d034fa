"""A hunt JSON document whose every field is hostile, for the HTML report tests.

Values cover markup and script injection (``<script>``, ``"><img onerror>``, ``</pre>`` breakouts),
``javascript:`` URLs, template syntax, CSS breakouts, bidi overrides, terminal escapes and a 1 MB value
without spaces. A script that runs sets ``window.__pwned``; the browser test checks it never does.
"""

from __future__ import annotations

from typing import Any

MB = "A" * 1_000_000
HOSTILE: tuple[str, ...] = (
    "<script>window.__pwned=1</script>",
    "javascript:window.__pwned=2",
    '"><img src=x onerror="window.__pwned=3">',
    "'><svg onload=window.__pwned=4>",
    "</pre></details></section><script>window.__pwned=5</script>",
    "{{constructor.constructor('window.__pwned=6')()}}",
    "</style><style>body{display:none}</style>",
    "evil\u202egnp.exe\u202c and \u2066isolated\u2069 \u200fmark",
    "\x1b[2J\x1b[H\x1b]0;pwned-title\x07\x1b]8;;http://evil.example/\x07CLICK\x1b]8;;\x07\x1b[31mRED\x1b[0m",
    '<a href="javascript:window.__pwned=7">click</a>',
    '<iframe src="http://evil.example/"></iframe><link rel=stylesheet href=http://evil.example/x.css>',
)
ALL = " | ".join(HOSTILE)


def _alert(i: int, value: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_time": "2024-05-02 09:35:0" + str(i % 10),
        "log_source": f"Microsoft-Windows-Sysmon/Operational @ {value}",
        "username": value,
        "host_ip": None,
        "event_name": value,
        "EventID": "7",
        "detection_type": "IIS_Untrusted_Module_Load",
        "initiating_process": value,
        "CommandLine": value,
        "registry_key": None,
        "registry_value": None,
        "file_path": None,
        "loaded_dll": value,
        "rule_id": value,
        "rule_title": value,
        "level": "high",
        "Computer": value,
        "source": value,
        "record": value,
        "incident": "INC-0001",
        "notes": value,
        "guide": value,
        "event": {
            "Computer": value,
            "EventID": 7,
            "EventData": {"ImageLoaded": value, "CommandLine": value, "Hashes": value},
        },
    }
    row.update(over)
    return row


def hostile_doc() -> dict[str, Any]:
    alerts = [_alert(i, v) for i, v in enumerate(HOSTILE)]
    alerts.append(_alert(len(HOSTILE), MB, level=ALL))
    return {
        "incidents": [
            {
                "incident": HOSTILE[2],
                "host": ALL,
                "level": HOSTILE[0],
                "first": "2024-05-02T09:35:00.000000Z",
                "last": "2024-05-02T09:36:00.000000Z",
                "module": ALL,
                "summary": ALL,
                "alert_count": len(alerts),
                "alerts": alerts,
            },
            {
                "incident": "INC-0002",
                "host": HOSTILE[1],
                "level": "low",
                "first": HOSTILE[3],
                "last": MB,
                "module": "",
                "summary": MB,
                "alert_count": 0,
                "alerts": [],
            },  # fmt: skip
        ],
        "suppressed": [_alert(0, HOSTILE[4], suppressed_by=ALL)],
        "summary": {
            "version": HOSTILE[0],
            "files": 1,
            "files_failed": 0,
            "formats": {HOSTILE[2]: 1},
            "records_read": 10,
            "records_skipped": 1,
            "skipped_by_reason": {ALL: 1},
            "skips": [{"source": HOSTILE[0], "locator": HOSTILE[2], "reason": HOSTILE[8], "detail": MB}],
            "filtered_by_time": 0,
            "alerts_by_type": {HOSTILE[0]: 1},
            "suppressed_by_entry": {ALL: 1},
            "warnings": [ALL],
        },
    }
