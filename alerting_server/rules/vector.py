"""The seam between rules and the query engine: an instant query at a timestamp, as a vector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alerting_server.query.datasources import LocalEngine
from alerting_server.query.errors import QueryError
from alerting_server.query.labels import Labels
from alerting_server.query.result import Result, ValueKind


@dataclass(frozen=True)
class VectorSample:
    labels: Labels
    value: float


QueryFunc = Callable[[str, int], list[VectorSample]]


def engine_query_func(engine: LocalEngine) -> QueryFunc:
    """rules.EngineQueryFunc: a scalar becomes one label-less sample, anything else but a vector fails."""

    def query(expr: str, t_ms: int) -> list[VectorSample]:
        return vector_of(engine.instant(expr, t_ms))

    return query


def vector_of(result: Result) -> list[VectorSample]:
    if result.kind is ValueKind.SCALAR:
        return [VectorSample((), result.scalar)]
    if result.kind is not ValueKind.VECTOR:
        raise QueryError("rule result is not a vector or scalar")
    return [VectorSample(s.labels, float(s.values[0])) for s in result.series]
