"""Any text given as PromQL gets a parse result or a clean InvalidArgument, never another exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from alerting_server.errors import InvalidArgument
from alerting_server.query import parse
from alerting_server.validation import check_query

# Pieces of PromQL, so that generated text often gets deep into the grammar.
_PIECES = st.sampled_from(
    [
        *"(){}[],:@+-*/%^=!<>~\"'`#\n ",
        "up",
        "sum",
        "by",
        "rate",
        "offset",
        "bool",
        "on",
        "group_left",
        "and",
        "or",
        "unless",
        "atan2",
        "5m",
        "1e3",
        "0x1f",
        "Inf",
        "NaN",
        "=~",
        "!~",
        '"a.*"',
        "[5m:1m]",
        "vector(1)",
        "start()",
        "label_replace",
        "histogram_quantile",
    ]
)
_QUERIES = st.one_of(st.text(max_size=200), st.lists(_PIECES, max_size=80).map("".join))


@settings(max_examples=300, deadline=None, database=None)
@given(_QUERIES)
def test_any_text_parses_or_is_invalid_argument(query: str) -> None:
    for front_end in (check_query, parse):
        fields = []
        try:
            front_end(query)
        except InvalidArgument as e:
            fields = [v.field for v in e.violations] or ["none"]
        assert set(fields) <= {"query"}
