"""Many instant queries at one timestamp, sharing the evaluation of their common part.

A rule set typically holds many queries of one kind: the same function over the same metric, each
picking its own series by label and comparing them to its own threshold
(`rate(http_requests_total{job="a"}[5m]) > 10`, `rate(http_requests_total{job="b"}[5m]) > 20`).
Evaluated one at a time, each pays the evaluator's whole per-query cost for a series or two. Here
the queries of one kind are evaluated together: their kind (`rate(http_requests_total[5m])`) once,
over the union of the series they select, then each query takes the rows of its own series back and
applies its own comparison.

A query qualifies when evaluating over a union and picking rows is exactly evaluating it alone:
- every row of its result comes from one input series alone: a selector naming its metric with an
  equality matcher, without `offset` or `@`, or a per-series range function of one;
- or it aggregates such an expression `by` labels that every one of its matchers is on
  (`avg by (host) (cpu_usage{host="db1"})`, `sum by (service) (rate(http_requests_total{service="a"}[1m]))`):
  whether a series is selected then depends only on the group it falls in, so each group of the
  union holds exactly the series the query alone would put there, and the query's rows are the
  groups its matchers accept;
optionally filtered by a comparison with a number (without `bool`). Anything else is left to
Engine.instant.
"""

from __future__ import annotations

import operator
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import promql_parser as pp

from alerting_server.query.ast import duration_ms, selector_matchers, unwrap_parens
from alerting_server.query.errors import QueryError
from alerting_server.query.extended import modifier_of
from alerting_server.query.labels import METRIC_NAME, Labels, Matcher, MatchType, drop_name
from alerting_server.query.storage import FlatSeries, Queryable, SeriesData

# Range functions whose value for a series is computed from that series' samples alone.
_PER_SERIES = frozenset(
    {
        "rate",
        "increase",
        "delta",
        "irate",
        "idelta",
        "deriv",
        "changes",
        "resets",
        "sum_over_time",
        "avg_over_time",
        "count_over_time",
        "max_over_time",
        "min_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "mad_over_time",
        "last_over_time",
        "first_over_time",
        "present_over_time",
    }
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}
_MIRROR = {"==": "==", "!=": "!=", ">": "<", "<": ">", ">=": "<=", "<=": ">="}
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# Aggregations without a parameter whose value for a group is computed from that group's rows alone.
_PER_GROUP = frozenset({"sum", "avg", "min", "max", "count", "group", "stddev", "stdvar"})

Rows = list[tuple[Labels, float]]


@runtime_checkable
class SharedStore(Protocol):
    """What the shared evaluation reads from the store: selection by ids (TSDB, DurableTSDB)."""

    def generation(self) -> int:
        """Changes whenever a series is created or removed."""
        ...

    def select_ids(self, matchers: Sequence[Matcher]) -> list[int]: ...

    def series_labels(self, ids: Iterable[int]) -> list[Labels]: ...

    def select_flat_ids(
        self, ids: Iterable[int], mint_ms: int, maxt_ms: int, *, last: bool = False
    ) -> FlatSeries: ...


@dataclass(frozen=True)
class Plan:
    """How one query is evaluated with others: its kind, its own matchers, its own comparison."""

    kind: str
    matchers: tuple[Matcher, ...]
    # `value <op> threshold` keeps a row (a comparison with the number on the left is mirrored).
    op: str | None = None
    threshold: float = 0.0
    # An aggregation: its rows are groups, picked by the matchers rather than by series.
    grouped: bool = False

    def keeps(self, value: float) -> bool:
        return self.op is None or _COMPARE[self.op](value, self.threshold)


def _selector_kind(vs: pp.VectorSelector) -> tuple[str, list[Matcher]] | None:
    if vs.offset is not None or vs.at is not None or modifier_of(vs) is not None:
        return None
    groups = selector_matchers(vs)
    if len(groups) != 1:
        return None
    names = [m.value for m in groups[0] if m.name == METRIC_NAME and m.type is MatchType.EQUAL]
    if len(names) != 1 or not _METRIC_NAME.fullmatch(names[0]):
        return None
    return names[0], groups[0]


