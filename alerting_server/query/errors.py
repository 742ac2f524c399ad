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
