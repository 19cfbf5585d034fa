"""Which loaded rules a hunt runs: ``--min-level``, ``--status``, ``--tags``, ``--rule-id``.

The same switches the field's tools offer (Hayabusa's min level / status / tag filters, Chainsaw's
``--level``/``--status``). Applied after loading, before compiling detectors, so an export and a
hunt with the same selection run the same rules. A selection that leaves no rule is a usage error
(a hunt with no rule would say "no alerts" about nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from iisdetect.engine.ir import CompiledRule
from iisdetect.errors import UsageError
from iisdetect.hunting.alerts import LEVELS, rule_status

STATUSES = ("stable", "test", "experimental", "deprecated", "unsupported")


@dataclass(frozen=True)
class RuleSelection:
    """Every given criterion must hold (AND); within ``statuses``/``tags``/``rule_ids`` any may match (OR)."""

    min_level: str | None = None
    statuses: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.min_level is not None and self.min_level not in LEVELS:
            raise UsageError(f"--min-level {self.min_level!r}: choose from {', '.join(LEVELS)}")
        bad = [s for s in self.statuses if s not in STATUSES]
        if bad:
            raise UsageError(f"--status {bad[0]!r}: choose from {', '.join(STATUSES)}")

    @property
    def active(self) -> bool:
        return bool(self.min_level or self.statuses or self.tags or self.rule_ids)

    def keeps(self, rule: CompiledRule) -> bool:
        if self.min_level and LEVELS.index(rule.level if rule.level in LEVELS else "medium") < LEVELS.index(
            self.min_level
        ):
            return False
        if self.statuses and (rule_status(rule) or "") not in self.statuses:
            return False
        if self.tags:
            have = {t.lower() for t in rule.tags}
            want = {t.lower() if t.lower().startswith("attack.") else f"attack.{t.lower()}" for t in self.tags}
            want |= {t.lower() for t in self.tags}
            if not have & want:
                return False
        return not self.rule_ids or rule.id in self.rule_ids or rule.title in self.rule_ids

    def apply(self, rules: Sequence[CompiledRule]) -> list[CompiledRule]:
        if not self.active:
            return list(rules)
        kept = [r for r in rules if self.keeps(r)]
        if not kept:
            raise UsageError(f"the rule selection ({self.describe()}) leaves no rule to run")
        missing = [i for i in self.rule_ids if not any(i in (r.id, r.title) for r in rules)]
        if missing:
            raise UsageError(f"--rule-id {missing[0]}: no loaded rule has this id or title")
        return kept

    def describe(self) -> str:
        parts = []
        if self.min_level:
            parts.append(f"min level {self.min_level}")
        if self.statuses:
            parts.append("status " + "|".join(self.statuses))
        if self.tags:
            parts.append("tags " + "|".join(self.tags))
        if self.rule_ids:
            parts.append("rule id " + "|".join(self.rule_ids))
        return ", ".join(parts) or "all rules"

    def to_dict(self) -> dict:
        return {
            "min_level": self.min_level,
            "statuses": list(self.statuses),
            "tags": list(self.tags),
            "rule_ids": list(self.rule_ids),
        }
