"""The custom event properties an exported query needs, as a definition QRadar's REST API imports.

On QRadar a query that names a property the console does not have fails as a whole, and one that
names a disabled property returns nothing (IBM: https://www.ibm.com/docs/ja/SSKMKU/com.ibm.qradar.doc/r_aql_c_prop_examples.html).
So ``export --properties FILE`` writes every non-normalized property the query names, with the
Windows fields it stands for and a Java regex that extracts it, in the shapes of the two REST
endpoints that create them (https://juniper.net/documentation/us/en/software/jsa7.5.0/jsa-rest-api-v170/topics/ref/17.0--config-event_sources-custom_properties-regex_properties-POST.html
and ``.../property_expressions-POST.html``, IBM's API as Juniper's OEM copy documents it):

- ``regex_properties``: ``POST /api/config/event_sources/custom_properties/regex_properties``
  bodies (``name``, ``description``, ``property_type``, ``use_for_rule_engine``);
- ``property_expressions``: ``POST /api/config/event_sources/custom_properties/property_expressions``
  bodies, with ``regex_property_name`` standing in for ``regex_property_identifier`` (the id the
  first call returns), ``log_source_type_id`` 12, ``regex`` and ``capture_group``.

``ibm_property`` is true for the names IBM's Windows DSM / pySigma mapping already uses ("Process
Path", "Command", ...): a console with the Windows DSM and content extensions may have them, in
which case skip them. The regex is a starting point (mapping ``export.property_regex``): it reads
WinCollect's ``Field=value`` pairs and the rendered ``Field: value`` message; check it against
your payloads in the console's property editor.
"""

from __future__ import annotations

import re
from typing import Any

from iisdetect.mapping.qradar import QRadarMapping

#: QRadar's own normalized event columns: they need no custom property.
NORMALIZED = {
    "username", "sourceip", "destinationip", "sourceport", "destinationport", "payload", "starttime",
    "devicetime", "endtime", "qid", "logsourceid", "devicetype", "category", "highlevelcategory", "eventcount",
}  # fmt: skip


def definitions(used: dict[str, set[str]], mapping: QRadarMapping) -> dict[str, Any]:
    """``used``: property -> Windows fields (a Renderer's ``used`` after rendering a query)."""
    normalized = NORMALIZED | {c.lower() for c in mapping.event_fields}
    ibm = set(mapping.ibm_sources())
    tmpl = str(mapping.export["property_regex"])
    props, exprs = [], []
    for name in sorted(used, key=str.lower):
        if name.lower() in normalized:
            continue
        fields = sorted(used[name])
        props.append({
            "name": name, "description": f"Windows field(s) {', '.join(fields)} (iisdetect export)",
            "property_type": "string", "use_for_rule_engine": True, "ibm_property": name in ibm,
            "windows_fields": fields,
        })  # fmt: skip
        for f in fields:
            exprs.append({
                "regex_property_name": name, "log_source_type_id": mapping.default_devicetype, "enabled": True,
                "regex": tmpl.format(field=re.escape(f)), "capture_group": 1,
            })  # fmt: skip
    return {"regex_properties": props, "property_expressions": exprs}