def _series_kind(node: pp.Expr) -> tuple[str, list[Matcher]] | None:
    """The query without its matchers, when `node` is a selector or a per-series range function of one."""
    node = unwrap_parens(node)
    if isinstance(node, pp.VectorSelector):
        return _selector_kind(node)
    if not (isinstance(node, pp.Call) and node.func.name in _PER_SERIES and len(node.args) == 1):
        return None
    arg = unwrap_parens(node.args[0])
    if not isinstance(arg, pp.MatrixSelector):
        return None
    found = _selector_kind(arg.vector_selector)
    if found is None:
        return None
    name, matchers = found
    return f"{node.func.name}({name}[{duration_ms(arg.range)}ms])", matchers


def _grouped_kind(node: pp.Expr) -> tuple[str, list[Matcher]] | None:
    """The query without its matchers, when `node` aggregates a series kind by every label its
    matchers are on."""
    node = unwrap_parens(node)
    if not isinstance(node, pp.AggregateExpr) or node.param is not None or str(node.op) not in _PER_GROUP:
        return None
    modifier = node.modifier
    if modifier is None or modifier.type != pp.AggModifierType.By:
        return None
    by = sorted(set(modifier.labels))
    if not all(_LABEL_NAME.fullmatch(label) for label in by):
        return None
    found = _series_kind(node.expr)
    if found is None:
        return None
    inner, matchers = found
    if not all(m.name in by for m in matchers if not (m.name == METRIC_NAME and m.type is MatchType.EQUAL)):
        return None
    return f"{node.op} by ({', '.join(by)}) ({inner})", matchers


def _kind(node: pp.Expr) -> tuple[str, list[Matcher], bool] | None:
    found = _series_kind(node)
    if found is not None:
        return found[0], found[1], False
    grouped = _grouped_kind(node)
    return None if grouped is None else (grouped[0], grouped[1], True)


def plan(expr: pp.Expr) -> Plan | None:
    """The shared plan of a parsed query, or None when it must be evaluated on its own."""
    node = unwrap_parens(expr)
    if isinstance(node, pp.BinaryExpr):
        op = str(node.op)
        if op not in _COMPARE or (node.modifier is not None and node.modifier.return_bool):
            return None
        lhs, rhs = unwrap_parens(node.lhs), unwrap_parens(node.rhs)
        if isinstance(rhs, pp.NumberLiteral):
            found, threshold = _kind(lhs), float(rhs.val)
        elif isinstance(lhs, pp.NumberLiteral):
            found, threshold, op = _kind(rhs), float(lhs.val), _MIRROR[op]
        else:
            return None
        if found is None:
            return None
        return Plan(found[0], tuple(found[1]), op, threshold, found[2])
    found = _kind(node)
    return None if found is None else Plan(found[0], tuple(found[1]), grouped=found[2])


