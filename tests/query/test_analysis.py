from __future__ import annotations

import pytest

from alerting_server.errors import InvalidArgument
from alerting_server.model import Rule, RuleType
from alerting_server.query.analysis import Analysis, QuerySyntaxError, ValueType, analyse, analysed
from alerting_server.query.engine import parse
from alerting_server.query.sizedcache import SizedCache
from alerting_server.rules.reads import GroupReads
from alerting_server.validation.promql import check_query


def test_one_parse_serves_validation_evaluation_and_the_read_index() -> None:
    query = 'rate(requests_total{job="analysis-one"}[5m]) > 3'
    found = analyse(query)
    assert check_query(query) is found
    assert parse(query) is found.expr
    assert analysed(query) is found
    assert found.value_type is ValueType.VECTOR
    assert found.metric_names == {"requests_total"}
    assert found.plan is not None
    assert found.plan.threshold == 3.0
    assert GroupReads([Rule(name="r", query=query)]).affected(["requests_total"]) == [0]


@pytest.mark.parametrize(
    ("query", "invariant"),
    [
        ("up == 0", True),
        ('abs(sum by (job) (x{job="a"})) > -(2)', True),
        ("up offset 5m == 0", False),
        ("up @ 100 == 0", False),
        ("rate(x[5m]) > 0", False),
        ("max_over_time(x[5m:1m])", False),
        ("absent(up)", False),
        ("vector(time()) > 0", False),
    ],
)
def test_time_invariant(query: str, invariant: bool) -> None:
    assert analyse(query).time_invariant is invariant


def test_a_regex_re2_refuses_parses_but_reads_nothing_known() -> None:
    query = '{__name__=~"(?x)a b"}'
    found = analyse(query)
    assert found.problem is not None
    assert "(?x" in found.problem
    assert not found.reads("a")
    assert not found.reads("ab")
    assert found.plan is None
    assert GroupReads([Rule(name="r", type=RuleType.RECORDING, query=query)]).affected(["ab"]) == []


def test_errors_are_not_held() -> None:
    assert analysed("sum(") is None
    with pytest.raises(QuerySyntaxError) as info:
        analyse("sum(")
    assert info.value.reason == "1:5: parse error: unclosed left parenthesis"
    with pytest.raises(InvalidArgument, match="characters"):
        analyse("x" * 70_000)


def test_the_cache_is_bounded_by_the_size_of_the_trees() -> None:
    cache: SizedCache[str, Analysis] = SizedCache(160)
    held = analyse("analysis_bound")
    for n in range(16):
        cache.put(str(n), held, 10)
    assert cache.get("0") is held
    # Past the bound the least recently used goes first.
    cache.put("16", held, 10)
    assert cache.get("1") is None
    assert cache.get("0") is held
    assert cache.get("16") is held
    # A tree larger than a sixteenth of the room is not held at all.
    cache.put("large", held, 11)
    assert cache.get("large") is None


def test_series_keys_say_what_a_series_must_have_to_be_selected() -> None:
    query = 'sum(a{x="1", y=~"2"}) / on() b{x="", y="3"} + c{p="q" or r="s"} + {__name__="d"}'
    keys = analyse(query + ' + {__name__=~"e.*"}').series_keys
    assert keys == {("a", "x", "1"), ("b", "y", "3"), ("c", "p", "q"), ("c", "r", "s"), ("d", "", "")}
