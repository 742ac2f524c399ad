"""Which rules of a group a write can change: the metric names each rule reads.

A rule whose inputs got no new sample would evaluate to what it returned before, so an
evaluation caused by a write only needs the rules reading a written metric, plus the rules
later in the group that read what those record (a recording rule feeds the rules after it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from alerting_server.model import Rule, RuleType
from alerting_server.query.analysis import Analysis, analysed


def known_reads(query: str) -> Analysis | None:
    """None when the metrics the query reads are unknown: it does not parse, or validation refuses
    it; the rule then reads nothing and fails when evaluated."""
    found = analysed(query)
    return found if found is not None and found.problem is None else None


class GroupReads:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = list(rules)
        self._infos = [known_reads(r.query) for r in rules]
        # Exact names answer most writes with one dict lookup; pattern selectors are checked one by one.
        self._by_name: dict[str, list[int]] = {}
        self._patterned: list[int] = []
        for i, info in enumerate(self._infos):
            if info is None:
                continue
            for name in info.metric_names:
                self._by_name.setdefault(name, []).append(i)
            if info.name_matchers:
                self._patterned.append(i)

    @property
    def metric_names(self) -> frozenset[str]:
        return frozenset(self._by_name)

    @property
    def has_patterns(self) -> bool:
        return bool(self._patterned)

    def _reading(self, name: str) -> list[int]:
        hits = list(self._by_name.get(name, ()))
        for i in self._patterned:
            info = self._infos[i]
            if info is not None and info.reads(name):
                hits.append(i)
        return hits

    def affected(self, names: Iterable[str]) -> list[int]:
        """Positions of the rules whose result may change after a write of `names`, in group order."""
        hit: set[int] = set()
        for name in names:
            hit.update(self._reading(name))
        return self.closure(hit)

    def closure(self, positions: Iterable[int]) -> list[int]:
        """`positions` and the rules after them reading what they record, in group order."""
        hit = set(positions)
        if not hit:
            return []
        # Downstream of a recording rule that will run: the rules after it reading its metric.
        for i in range(len(self._rules)):
            rule = self._rules[i]
            if i in hit and rule.type is RuleType.RECORDING:
                hit.update(j for j in self._reading(rule.name) if j > i)
        return sorted(hit)
