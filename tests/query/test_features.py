"""PromQL features behind `query.enable_features`: refused with a parse error naming the feature when
off, Prometheus' semantics when on."""

import re

import pytest

from alerting_server.errors import InvalidArgument
from alerting_server.query.analysis import ValueType, analyse
from alerting_server.query.engine import Engine
from alerting_server.query.errors import QueryError
from alerting_server.query.labels import from_mapping
from alerting_server.query.result import ValueKind
from alerting_server.query.tsdb import TSDB, Sample

SEC = 1000
ALL = frozenset({"promql-duration-expr"})


@pytest.fixture
def db() -> TSDB:
    db = TSDB()
    key = from_mapping({"__name__": "counter_total", "job": "api"})
    db.append([Sample(key, i * SEC, float(i)) for i in range(101)])
    return db


def values(engine: Engine, query: str, t_ms: int) -> list[float]:
    result = engine.instant(query, t_ms)
    assert result.kind is ValueKind.VECTOR
    return [float(s.values[0]) for s in result.series]


@pytest.mark.parametrize(
    "query",
    [
        "counter_total[1m+1m]",
        "counter_total offset (5s*2)",
        "counter_total offset -step()",
        "count_over_time(counter_total[5s+5s])",
        "sum_over_time(counter_total[1m:min_of(10s, 1m)])",
    ],
)
def test_duration_expressions_need_no_feature_as_in_prometheus_3(db: TSDB, query: str) -> None:
    # promql-duration-expr is permanent in Prometheus 3: the flag is accepted and changes nothing.
    plain, flagged = Engine(db).instant(query, 50 * SEC), Engine(db, features=ALL).instant(query, 50 * SEC)
    assert plain.series
    assert [(s.labels, s.values.tolist()) for s in plain.series] == [
        (s.labels, s.values.tolist()) for s in flagged.series
    ]


def test_literal_durations_need_no_feature(db: TSDB) -> None:
    engine = Engine(db)
    assert values(engine, "count_over_time(counter_total[10s])", 50 * SEC) == [10.0]
    assert values(engine, "counter_total offset -5s", 50 * SEC) == [55.0]
    assert values(engine, "counter_total offset 5s + 1", 50 * SEC) == [46.0]


def test_duration_arithmetic_in_ranges_subqueries_and_offsets(db: TSDB) -> None:
    engine = Engine(db, features=ALL)
    assert values(engine, "count_over_time(counter_total[5s+5s])", 50 * SEC) == [10.0]
    assert values(engine, "count_over_time(counter_total[1m/6])", 50 * SEC) == [10.0]
    assert values(engine, "count_over_time(counter_total[20s:2*5s])", 50 * SEC) == [2.0]
    assert values(engine, "counter_total offset (2*5s)", 50 * SEC) == [40.0]
    assert values(engine, "counter_total offset -(2*5s)", 50 * SEC) == [60.0]
    # Without parentheses the offset takes one operand: (counter_total offset 10) + 2.
    assert values(engine, "counter_total offset 10 + 2", 50 * SEC) == [42.0]
    assert values(engine, "counter_total offset (10 - 10)", 50 * SEC) == [50.0]


def test_step_and_range_come_from_the_query(db: TSDB) -> None:
    engine = Engine(db, features=ALL)
    result = engine.range("count_over_time(counter_total[step()])", 50 * SEC, 60 * SEC, 5 * SEC)
    assert [float(v) for v in result.series[0].values] == [5.0, 5.0, 5.0]
    result = engine.range("counter_total offset max_of(range(), 1s)", 50 * SEC, 60 * SEC, 5 * SEC)
    assert [float(v) for v in result.series[0].values] == [40.0, 45.0, 50.0]
    # An instant query's step and range are 0.
    assert values(engine, "counter_total offset range()", 50 * SEC) == [50.0]
    with pytest.raises(QueryError, match="duration must be greater than 0"):
        engine.instant("count_over_time(counter_total[step()])", 50 * SEC)
    with pytest.raises(QueryError, match="division by zero"):
        engine.instant("counter_total offset (1m / (step()))", 50 * SEC)