class _Union:
    """The store as the evaluator of a kind sees it: every selection is the union of the series picked."""

    def __init__(self, store: SharedStore, ids: list[int]) -> None:
        self._store = store
        self._ids = ids

    def select_flat(
        self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int, *, last: bool = False
    ) -> FlatSeries:
        return self._store.select_flat_ids(self._ids, mint_ms, maxt_ms, last=last)

    def select(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> list[SeriesData]:
        flat = self.select_flat(matchers, mint_ms, maxt_ms)
        o = flat.offsets
        starts = flat.start_timestamps
        return [
            SeriesData(
                labels,
                flat.timestamps[o[i] : o[i + 1]],
                flat.values[o[i] : o[i + 1]],
                histograms=None if flat.histograms is None else tuple(flat.histograms[o[i] : o[i + 1]]),
                start_timestamps=None if starts is None else starts[o[i] : o[i + 1]],
            )
            for i, labels in enumerate(flat.labels)
        ]


Evaluate = Callable[[Queryable, str, int], Rows]


def evaluate_shared(
    store: SharedStore, plans: Sequence[tuple[str, Plan]], t_ms: int, evaluate: Evaluate
) -> dict[str, Rows]:
    """The results at `t_ms` of the planned queries that share their kind with another one.

    `evaluate(storage, kind, t_ms)` runs one query on a store. A kind whose evaluation fails is left
    out, so that each of its queries fails on its own, with its own message."""
    kinds: dict[str, list[tuple[str, Plan]]] = {}
    for query, p in plans:
        kinds.setdefault(p.kind, []).append((query, p))
    out: dict[str, Rows] = {}
    selections = _selections.setdefault(store, {})
    if len(selections) > _MAX_SELECTIONS:
        selections.clear()
    for kind, members in kinds.items():
        if len(members) < 2:
            continue
        key = (kind, tuple(query for query, _ in members))
        generation = store.generation()
        selection = selections.get(key)
        if selection is None or selection.generation != generation:
            selection = selections[key] = _select(store, members, generation)
        picked, labels_of = selection.picked, selection.labels_of
        try:
            rows = evaluate(_Union(store, selection.union), kind, t_ms)
        except QueryError:
            continue
        if members[0][1].grouped:
            out.update(_pick_groups(rows, members))
            continue
        # Every series of a kind has the same name, so the labels without it tell the series apart.
        by_series = {drop_name(labels): (labels, value) for labels, value in rows}
        for (query, p), ids in zip(members, picked, strict=True):
            found = []
            for sid in ids:
                labels = labels_of.get(sid)
                row = None if labels is None else by_series.get(drop_name(labels))
                if row is not None and p.keeps(row[1]):
                    found.append(row)
            found.sort()
            out[query] = found
    return out


def _pick_groups(rows: Rows, members: list[tuple[str, Plan]]) -> dict[str, Rows]:
    """Each query's rows of an aggregation over the union: the groups its matchers accept (a label
    a group lacks reads as empty, as for a series). The groups are found through a query's first
    equality matcher when it has one."""
    values = [dict(labels) for labels, _ in rows]
    indexes: dict[str, dict[str, list[int]]] = {}
    out: dict[str, Rows] = {}
    for query, p in members:
        own = [m for m in p.matchers if m.name != METRIC_NAME]
        equal = next((m for m in own if m.type is MatchType.EQUAL), None)
        if equal is None:
            candidates: Iterable[int] = range(len(rows))
        else:
            index = indexes.get(equal.name)
            if index is None:
                index = indexes[equal.name] = {}
                for i, group in enumerate(values):
                    index.setdefault(group.get(equal.name, ""), []).append(i)
            candidates = index.get(equal.value, [])
        found = [
            rows[i]
            for i in candidates
            if p.keeps(rows[i][1]) and all(m.matches(values[i].get(m.name, "")) for m in own)
        ]
        found.sort()
        out[query] = found
    return out


@dataclass(frozen=True)
class _Selection:
    """The series the queries of a kind select, as of a generation of the store."""

    generation: int
    # Per query, the ids it selects.
    picked: list[list[int]]
    # The union of those, ordered by labels, and their labels.
    union: list[int]
    labels_of: dict[int, Labels]


# Per store, the selections of the kinds evaluated together, by kind and queries: a rule group asks
# for the same ones at every evaluation, and they only change when a series comes or goes.
_selections: weakref.WeakKeyDictionary[SharedStore, dict[tuple[str, tuple[str, ...]], _Selection]] = (
    weakref.WeakKeyDictionary()
)
_MAX_SELECTIONS = 100_000


def _select(store: SharedStore, members: list[tuple[str, Plan]], generation: int) -> _Selection:
    picked = [store.select_ids(p.matchers) for _, p in members]
    union = sorted({sid for ids in picked for sid in ids})
    labels_of = dict(zip(union, store.series_labels(union), strict=False))
    return _Selection(generation, picked, _by_labels(union, labels_of), labels_of)


def _by_labels(ids: list[int], labels_of: dict[int, Labels]) -> list[int]:
    present = [sid for sid in ids if sid in labels_of]
    present.sort(key=labels_of.__getitem__)
    return present
