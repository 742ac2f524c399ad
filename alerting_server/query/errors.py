"""Errors of query evaluation (a parse error is alerting_server.errors.InvalidArgument)."""

from __future__ import annotations

from alerting_server.errors import AlertingError


class QueryError(AlertingError):
    """An evaluation error, worded as Prometheus words it (e.g. many-to-many matching)."""

    code = "INVALID_ARGUMENT"


class NativeHistogramsUnsupported(QueryError):
    """The query reads native-histogram samples, which this engine does not evaluate."""

    code = "UNIMPLEMENTED"

    def __init__(self, what: str = "") -> None:
        super().__init__("native histograms are not supported" + (f": {what}" if what else ""))


class TooManySamples(QueryError):
    """The query would hold more samples at once than `query.max_samples` (Prometheus' words)."""

    code = "RESOURCE_EXHAUSTED"

    def __init__(self) -> None:
        super().__init__("query processing would load too many samples into memory in query execution")


class QueryTimeout(QueryError):
    """The evaluation ran past `query.timeout` and was stopped (Prometheus' words)."""

    code = "DEADLINE_EXCEEDED"

    def __init__(self) -> None:
        super().__init__("query timed out in expression evaluation")