def test_analysis_reads_duration_expressions_as_literals() -> None:
    found = analyse("rate(http_requests_total[step()*4]) > on(job) group_left up offset (1h/2)")
    assert found.value_type is ValueType.VECTOR
    assert found.metric_names == {"http_requests_total", "up"}
    assert found.plan is None
    assert not found.time_invariant


@pytest.fixture
def sides() -> TSDB:
    db = TSDB()
    for name, label, value in (("l", "a", 1.0), ("l", "b", 2.0), ("r", "a", 10.0), ("r", "c", 30.0)):
        key = from_mapping({"__name__": name, "label": label})
        db.append([Sample(key, 0, value), Sample(key, 60 * SEC, value)])
    return db


def by_label(engine: Engine, query: str) -> dict[str, float]:
    result = engine.instant(query, 60 * SEC)
    return {dict(s.labels)["label"]: float(s.values[0]) for s in result.series}


@pytest.mark.parametrize("query", ["l + fill(0) r", "l * on(label) fill_left(1) r", "l > fill_right(0) r"])
def test_fill_modifiers_are_a_parse_error_without_their_feature(sides: TSDB, query: str) -> None:
    reason = "binop fill modifiers are experimental and not enabled"
    with pytest.raises(InvalidArgument, match=reason) as e:
        Engine(sides, features=frozenset({"promql-experimental-functions"})).instant(query, 60 * SEC)
    assert "query.enable_features: [promql-binop-fill-modifiers]" in str(e.value)


