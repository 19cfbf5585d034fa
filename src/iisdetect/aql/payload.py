"""SQL for the emulator's ``payload`` column, in one of three shapes (mapping ``emulator_payload``).

QRadar keeps the raw event as the payload, and what that text looks like depends on the collector:

- ``wincollect``: WinCollect's syslog line, tab-separated ``key=value`` pairs after a header
  (feasibility.md 1.4 shows a real one: ``AgentLogFile=Microsoft-Windows-Sysmon/Operational``,
  ``Source=Microsoft-Windows-Sysmon``, ...);
- ``xml``: the event's own XML, as agentless forwarders (Windows Event Forwarding via syslog
  gateways) deliver it: ``<Provider Name="..."/>`` ... ``<Channel>...</Channel>``;
- ``json``: one JSON object (``"Channel":"..."``, ``"ProviderName":"..."``), as NXLog-style
  forwarders send it.

An exported query tests the channel with one pattern per shape (mapping ``export.channel_tests``),
and the export tests run with each shape, so a rule does not depend on WinCollect.
"""

from __future__ import annotations

from collections.abc import Callable

Quote = Callable[[str], str]


def _xml_text(expr: str) -> str:
    return f"replace(replace(replace({expr}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"


def payload_sql(fmt: str, data_cols: list[tuple[str, str]], quote: Quote, sql_str: Quote) -> str:
    """``data_cols``: (stored column, Windows name) for every EventData column."""
    if fmt == "xml":
        data = [
            f"CASE WHEN {quote(c)} IS NOT NULL THEN {sql_str('<Data Name=' + chr(34) + name + chr(34) + '>')} || "
            f"{_xml_text(quote(c))} || '</Data>' ELSE '' END"
            for c, name in data_cols
        ]
        parts = [
            "'<Event><System><Provider Name=\"' || " + _xml_text('"Provider_Name"') + " || '\"/>'",
            "'<EventID>' || \"EventID\" || '</EventID>'",
            "'<EventRecordID>' || COALESCE(CAST(\"EventRecordID\" AS VARCHAR), '') || '</EventRecordID>'",
            "'<Channel>' || " + _xml_text('"Channel"') + " || '</Channel>'",
            "'<Computer>' || " + _xml_text('"Computer"') + " || '</Computer></System><EventData>'",
            *data,
            "'</EventData></Event>'",
        ]
        return "concat(" + ", ".join(parts) + ")"
    if fmt == "json":
        pairs = [
            "'Channel', \"Channel\"", "'ProviderName', \"Provider_Name\"", "'EventID', \"EventID\"",
            "'Computer', \"Computer\"", "'EventRecordID', \"EventRecordID\"",
            *(f"{sql_str(name)}, {quote(c)}" for c, name in data_cols),
        ]  # fmt: skip
        return "CAST(json_object(" + ", ".join(pairs) + ") AS VARCHAR)"
    tab = "chr(9)"
    parts = [
        "'<13>' || strftime(make_timestamp(starttime * 1000), '%b %d %H:%M:%S') || ' ' || \"Computer\""
        " || ' AgentDevice=WindowsLog'",
        "'AgentLogFile=' || \"Channel\"",
        "'Source=' || \"Provider_Name\"", "'Computer=' || \"Computer\"", "'EventID=' || \"EventID\"",
        "'RecordNumber=' || CAST(\"EventRecordID\" AS VARCHAR)",
        *(f"CASE WHEN {quote(c)} IS NOT NULL THEN {sql_str(name + '=')} || {quote(c)} END" for c, name in data_cols),
    ]  # fmt: skip
    return f"concat_ws({tab}, {', '.join(parts)}) || {tab}"
