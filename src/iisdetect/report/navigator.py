"""``--format navigator``: an ATT&CK Navigator layer, one technique per ATT&CK tag, scored by alert count.

Layer format version 4.5 (mitre-attack/attack-navigator, layers/spec/v4.5/layerformat.md): required
``name``, ``domain`` and ``versions.layer`` = "4.5" (``versions.navigator`` at least 4.9.0); each
technique is ``{"techniqueID": "T####[.###]", "score": n}``; a gradient needs ``maxValue`` >
``minValue``. Sub-techniques (T1505.004) are kept as such and their parent is marked with
``showSubtechniques`` so the Navigator opens it. Techniques of rules that ran but did not fire are
listed without a score (with a comment), so the layer also shows coverage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import IO, Any

import orjson

from iisdetect import __version__
from iisdetect.engine.ir import CompiledRule
from iisdetect.hunting.alerts import Alert, attack_ids

LAYER_VERSION = "4.5"
NAVIGATOR_VERSION = "5.2.0"
ATTACK_VERSION = "18"


def layer(alerts: list[Alert], rules: list[CompiledRule], name: str = "iisdetect hunt") -> dict[str, Any]:
    return layer_from_counts(((a.rule, 1) for a in alerts), rules, name)


def layer_from_counts(
    fired: Iterable[tuple[CompiledRule, int]], rules: list[CompiledRule], name: str = "iisdetect hunt"
) -> dict[str, Any]:
    """The layer from (rule, alerts it raised) pairs: all a spooled run needs, without loading alerts."""
    counts: Counter[str] = Counter()
    titles: dict[str, set[str]] = {}
    total = 0
    for rule, n in fired:
        total += n
        for t in attack_ids(rule.tags):
            counts[t] += n
            titles.setdefault(t, set()).add(rule.title)
    covered = {t for r in rules for t in attack_ids(r.tags)}
    techniques = []
    for t in sorted(covered | set(counts)):
        entry: dict[str, Any] = {"techniqueID": t}
        if counts[t]:
            entry["score"] = counts[t]
            entry["comment"] = f"{counts[t]} alert(s): " + "; ".join(sorted(titles[t]))
        else:
            entry["comment"] = "covered by a rule that ran; no alert"
        techniques.append(entry)
    parents = {t.split(".")[0] for t in counts if "." in t}
    for p in sorted(parents):
        existing = next((e for e in techniques if e["techniqueID"] == p), None)
        if existing is None:
            techniques.append({"techniqueID": p, "showSubtechniques": True})
        else:
            existing["showSubtechniques"] = True
    top = max(counts.values(), default=0)
    return {
        "name": name,
        "versions": {"attack": ATTACK_VERSION, "navigator": NAVIGATOR_VERSION, "layer": LAYER_VERSION},
        "domain": "enterprise-attack",
        "description": f"Alerts per technique from iisdetect {__version__} ({total} alert(s))",
        "filters": {"platforms": ["Windows"]},
        "sorting": 3,
        "layout": {"layout": "side", "showID": True, "showName": True, "expandedSubtechniques": "annotated"},
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": ["#ffe766", "#ff6666"], "minValue": 0, "maxValue": max(top, 1)},
        "legendItems": [],
        "metadata": [{"name": "generator", "value": f"iisdetect {__version__}"}],
    }


def render_navigator(alerts: list[Alert], rules: list[CompiledRule], out: IO[str]) -> None:
    out.write(orjson.dumps(layer(alerts, rules), option=orjson.OPT_INDENT_2).decode() + "\n")
