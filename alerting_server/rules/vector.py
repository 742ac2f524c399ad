"""The seam between rules and the query engine: an instant query at a timestamp, as a vector."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from alerting_server.query.datasources import LocalEngine
from alerting_server.query.errors import QueryError
from alerting_server.query.histogram import FloatHistogram
from alerting_server.query.labels import Labels
from alerting_server.query.result import Result, ValueKind


@dataclass(frozen=True)
class VectorSample:
    """One element of a rule's result. A native-histogram sample has `histogram` set and, as in
    Prometheus (promql.Sample.F of a histogram sample), a value of 0."""

    labels: Labels
    value: float
    histogram: FloatHistogram | None = None


QueryFunc = Callable[[str, int], list[VectorSample]]


class EngineQuery:
    """rules.EngineQueryFunc: a scalar becomes one label-less sample, anything else but a vector fails.

    On the embedded engine, many queries at one timestamp can also be evaluated together (many)."""

    def __init__(self, engine: LocalEngine) -> None:
        self._engine = engine

    def __call__(self, expr: str, t_ms: int) -> list[VectorSample]:
        return vector_of(self._engine.instant(expr, t_ms))

    def many(self, exprs: Iterable[str], t_ms: int) -> dict[str, list[VectorSample]]:
        """The results of those of `exprs` that the engine evaluates together; the others are missing."""
        found = self._engine.instant_many(exprs, t_ms)
        return {expr: [VectorSample(labels, value) for labels, value in rows] for expr, rows in found.items()}


def engine_query_func(engine: LocalEngine) -> EngineQuery:
    return EngineQuery(engine)


class Prefetched:
    """A QueryFunc answering the queries evaluated ahead at `ts` from their results, the rest as usual."""

    def __init__(self, query: QueryFunc, ts: int, results: Mapping[str, list[VectorSample]]) -> None:
        self._query = query
        self._ts = ts
        self._results = results

    def __call__(self, expr: str, t_ms: int) -> list[VectorSample]:
        if t_ms == self._ts:
            found = self._results.get(expr)
            if found is not None:
                return found
        return self._query(expr, t_ms)


def vector_of(result: Result) -> list[VectorSample]:
    if result.kind is ValueKind.SCALAR:
        return [VectorSample((), result.scalar)]
    if result.kind is not ValueKind.VECTOR:
        raise QueryError("rule result is not a vector or scalar")
    out = []
    for s in result.series:
        h = s.histogram_at(0)
        out.append(
            VectorSample(s.labels, float(s.values[0])) if h is None else VectorSample(s.labels, 0.0, h)
        )
    return out
