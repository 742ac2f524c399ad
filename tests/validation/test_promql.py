from __future__ import annotations

import pytest

from alerting_server.errors import InvalidArgument
from alerting_server.query.analysis import ValueType
from alerting_server.validation.promql import check_query


@pytest.mark.parametrize(
    ("query", "value_type", "names"),
    [
        ("avg(cpu_usage) > 80", ValueType.VECTOR, {"cpu_usage"}),
        ('rate(http_requests_total{code=~"5.."}[5m])', ValueType.VECTOR, {"http_requests_total"}),
        ("up[5m]", ValueType.MATRIX, {"up"}),
        ("max_over_time(rate(a[1m])[5m:1m])", ValueType.VECTOR, {"a"}),
        ("rate(a[1m])[5m:1m]", ValueType.MATRIX, {"a"}),
        ("1 + 2", ValueType.SCALAR, set()),
        ("time()", ValueType.SCALAR, set()),
        ("-(scalar(x))", ValueType.SCALAR, {"x"}),
        ("scalar(x) * 2", ValueType.SCALAR, {"x"}),
        ("x * 2", ValueType.VECTOR, {"x"}),
        ('"text"', ValueType.STRING, set()),
        ('{__name__="up", job="api"}', ValueType.VECTOR, {"up"}),
        ("a / on(host) group_left b unless c", ValueType.VECTOR, {"a", "b", "c"}),
        ("absent(nothing_here)", ValueType.VECTOR, {"nothing_here"}),
        ('count_values("v", build_info)', ValueType.VECTOR, {"build_info"}),
        ("sum by (job) (x offset 5m)", ValueType.VECTOR, {"x"}),
    ],
)
def test_value_type_and_metric_names(query: str, value_type: ValueType, names: set[str]) -> None:
    info = check_query(query)
    assert info.value_type is value_type
    assert info.metric_names == names


def test_reads_named_metrics_only() -> None:
    info = check_query("avg(cpu_usage) > on() scalar(cpu_limit)")
    assert info.reads("cpu_usage")
    assert info.reads("cpu_limit")
    assert not info.reads("mem_usage")
    assert info.name_matchers == ()


def test_reads_by_name_regex() -> None:
    info = check_query('sum({__name__=~"mem_.*", __name__!="mem_free"})')
    assert info.metric_names == frozenset()
    assert info.reads("mem_used")
    assert not info.reads("mem_free")
    assert not info.reads("cpu")


def test_selector_without_a_name_reads_every_metric() -> None:
    info = check_query('count({job="api"})')
    assert info.reads("anything")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        # Prometheus' messages, with the position.
        ("sum(", "invalid PromQL: 1:5: parse error: unclosed left parenthesis"),
        ("foo{", "invalid PromQL: 1:5: parse error: unexpected end of input inside braces"),
        (
            "rate(x)",
            "invalid PromQL: 1:6: parse error: "
            'expected type range vector in call to function "rate", got instant vector',
        ),
        ("nosuchfn(x)", 'invalid PromQL: 1:1: parse error: unknown function with name "nosuchfn"'),
        ("$x > 1", "invalid PromQL: 1:1: parse error: unexpected character: '$'"),
        ('{__name__=~"(?=a)"}', "invalid PromQL"),
        # Rust's regex engine knows the verbose flag; Go's RE2 does not.
        ('{__name__=~"(?x)a b"}', "invalid or unsupported Perl syntax: `(?x`"),
        ("x" * 70000, "must be at most"),
    ],
)
def test_invalid_queries_name_the_field(query: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        check_query(query, field="expr")
    [violation] = info.value.violations
    assert violation.field == "expr"
    assert message in violation.description
