"""Rule intermediate representation: what a Sigma rule means, independent of any target.

pySigma parses the YAML and applies the field-mapping pipelines; ``compile.py`` lowers its
condition tree into these few node types once. Every evaluator and export (the local Python
engine, DuckDB SQL, QRadar AQL, ...) is a small function over this tree, so no condition is
ever written twice by hand.

Semantics shared by all targets:
- string matches are case-insensitive unless ``cased`` (Sigma's ``|cased`` modifier);
- a missing field never matches a string/regex/number test (``Null`` tests absence/emptiness);
- ``Glob.parts`` lists literal strings and the wildcard tokens ``STAR`` (``*``) and ``ONE`` (``?``);
  Sigma's escapes (``\\*``) are already resolved by pySigma, so literals never hold wildcards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

StrOp = Literal["eq", "startswith", "endswith", "contains"]

#: Wildcard tokens inside ``Glob.parts``.
STAR = object()
ONE = object()


@dataclass(frozen=True, slots=True)
class Str:
    """``field`` equals / starts with / ends with / contains ``value``."""

    field: str
    op: StrOp
    value: str
    cased: bool = False


@dataclass(frozen=True, slots=True)
class Glob:
    """A Sigma string with wildcards in the middle: ``parts`` are literals, ``STAR`` or ``ONE``."""

    field: str
    parts: tuple[object, ...]
    cased: bool = False


@dataclass(frozen=True, slots=True)
class Regex:
    """Search (not full match) with a Python/RE2-compatible pattern, as Sigma ``|re`` means."""

    field: str
    pattern: str
    ignore_case: bool = False


@dataclass(frozen=True, slots=True)
class Num:
    """Numeric equality (EventID, ports): compares the field as an integer."""

    field: str
    value: int


@dataclass(frozen=True, slots=True)
class Null:
    """The field is absent (Sigma ``field: null``). An empty value is ``Str(field, "eq", "")``."""

    field: str


@dataclass(frozen=True, slots=True)
class FieldRef:
    """Sigma ``|fieldref``: ``field`` equals (starts/ends with) the value of the field ``other``.

    Case-insensitive like every Sigma string test; false when either field is missing.
    """

    field: str
    other: str
    op: StrOp = "eq"


@dataclass(frozen=True, slots=True)
class Cidr:
    field: str
    network: str


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


@dataclass(frozen=True, slots=True)
class Const:
    """Always true/false (an empty selection, or a keyword search we decided to drop)."""

    value: bool


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A maintenance window on the event time (``TimeCreated``, UTC), as time and not as text.

    Why a node of its own: as date regexes a weekly window became thousands of characters per rule
    (AQL 4.5x larger, ES rejects regexes over 1,000 chars); every SIEM compares times and computes
    weekdays natively. True when ``start <= t < end`` (ISO ``YYYY-MM-DDTHH:MM:SS``, either bound
    optional) AND, if ``days`` is set, the weekday (0 = Monday) is in ``days`` and the minute of the
    day is in ``[day_start, day_end)`` (0 <= day_start < day_end <= 1440; a window crossing midnight
    is two nodes). An event without a parsable time is never inside a window.
    """

    field: str
    start: str | None = None
    end: str | None = None
    days: tuple[int, ...] = ()
    day_start: int = 0
    day_end: int = 1440


Node = Str | Glob | Regex | Num | Null | FieldRef | Cidr | And | Or | Not | Const | TimeWindow


@dataclass(frozen=True, slots=True)
class Source:
    """Where a rule variant applies: any of ``channels`` or ``providers`` AND any of ``event_ids``.

    Channel/provider comparisons are case-insensitive (OTRF writes ``security`` and ``Security``).
    ``derived`` names fields this source does not log but that the engine computes from fields it
    does (Security 4688 ``User`` from ``SubjectDomainName\\SubjectUserName``): pairs of (field name,
    derivation name in ``mapping.logsources.DERIVATIONS``).
    """

    name: str
    channels: tuple[str, ...]
    providers: tuple[str, ...]
    event_ids: tuple[int, ...]
    derived: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Variant:
    """One (source, condition) pair: the rule's condition after that source's field mapping."""

    source: Source
    condition: Node


#: Correlation roles a rule file may declare. ``registration`` names a component being registered,
#: ``config_change`` changes the configuration without naming one (a direct applicationHost.config
#: write), ``load``/``write`` show the component in w3wp or on disk, ``none`` takes no part in the join.
ROLES = ("registration", "config_change", "load", "write", "none")
#: roles on each side of the registration <-> load/write join
CAUSE_ROLES = frozenset({"registration", "config_change"})
EFFECT_ROLES = frozenset({"load", "write"})


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready for any target: metadata plus one condition per log-source variant."""

    id: str
    title: str
    level: str
    detection_type: str
    description: str
    path: str
    tags: tuple[str, ...]
    falsepositives: tuple[str, ...]
    variants: tuple[Variant, ...]
    ruleset: str = ""
    custom: dict[str, object] = field(default_factory=dict)
    #: how correlation uses the rule's alerts (``correlation_role`` in the rule file; see ``ROLES``)
    role: str = "none"

    def fields(self) -> set[str]:
        """Every event field any variant reads (used by exports and lints)."""
        out: set[str] = set()
        for v in self.variants:
            _collect_fields(v.condition, out)
        return out


def _collect_fields(node: Node, out: set[str]) -> None:
    if isinstance(node, And | Or):
        for item in node.items:
            _collect_fields(item, out)
    elif isinstance(node, Not):
        _collect_fields(node.item, out)
    elif isinstance(node, FieldRef):
        out.update((node.field, node.other))
    elif not isinstance(node, Const):
        out.add(node.field)


def any_of(nodes: list[Node] | tuple[Node, ...]) -> Node:
    """OR of nodes, without a one-item Or wrapper."""
    return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))
