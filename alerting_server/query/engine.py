"""The query engine: PromQL text in, a Result out (instant and range queries)."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterable
from typing import cast

import numpy as np
import promql_parser as pp

from alerting_server.errors import InvalidArgument
from alerting_server.query import durations, shared
from alerting_server.query.analysis import Analysis, analyse, analysed
from alerting_server.query.ast import unwrap_parens
from alerting_server.query.errors import QueryError
from alerting_server.query.evaluator import Evaluator
from alerting_server.query.features import USE_START_TIMESTAMPS, check_features
from alerting_server.query.labels import Labels, drop_name
from alerting_server.query.limits import DEFAULT_LIMITS, Budget, QueryLimits
from alerting_server.query.result import Result, ResultSeries, ValueKind
from alerting_server.query.steps import Matrix, Steps, StepSeries, Vector
from alerting_server.query.storage import Queryable

DEFAULT_LOOKBACK_MS = 5 * 60 * 1000
DEFAULT_SUBQUERY_STEP_MS = 60 * 1000
_ORDERING = {"sort", "sort_desc", "sort_by_label", "sort_by_label_desc"}


# The feature sets each analysed query has passed check_features with: rules run the same queries
# every evaluation, and the check walks the whole tree. Let go with the analysis.
_passed: weakref.WeakKeyDictionary[Analysis, set[frozenset[str]]] = weakref.WeakKeyDictionary()


def _check_features(analysis: Analysis, features: frozenset[str]) -> None:
    passed = _passed.get(analysis)
    if passed is not None and features in passed:
        return
    check_features(analysis.expr, features)
    _passed.setdefault(analysis, set()).add(features)


def parse(query: str) -> pp.Expr:
    """Parse PromQL; a syntax error, or a query too large to parse, is InvalidArgument."""
    return analyse(query).expr


def _plan(query: str) -> shared.Plan | None:
    found = analysed(query)
    return None if found is None else found.plan


_MAX_SHARED_PLANS = 100_000


@functools.cache
def _shares(storage_type: type) -> bool:
    # As evaluator._is_flat: a runtime Protocol check inspects the class every time.
    return issubclass(storage_type, shared.SharedStore)


class Engine:
    def __init__(
        self,
        storage: Queryable,
        *,
        lookback_ms: int = DEFAULT_LOOKBACK_MS,
        subquery_step_ms: int = DEFAULT_SUBQUERY_STEP_MS,
        limits: QueryLimits = DEFAULT_LIMITS,
        features: frozenset[str] = frozenset(),
    ) -> None:
        self.storage = storage
        self.lookback_ms = lookback_ms
        self.subquery_step_ms = subquery_step_ms
        self.limits = limits
        # Prometheus' --enable-feature names (query/features.py): experimental functions are off
        # unless enabled, as in Prometheus.
        self.features = features
        # Per query, its shared plan, or None when it is evaluated alone (instant_many): a rule
        # group asks for the same queries at every evaluation.
        self._shared_plans: dict[str, shared.Plan | None] = {}

    def _parse(self, query: str, step_ms: int = 0, range_ms: int = 0) -> tuple[str, Analysis]:
        """The query as evaluated, its duration expressions resolved for this step and range, and
        what is known of its tree."""
        found = durations.sites(query)
        if found:
            query = durations.resolve(query, found, step_ms, range_ms)
        analysis = analyse(query)
        _check_features(analysis, self.features)
        return query, analysis

    def _evaluator(self, query: str, start: int, end: int, step: int, analysis: Analysis) -> Evaluator:
        return Evaluator(
            self.storage,
            query,
            start,
            end,
            step,
            self.lookback_ms,
            self.subquery_step_ms,
            budget=Budget(self.limits),
            trims=analysis.trims,
            stats_selectors=analysis.stats_selectors,
            use_start_timestamps=USE_START_TIMESTAMPS in self.features,
        )

    def instant(self, query: str, t_ms: int) -> Result:
        query, analysis = self._parse(query)
        expr = analysis.expr
        ev = self._evaluator(query, t_ms, t_ms, 0, analysis)
        value = ev.eval(expr, Steps(t_ms, t_ms, 0))
        notes = ev.annotations
        if isinstance(value, str):
            return Result(
                ValueKind.STRING, string=value, t_ms=t_ms, warnings=notes.warnings, infos=notes.infos
            )
        if isinstance(value, np.ndarray):
            return Result(
                ValueKind.SCALAR,
                scalar=float(value[0]),
                t_ms=t_ms,
                warnings=notes.warnings,
                infos=notes.infos,
            )
        if isinstance(value, Matrix):
            series = [s for s in _windowed(value) if len(s.timestamps)]
            return Result(ValueKind.MATRIX, series, t_ms=t_ms, warnings=notes.warnings, infos=notes.infos)
        out = _instant_series(value, t_ms)
        top = unwrap_parens(expr)
        ordered = (isinstance(top, pp.Call) and top.func.name in _ORDERING) or (
            isinstance(top, pp.AggregateExpr) and str(top.op) in ("topk", "bottomk")
        )
        if ordered and ev.order is not None:
            rank = {labels: i for i, labels in enumerate(ev.order)}
            out.sort(key=lambda r: rank.get(r.labels, len(rank)))
        else:
            out.sort(key=lambda r: r.labels)
        return Result(ValueKind.VECTOR, out, t_ms=t_ms, warnings=notes.warnings, infos=notes.infos)

    def instant_many(self, queries: Iterable[str], t_ms: int) -> dict[str, list[tuple[Labels, float]]]:
        """Instant vectors of the queries that share their evaluation with others (query/shared.py),
        each exactly what instant() gives; the queries missing from the answer are for instant()."""
        if not _shares(type(self.storage)):
            return {}
        known = self._shared_plans
        if len(known) > _MAX_SHARED_PLANS:
            known.clear()
        plans = []
        for q in queries:
            if q in known:
                p = known[q]
            else:
                found = _plan(q)
                p = known[q] = found if found is not None and self._enabled(q) else None
            if p is not None:
                plans.append((q, p))
        if len(plans) < 2:
            return {}
        store = cast(shared.SharedStore, self.storage)
        return shared.evaluate_shared(store, plans, t_ms, self._rows_on)

    def _enabled(self, query: str) -> bool:
        try:
            self._parse(query)
        except InvalidArgument:
            return False
        return True

    def _rows_on(self, storage: Queryable, query: str, t_ms: int) -> list[tuple[Labels, float]]:
        engine = Engine(
            storage,
            lookback_ms=self.lookback_ms,
            subquery_step_ms=self.subquery_step_ms,
            limits=self.limits,
            features=self.features,
        )
        result = engine.instant(query, t_ms)
        if any(s.histogram_at(0) is not None for s in result.series):
            # Histogram samples have no float a threshold could pick: each query is evaluated alone.
            raise QueryError("histogram samples are not evaluated together")
        return [(s.labels, float(s.values[0])) for s in result.series]

    def range(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> Result:
        if step_ms <= 0:
            raise InvalidArgument.field(
                "step", "zero or negative query resolution step widths are not accepted"
            )
        if end_ms < start_ms:
            raise InvalidArgument.field("end", "end timestamp must not be before start time")
        query, analysis = self._parse(query, step_ms, end_ms - start_ms)
        expr = analysis.expr
        ev = self._evaluator(query, start_ms, end_ms, step_ms, analysis)
        span = Steps(start_ms, end_ms, step_ms)
        value = ev.eval(expr, span)
        notes = ev.annotations
        times = span.times
        if isinstance(value, np.ndarray):
            return Result(
                ValueKind.MATRIX,
                [ResultSeries((), times, value.copy())],
                t_ms=end_ms,
                warnings=notes.warnings,
                infos=notes.infos,
            )
        if isinstance(value, str | Matrix):
            kind = "string" if isinstance(value, str) else "range vector"
            raise QueryError(
                f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector'
            )
        merged: dict[Labels, StepSeries] = {}
        for s in _cleanup(list(value)):
            prior = merged.get(s.labels)
            hists = None if s.histograms is None else s.histograms.copy()
            if prior is None:
                merged[s.labels] = StepSeries(s.labels, s.values.copy(), s.present.copy(), histograms=hists)
                continue
            if (prior.present & s.present).any():
                raise QueryError("vector cannot contain metrics with the same labelset")
            prior.values[s.present] = s.values[s.present]
            prior.present |= s.present
            if hists is not None:
                if prior.histograms is None:
                    prior.histograms = np.full(len(prior.values), None, dtype=object)
                prior.histograms[s.present] = hists[s.present]
        out = [
            ResultSeries(
                labels,
                times[s.present],
                s.values[s.present],
                None if s.histograms is None else s.histograms[s.present].tolist(),
            )
            for labels, s in sorted(merged.items())
            if s.present.any()
        ]
        return Result(ValueKind.MATRIX, out, t_ms=end_ms, warnings=notes.warnings, infos=notes.infos)


def _instant_series(vector: Vector, t_ms: int) -> list[ResultSeries]:
    """The series with a sample at the one step, their __name__ dropped where Prometheus 3 does."""
    rows = np.flatnonzero(vector.present[:, 0]).tolist()
    names = vector.labels
    dropping = vector.drop_name.tolist()
    labels = [drop_name(names[i]) if dropping[i] else names[i] for i in rows]
    if len(set(labels)) != len(labels):
        raise QueryError("vector cannot contain metrics with the same labelset")
    values = vector.values[rows, :1]
    times = np.full((len(rows), 1), t_ms, dtype=np.int64)
    if vector.histograms is not None:
        hists = vector.histograms[rows, :1]
        return [ResultSeries(lbl, times[j], values[j], hists[j].tolist()) for j, lbl in enumerate(labels)]
    return [ResultSeries(lbl, times[j], values[j]) for j, lbl in enumerate(labels)]


def _cleanup(vector: list[StepSeries]) -> list[StepSeries]:
    """Apply the delayed __name__ removal of Prometheus 3."""
    return [
        StepSeries(drop_name(s.labels), s.values, s.present, histograms=s.histograms) if s.drop_name else s
        for s in vector
        if s.present.any()
    ]


def _windowed(matrix: Matrix) -> list[ResultSeries]:
    end = int(matrix.window_end[0])
    out = []
    for s in matrix.series:
        keep = (s.timestamps > end - matrix.range_ms) & (s.timestamps <= end)
        labels = drop_name(s.labels) if s.drop_name else s.labels
        hists = (
            None
            if s.histograms is None
            else [h for h, k in zip(s.histograms, keep.tolist(), strict=True) if k]
        )
        out.append(ResultSeries(labels, s.timestamps[keep], s.values[keep], hists))
    return out
