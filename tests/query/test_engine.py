import math
import re

import pytest

from alerting_server.errors import InvalidArgument
from alerting_server.query.engine import Engine
from alerting_server.query.errors import QueryError
from alerting_server.query.labels import Labels, from_mapping
from alerting_server.query.result import ValueKind
from alerting_server.query.storage import STALE_NAN
from alerting_server.query.tsdb import TSDB, Sample

MIN = 60_000


def series(name: str, values: list[float], step_ms: int = MIN, **labels: str) -> list[Sample]:
    key = from_mapping({"__name__": name, **labels})
    return [Sample(key, i * step_ms, v) for i, v in enumerate(values)]


@pytest.fixture
def engine() -> Engine:
    db = TSDB()
    db.append(series("http_requests_total", [float(i * 60) for i in range(11)], job="api", instance="1"))
    db.append(series("http_requests_total", [float(i * 120) for i in range(11)], job="api", instance="2"))
    db.append(series("errors_total", [float(i * 6) for i in range(11)], job="api", instance="1"))
    db.append(series("temp", [20.0, 21.0, STALE_NAN], job="lab"))
    for le, count in (("0.1", 1.0), ("0.5", 3.0), ("+Inf", 4.0)):
        db.append(series("lat_bucket", [0.0, count * 60], step_ms=5 * MIN, le=le))
    return Engine(db)


def instant(engine: Engine, query: str, t_ms: int) -> dict[tuple[tuple[str, str], ...], float]:
    result = engine.instant(query, t_ms)
    assert result.kind is ValueKind.VECTOR
    return {s.labels: float(s.values[0]) for s in result.series}


@pytest.mark.parametrize(
    ("query", "t_ms", "expected"),
    [
        (
            "rate(http_requests_total[5m])",
            10 * MIN,
            {(("instance", "1"), ("job", "api")): 1.0, (("instance", "2"), ("job", "api")): 2.0},
        ),
        ("sum by (job) (rate(http_requests_total[5m]))", 10 * MIN, {(("job", "api"),): 3.0}),
        ("sum(rate(errors_total[5m])) / sum(rate(http_requests_total[5m]))", 10 * MIN, {(): 0.1 / 3.0}),
        (
            "http_requests_total > 1000",
            10 * MIN,
            {(("__name__", "http_requests_total"), ("instance", "2"), ("job", "api")): 1200.0},
        ),
        ("temp", 1 * MIN + 30_000, {(("__name__", "temp"), ("job", "lab")): 21.0}),
        ("temp", 2 * MIN, {}),  # the stale marker ends the series at once
        ("temp offset 1m", 2 * MIN, {(("__name__", "temp"), ("job", "lab")): 21.0}),
        ("temp", 7 * MIN, {}),  # outside the 5m lookback
        ("histogram_quantile(0.5, rate(lat_bucket[10m]))", 5 * MIN, {(): 0.3}),
        ('absent(nothing{job="x"})', 0, {(("job", "x"),): 1.0}),
    ],
)
def test_instant_queries(engine: Engine, query: str, t_ms: int, expected: dict[Labels, float]) -> None:
    got = instant(engine, query, t_ms)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert math.isclose(got[key], value, rel_tol=1e-9)


def test_range_query_steps_and_left_open_windows(engine: Engine) -> None:
    result = engine.range('increase(http_requests_total{instance="1"}[2m])', 2 * MIN, 4 * MIN, MIN)
    assert result.kind is ValueKind.MATRIX
    (only,) = result.series
    assert only.timestamps.tolist() == [2 * MIN, 3 * MIN, 4 * MIN]
    assert only.values.tolist() == pytest.approx([120.0, 120.0, 120.0])
    assert "__name__" not in only.labels_dict


def test_scalar_and_string_results(engine: Engine) -> None:
    assert engine.instant("1 + 2 * 3", 0).scalar == 7.0
    assert engine.instant('"hello"', 0).string == "hello"
    assert engine.range("time()", 0, 2 * MIN, MIN).series[0].values.tolist() == [0.0, 60.0, 120.0]


def test_many_to_many_matching_is_an_error_with_prometheus_message(engine: Engine) -> None:
    with pytest.raises(QueryError, match="found duplicate series for the match group"):
        engine.instant("errors_total / on(job) http_requests_total", 10 * MIN)


def test_parse_errors_are_invalid_argument(engine: Engine) -> None:
    with pytest.raises(InvalidArgument):
        engine.instant("sum(rate(x[5m])", 0)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ('sort_by_label(http_requests_total, "instance")', 'function "sort_by_label" is not enabled'),
        ("mad_over_time(temp[5m])", 'function "mad_over_time" is not enabled'),
        ("sum(limitk(1, http_requests_total))", "limitk() is experimental"),
        ("limit_ratio(0.5, http_requests_total)", "limit_ratio() is experimental"),
    ],
)
def test_experimental_functions_need_their_feature(engine: Engine, query: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(reason)):
        engine.instant(query, 10 * MIN)
    with pytest.raises(InvalidArgument, match=re.escape(reason)):
        engine.range(query, 0, 10 * MIN, MIN)
    enabled = Engine(engine.storage, features=frozenset({"promql-experimental-functions"}))
    assert enabled.instant(query, 10 * MIN).kind is ValueKind.VECTOR


def test_type_and_unit_labels_go_with_the_metric_name() -> None:
    db = TSDB()
    kept = from_mapping(
        {"__name__": "cpu_seconds_total", "__type__": "counter", "__unit__": "seconds", "job": "api"}
    )
    db.append([Sample(kept, 0, 1.0), Sample(kept, MIN, 2.0)])
    engine = Engine(db)
    assert instant(engine, "cpu_seconds_total", MIN) == {kept: 2.0}
    assert instant(engine, "cpu_seconds_total > 1", MIN) == {kept: 2.0}
    assert instant(engine, "cpu_seconds_total * 2", MIN) == {(("job", "api"),): 4.0}
    assert instant(engine, "cpu_seconds_total + on(job) cpu_seconds_total", MIN) == {(("job", "api"),): 4.0}
    assert instant(engine, "rate(cpu_seconds_total[2m])", MIN) == {(("job", "api"),): 1 / 60}
    ratio = "cpu_seconds_total / ignoring(job) cpu_seconds_total"
    assert instant(engine, ratio, MIN) == {(): 1.0}
