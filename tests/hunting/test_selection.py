"""Rule selection: levels, statuses, tags (with or without the attack. prefix) and ids combine with AND."""

from __future__ import annotations

import pytest

from iisdetect.engine.ruleset import load_ruleset
from iisdetect.errors import UsageError
from iisdetect.hunting.selection import RuleSelection

RULES = load_ruleset("all")


def ids(sel: RuleSelection) -> set[str]:
    return {r.id for r in sel.apply(RULES)}


def test_each_criterion_and_their_combination() -> None:
    assert ids(RuleSelection()) == {r.id for r in RULES}
    high = ids(RuleSelection(min_level="high"))
    assert high and {r.id for r in RULES if r.level in ("high", "critical")} == high
    assert ids(RuleSelection(tags=("t1505.004",))) == ids(RuleSelection(tags=("attack.T1505.004",)))
    both = ids(RuleSelection(min_level="high", tags=("t1505.004",)))
    assert both == high & ids(RuleSelection(tags=("t1505.004",)))
    one = RULES[0]
    assert [r.id for r in RuleSelection(rule_ids=(one.id,)).apply(RULES)] == [one.id]


def test_bad_or_empty_selections_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--min-level"):
        RuleSelection(min_level="severe")
    with pytest.raises(UsageError, match="leaves no rule"):
        RuleSelection(tags=("attack.t9999",)).apply(RULES)
