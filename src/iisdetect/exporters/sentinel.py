"""Compiled rules -> Microsoft Sentinel scheduled analytics rules, as YAML or an ARM template.

YAML follows the Azure-Sentinel repository's ``Detections/*.yaml`` layout (id, name, severity,
requiredDataConnectors, queryFrequency/queryPeriod, trigger, tactics, relevantTechniques, query,
entityMappings, version, kind); the documents are written as one multi-document stream (split on
``---`` to keep one rule per file as the repository does). The ARM template is the shape Sentinel's
own "Export" writes and its Analytics "Import" reads: one
``Microsoft.OperationalInsights/workspaces/providers/alertRules`` resource per rule, workspace as a
parameter. Queries come from :mod:`iisdetect.exporters.kql` with ``mapping/sentinel.yaml``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import yaml

from iisdetect.engine import ir
from iisdetect.exporters.base import TACTIC_NAMES, ExportReport, attack_ids, require_rules
from iisdetect.exporters.kql import KqlRenderer
from iisdetect.mapping.targets import TargetMapping, load_target_mapping

SEVERITY = {"informational": "Informational", "low": "Low", "medium": "Medium", "high": "High", "critical": "High"}


class _Literal(str):
    """A string YAML writes as a ``|`` block (queries, descriptions)."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def _iso_duration(text: str) -> str:
    """``1h`` / ``30m`` / ``1d`` -> ISO 8601 (PT1H, PT30M, P1D) for ARM."""
    m = re.fullmatch(r"(\d+)([mhd])", text)
    if not m:
        return text
    n, u = m.groups()
    return f"P{n}D" if u == "d" else f"PT{n}{u.upper()}"


def sentinel_rules(
    rules: Sequence[ir.CompiledRule], mapping: TargetMapping | None = None, report: ExportReport | None = None
) -> list[dict[str, Any]]:
    """One dict per exportable rule in the Azure-Sentinel YAML vocabulary."""
    require_rules(rules)
    m = mapping or load_target_mapping("sentinel")
    r = KqlRenderer(m, report)
    r.target = m.name
    settings = m.raw.get("rule") or {}
    out = []
    for rule in rules:
        query = r.rule(rule)
        if not query:
            r.report.drop(rule.id, "no variant has a Sentinel table: rule not exported")
            continue
        tactics, techniques = attack_ids(rule)
        connectors = []
        for v in rule.variants:
            entry = m.source_entry(v.source) or {}
            conn = entry.get("connector")
            if conn and conn not in connectors:
                connectors.append(conn)
        host = settings.get("host_column", "Computer")
        out.append(
            {
                "id": rule.id,
                "name": rule.title,
                "description": _Literal(" ".join(rule.description.split()) + f"\nSigma rule {rule.id} (iisdetect)."),
                "severity": SEVERITY.get(rule.level, "Medium"),
                "requiredDataConnectors": connectors,
                "queryFrequency": settings.get("queryFrequency", "1h"),
                "queryPeriod": settings.get("queryPeriod", "1h"),
                "triggerOperator": "gt",
                "triggerThreshold": 0,
                "tactics": [TACTIC_NAMES[t][1].replace(" ", "") for t in tactics if t in TACTIC_NAMES],
                "relevantTechniques": techniques,
                "query": _Literal(f'{query}\n| extend DetectionType = "{rule.detection_type}"\n'),
                "entityMappings": [
                    {"entityType": "Host", "fieldMappings": [{"identifier": "HostName", "columnName": host}]}
                ],
                "customDetails": {"DetectionType": "DetectionType"},
                "version": "1.0.0",
                "kind": "Scheduled",
            }
        )
    return out


def export_yaml(rules: Sequence[ir.CompiledRule], mapping: TargetMapping | None = None,
                report: ExportReport | None = None) -> str:  # fmt: skip
    docs = sentinel_rules(rules, mapping, report)
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)


def export_arm(rules: Sequence[ir.CompiledRule], mapping: TargetMapping | None = None,
               report: ExportReport | None = None) -> str:  # fmt: skip
    resources = []
    for d in sentinel_rules(rules, mapping, report):
        techniques = [t for t in d["relevantTechniques"] if "." not in t]
        subs = [t for t in d["relevantTechniques"] if "." in t]
        techniques += [s.split(".")[0] for s in subs if s.split(".")[0] not in techniques]
        resources.append(
            {
                "id": "[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', "
                f"parameters('workspace'), 'Microsoft.SecurityInsights'),'/alertRules/{d['id']}')]",
                "name": f"[concat(parameters('workspace'),'/Microsoft.SecurityInsights/{d['id']}')]",
                "type": "Microsoft.OperationalInsights/workspaces/providers/alertRules",
                "kind": "Scheduled",
                "apiVersion": "2023-02-01-preview",
                "properties": {
                    "displayName": d["name"],
                    "description": str(d["description"]),
                    "severity": d["severity"],
                    "enabled": True,
                    "query": str(d["query"]),
                    "queryFrequency": _iso_duration(d["queryFrequency"]),
                    "queryPeriod": _iso_duration(d["queryPeriod"]),
                    "triggerOperator": "GreaterThan",
                    "triggerThreshold": 0,
                    "suppressionDuration": "PT5H",
                    "suppressionEnabled": False,
                    "tactics": d["tactics"],
                    "techniques": techniques,
                    "subTechniques": subs,
                    "entityMappings": d["entityMappings"],
                    "customDetails": d["customDetails"],
                },
            }
        )
    template = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"workspace": {"type": "String"}},
        "resources": resources,
    }
    return json.dumps(template, indent=2) + "\n"
