"""Which rules of a group a write can change: the metric names each rule reads.

A rule whose inputs got no new sample would evaluate to what it returned before, so an
evaluation caused by a write only needs the rules reading a written metric, plus the rules
later in the group that read what those record (a recording rule feeds the rules after it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import promql_parser as pp

from alerting_server.errors import InvalidArgument
from alerting_server.model import Rule, RuleType
from alerting_server.query.ast import nodes
from alerting_server.query.engine import parse
from alerting_server.validation.promql import QueryInfo, check_query


def query_info(query: str) -> QueryInfo | None:
    """None when the query does not parse: the rule then reads nothing and fails when evaluated."""
    try:
        return check_query(query)
    except InvalidArgument:
        return None


# Functions of their arguments' values only: with no new sample they give what they gave before.
_VALUE_FUNCTIONS = frozenset(
    (
        *("abs", "ceil", "floor", "round", "exp", "ln", "log2", "log10", "sqrt", "sgn", "deg", "rad"),
        *("clamp", "clamp_max", "clamp_min", "label_replace", "label_join"),
        *("sort", "sort_desc", "sort_by_label", "sort_by_label_desc"),
        *("acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh"),
    )
)


def time_invariant(query: str) -> bool:
    """Whether an empty result stays empty until a metric it reads gets a sample.

    Instant selectors without offset or @ see the same latest samples (or, once stale, none);
    range selectors, subqueries, offsets and clock functions (time, absent, vector) can change
    with the evaluation time alone, so they are evaluated every time.
    """
    try:
        expr = parse(query)
    except InvalidArgument:
        return False
    for node in nodes(expr):
        if isinstance(node, pp.VectorSelector):
            invariant = node.offset is None and node.at is None
        elif isinstance(node, pp.Call):
            invariant = node.func.name in _VALUE_FUNCTIONS
        else:
            invariant = isinstance(
                node, pp.BinaryExpr | pp.AggregateExpr | pp.ParenExpr | pp.UnaryExpr | pp.NumberLiteral
            )
        if not invariant:
            return False
    return True


class GroupReads:
    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = list(rules)
        self._infos = [query_info(r.query) for r in rules]
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
