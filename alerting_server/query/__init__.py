"""The query engine: an embedded time-series store and a PromQL evaluator (Prometheus 3 semantics).

Engine(storage).instant(query, t_ms) / .range(query, start_ms, end_ms, step_ms) -> Result
analysis.analyse(query) -> Analysis: the query parsed once (value type, metrics read, shared plan)
TSDB / DurableTSDB: the store (append(batch) -> WriteResult, select(matchers, mint, maxt))
"""

from alerting_server.query.durable import DurableTSDB
from alerting_server.query.engine import Engine, parse
from alerting_server.query.errors import NativeHistogramsUnsupported, QueryError
from alerting_server.query.labels import Labels, Matcher, MatchType
from alerting_server.query.result import Result, ResultSeries, ValueKind
from alerting_server.query.storage import STALE_NAN, Queryable, SeriesData
from alerting_server.query.tsdb import TSDB, Sample, WriteResult

__all__ = [
    "STALE_NAN",
    "TSDB",
    "DurableTSDB",
    "Engine",
    "Labels",
    "MatchType",
    "Matcher",
    "NativeHistogramsUnsupported",
    "QueryError",
    "Queryable",
    "Result",
    "ResultSeries",
    "Sample",
    "SeriesData",
    "ValueKind",
    "WriteResult",
    "parse",
]
