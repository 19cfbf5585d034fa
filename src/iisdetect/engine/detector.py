"""The matcher a hunt runs: routes an event to the few rules that can match it, then runs their
predicates (compiled from the IR by ``engine/evaluate.py``).

Why its own module: the evaluator's node compiler is shared with tuning and tests; the routing,
pools and lazy compilation are the hunt's concern.
"""

from __future__ import annotations

from collections.abc import Iterable

from iisdetect.engine import ir
from iisdetect.engine.evaluate import (
    Getter,
    Predicate,
    _get,
    compile_node,
    derived_getters,
    file_by_event_id,
    ir_fields,
)
from iisdetect.engine.index import Atom, PoolIndex, constraint, field_key
from iisdetect.model.event import Event


class Detector:
    """Matches events against compiled rules. Build once per run; ``match`` is the hot path.

    Routing: EventID (a dict lookup), then channel/provider (a pool computed once per combination),
    then the rule index (``engine/index.py``: one lowered value and one scan per field for all rules
    of the pool), then the full predicate of the few candidates. ``indexed=False`` skips the index
    and runs every predicate of the pool (the reference the index is tested against; a debug aid).
    """

    def __init__(self, rules: Iterable[ir.CompiledRule], indexed: bool = True) -> None:
        self.rules = list(rules)
        self.indexed = indexed
        #: every (channels, providers, variant, rule) in rule order; pools hold positions
        self._entries: list[_Entry] = []
        self._getters: dict[str, Getter] = {}
        self._by_id: dict[int, list[int]] = {}
        self._any: list[int] = []
        for rule in self.rules:
            for variant in rule.variants:
                src = variant.source
                pos = len(self._entries)
                chans = frozenset(c.lower() for c in src.channels)
                self._entries.append((chans, frozenset(p.lower() for p in src.providers), variant, rule))
                file_by_event_id(self._by_id, self._any, variant, pos)
        #: position -> (predicate, index atoms), compiled when a pool first needs the entry: a hunt
        #: over a few EventIDs never compiles the rest (the default ruleset's 5,000 IR nodes cost a
        #: one-event hunt 40 ms of its start-up when all were compiled up front)
        self._compiled: dict[int, tuple[Predicate, list[tuple[Atom, ...]]]] = {}
        self.event_ids = frozenset(self._by_id) if not self._any else None
        self._pools: dict[tuple[int, str, str], PoolIndex] = {}
        #: pools with the same entries share one index (hostile channel names cannot multiply them)
        self._indexes: dict[tuple[int, ...], PoolIndex] = {}

    def match(self, event: Event) -> list[ir.CompiledRule]:
        """Rules that fire on ``event`` (each rule at most once, in rule order)."""
        key = (event.event_id, event.channel, event.provider)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pool(*key)
        entries = pool.entries
        hits: list[ir.CompiledRule] = []
        for pos in pool.candidates(event) if self.indexed else range(len(entries)):
            pred, rule = entries[pos]
            if pred(event) and rule not in hits:
                hits.append(rule)
        return hits

    def _compile(self, pos: int) -> tuple[Predicate, list[tuple[Atom, ...]]]:
        """The entry's predicate and index atoms (and its fields' getters), built once."""
        done = self._compiled.get(pos)
        if done is None:
            variant = self._entries[pos][2]
            src = variant.source
            derived = derived_getters(src)
            derivations = dict(src.derived)
            for field in ir_fields(variant.condition):
                self._getters.setdefault(field_key(field, derivations), _get(field, derived))
            atoms = constraint(variant.condition, derivations) if self.indexed else []
            done = self._compiled[pos] = (compile_node(variant.condition, derived), atoms)
        return done

    def _pool(self, event_id: int, channel: str, provider: str) -> PoolIndex:
        """The entries whose source admits this (EventID, channel, provider), computed once per
        combination (a run sees a few dozen), so the per-event loop only runs predicates."""
        chan, prov = channel.lower(), provider.lower()
        cands = sorted(self._by_id.get(event_id, []) + self._any)
        chosen = tuple(p for p in cands if chan in self._entries[p][0] or prov in self._entries[p][1])
        pool = self._indexes.get(chosen)
        if pool is None:
            compiled = [self._compile(p) for p in chosen]
            preds = [(c[0], self._entries[p][3]) for c, p in zip(compiled, chosen, strict=True)]
            pool = PoolIndex(preds, [c[1] for c in compiled], self._getters)
            self._indexes[chosen] = pool
        if len(self._pools) < 100_000:  # bounded: hostile input could vary channel names forever
            self._pools[(event_id, channel, provider)] = pool
        return pool


#: (lowered channels, lowered providers, the variant, its rule); predicates: ``Detector._compile``
_Entry = tuple[frozenset[str], frozenset[str], ir.Variant, ir.CompiledRule]
