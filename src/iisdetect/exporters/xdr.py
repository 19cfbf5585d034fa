"""Compiled rules -> Microsoft Defender XDR custom detection rules (advanced-hunting KQL + metadata).

Output: a JSON list of bodies in the shape of Microsoft Graph's ``security/rules/detectionRules``
(beta) API (displayName, isEnabled, queryCondition.queryText, schedule.period, detectionAction
.alertTemplate with severity, category, mitreTechniques, impactedAssets), one per exportable rule,
for ``POST https://graph.microsoft.com/beta/security/rules/detectionRules`` or to paste into the
portal's "Create detection rule". A custom detection query must return ``Timestamp``, ``DeviceId``
and ``ReportId``: the queries keep every column of their table.

Queries come from :mod:`iisdetect.exporters.kql` with ``mapping/xdr.yaml``: Sysmon variants map to the
Device*Events table of the same kind of event; the signature fields of image loads come from a
DeviceFileCertificateInfo join; rules with no table (script blocks, IIS configuration, Application
log) are listed on stderr, not exported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from iisdetect.engine import ir
from iisdetect.exporters.base import TACTIC_NAMES, ExportReport, attack_ids, require_rules
from iisdetect.exporters.kql import KqlRenderer
from iisdetect.mapping.targets import TargetMapping, load_target_mapping

SEVERITY = {"informational": "informational", "low": "low", "medium": "medium", "high": "high", "critical": "high"}


def export_json(
    rules: Sequence[ir.CompiledRule], mapping: TargetMapping | None = None, report: ExportReport | None = None
) -> str:
    require_rules(rules)
    m = mapping or load_target_mapping("xdr")
    r = KqlRenderer(m, report)
    r.target = m.name
    period = (m.raw.get("rule") or {}).get("period", "1H")
    out = []
    for rule in rules:
        query = r.rule(rule)
        if not query:
            r.report.drop(rule.id, "no variant has an XDR table: rule not exported")
            continue
        tactics, techniques = attack_ids(rule)
        category = next((TACTIC_NAMES[t][1].replace(" ", "") for t in tactics if t in TACTIC_NAMES), "Persistence")
        out.append(
            {
                "displayName": rule.title,
                "isEnabled": True,
                "queryCondition": {"queryText": query},
                "schedule": {"period": period},
                "detectionAction": {
                    "alertTemplate": {
                        "title": rule.title,
                        "description": " ".join(rule.description.split()) + f" (Sigma rule {rule.id}, iisdetect)",
                        "severity": SEVERITY.get(rule.level, "medium"),
                        "category": category,
                        "mitreTechniques": techniques,
                        "impactedAssets": [
                            {"@odata.type": "#microsoft.graph.security.impactedDeviceAsset", "identifier": "deviceId"}
                        ],
                    },
                    "responseActions": [],
                },
            }
        )
    return json.dumps(out, indent=2) + "\n"