def test_fill_modifiers_stand_in_for_the_missing_side(sides: TSDB) -> None:
    engine = Engine(sides, features=frozenset({"promql-binop-fill-modifiers"}))
    assert by_label(engine, "l + r") == {"a": 11.0}
    assert by_label(engine, "l + fill(100) r") == {"a": 11.0, "b": 102.0, "c": 130.0}
    assert by_label(engine, "l - fill_left(5) r") == {"a": -9.0, "c": -25.0}
    assert by_label(engine, "l - fill_right(5) r") == {"a": -9.0, "b": -3.0}
    assert by_label(engine, "l - fill_left(1) fill_right(2) r") == {"a": -9.0, "b": 0.0, "c": -29.0}
    # A comparison keeps the left value where it holds; a filled left side has no metric name.
    result = engine.instant("l < fill(20) r", 60 * SEC)
    assert {s.labels: float(s.values[0]) for s in result.series} == {
        (("__name__", "l"), ("label", "a")): 1.0,
        (("__name__", "l"), ("label", "b")): 2.0,
        (("label", "c"),): 20.0,
    }
    assert by_label(engine, "nothing + fill(0) r") == {"a": 10.0, "c": 30.0}


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("l + fill(0) 1", "filling in missing series only allowed between instant vectors"),
        ("l and fill(0) r", "filling in missing series not allowed for set operators"),
    ],
)
def test_fill_modifiers_only_between_instant_vectors(sides: TSDB, query: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        Engine(sides, features=frozenset({"promql-binop-fill-modifiers"})).instant(query, 60 * SEC)


@pytest.fixture
def infos() -> TSDB:
    db = TSDB()
    rows = (
        ({"__name__": "up", "instance": "a", "job": "api"}, 1.0),
        ({"__name__": "up", "instance": "b", "job": "api"}, 0.0),
        ({"__name__": "target_info", "instance": "a", "job": "api", "region": "eu", "zone": "1"}, 1.0),
        ({"__name__": "build_info", "instance": "a", "job": "api", "version": "2.1"}, 1.0),
    )
    for labels, value in rows:
        db.append([Sample(from_mapping(labels), t * SEC, value) for t in range(0, 61, 15)])
    return db


def labelled(engine: Engine, query: str) -> dict[str, dict[str, str]]:
    result = engine.instant(query, 60 * SEC)
    return {dict(s.labels)["instance"]: dict(s.labels) for s in result.series}


def test_info_is_a_parse_error_without_experimental_functions(infos: TSDB) -> None:
    with pytest.raises(InvalidArgument, match=re.escape('function "info" is not enabled')) as raised:
        Engine(infos).instant("info(up)", 60 * SEC)
    assert "query.enable_features: [promql-experimental-functions]" in str(raised.value)


def test_info_adds_the_data_labels_of_the_matching_info_series(infos: TSDB) -> None:
    engine = Engine(infos, features=frozenset({"promql-experimental-functions"}))
    found = labelled(engine, "info(up)")
    assert found["a"] == {"__name__": "up", "instance": "a", "job": "api", "region": "eu", "zone": "1"}
    # A series with no info series is kept as it is.
    assert found["b"] == {"__name__": "up", "instance": "b", "job": "api"}
    # Only the labels the selector names; one that cannot be empty drops the series with no match.
    assert labelled(engine, 'info(up, {region=~".+"})') == {
        "a": {"__name__": "up", "instance": "a", "job": "api", "region": "eu"}
    }
    # A selector whose matchers all match the empty string (promql-parser alone refuses it).
    assert labelled(engine, 'info(up, {region=~".*"})')["b"] == {
        "__name__": "up",
        "instance": "b",
        "job": "api",
    }
    both = labelled(engine, 'info(up, {__name__=~".+_info"})')["a"]
    assert both["version"] == "2.1"
    assert both["region"] == "eu"
    with pytest.raises(InvalidArgument, match="expected label selectors only"):
        engine.instant("info(up, build_info)", 60 * SEC)


def test_analysis_takes_an_info_selector_matching_the_empty_string() -> None:
    found = analyse('info(rate(http_requests_total[5m]), {k8s_cluster_name=~".*"})')
    assert found.value_type is ValueType.VECTOR
    assert "http_requests_total" in found.metric_names


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("x[" + "(" * 3000 + "1m" + ")" * 3000 + "]", "nests deeper than 32 levels"),
        ("x[" + "-" * 5000 + "1m]", "has more than 128 operators"),
    ],
)
def test_duration_expressions_are_bounded_before_they_are_read(db: TSDB, query: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        Engine(db, features=ALL).instant(query, 50 * SEC)


def test_a_rate_tells_of_each_metric_it_read_that_may_not_be_a_counter_however_it_was_selected() -> None:
    db = TSDB()
    for name in ("requests", "reqs_total", "bytes"):
        key = from_mapping({"__name__": name, "job": "api"})
        db.append([Sample(key, i * SEC, float(i)) for i in range(101)])
    engine = Engine(db)
    by_pattern = engine.instant('sum(rate({__name__=~"req.*|bytes"}[1m]))', 50 * SEC)
    assert by_pattern.infos == [
        "PromQL info: metric might not be a counter, name does not end in "
        f'_total/_sum/_count/_bucket: "{name}" (1:10)'
        for name in ("bytes", "requests")
    ]
    by_name = engine.instant("rate(reqs_total[1m]) + rate(bytes[1m])", 50 * SEC)
    assert by_name.infos == [
        "PromQL info: metric might not be a counter, name does not end in "
        '_total/_sum/_count/_bucket: "bytes" (1:29)'
    ]
    assert engine.instant("rate(missing[1m])", 50 * SEC).infos == []


def test_annotations_point_into_a_query_with_duration_expressions() -> None:
    db = TSDB()
    key = from_mapping({"__name__": "requests", "job": "api"})
    db.append([Sample(key, i * SEC, float(i)) for i in range(101)])
    engine = Engine(db, features=ALL)
    result = engine.instant('1 + rate(requests{job="api"}[1m+1m])', 50 * SEC)
    assert result.infos == [
        "PromQL info: metric might not be a counter, name does not end in "
        '_total/_sum/_count/_bucket: "requests" (1:10)'
    ]
