"""PromQL queries as the API takes them: they parse, and their field is named when they do not."""

from __future__ import annotations

from alerting_server.errors import InvalidArgument
from alerting_server.query.analysis import Analysis, QuerySyntaxError, analyse


def check_query(query: str, field: str = "query") -> Analysis:
    """The query's analysis; InvalidArgument on `field` with the parser's message when it is not PromQL."""
    if not query.strip():
        raise InvalidArgument.field(field, "must not be empty")
    try:
        analysis = analyse(query)
    except QuerySyntaxError as e:
        raise InvalidArgument.field(field, f"invalid PromQL: {e.reason}") from None
    except InvalidArgument as e:
        # Too large to parse: query/bounds.py says why.
        raise InvalidArgument.field(field, e.violations[0].description) from None
    if analysis.problem is not None:
        raise InvalidArgument.field(field, f"invalid PromQL: {analysis.problem}")
    return analysis
