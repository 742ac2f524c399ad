"""Hostile PromQL against a real server: refused or stopped with Prometheus' errors, never a crash,
and never holding up the event loop (so gRPC, REST and notifications keep being served)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from alerting.client import AlertingClient
from alerting.client.errors import AlertingError
from alerting_server.errors import InvalidArgument
from alerting_server.model import Rule
from alerting_server.model.rule import RuleHealth
from alerting_server.query import TSDB, Engine
from alerting_server.query.errors import QueryTimeout, TooManySamples
from alerting_server.query.limits import QueryLimits
from alerting_server.rules.group import Group
from alerting_server.rules.vector import engine_query_func
from tests.integration.server import ServerProcess, started_server

MAX_SAMPLES = 200_000
TIMEOUT = "1s"
TOO_MANY_SAMPLES = {
    "status": "error",
    "errorType": "execution",
    "error": "query processing would load too many samples into memory in query execution",
}
TIMED_OUT = {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"}
# 11,000 steps of a Python-level window function, eight times over: seconds of work, few samples.
SLOW = " + ".join(["quantile_over_time(0.5, vector(1)[10m:1s])"] * 8)
SLOW_RANGE = {"query": SLOW, "start": "0", "end": "10999", "step": "1s"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir: Path = tmp_path_factory.mktemp("limits")
    proc = started_server(workdir, f"query:\n  max_samples: {MAX_SAMPLES}\n  timeout: {TIMEOUT}\n")
    yield proc
    proc.kill()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def _alive(server: ServerProcess, http: httpx.Client) -> None:
    assert server.proc is not None
    assert server.proc.poll() is None, "".join(server.output[-20:])
    assert http.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        # promql-parser's time and memory grow with the square of this (6,000 terms: 4 GB, then SIGSEGV).
        ("+".join(["1"] * 500), "has more than 128 operators"),
        # Its stack overflows long before this: the whole process died of SIGSEGV.
        ("(" * 20_000 + "1" + ")" * 20_000, "nests deeper than 32 levels of brackets"),
        ("-" * 200 + "1", "has more than 128 operators"),
    ],
    ids=["terms", "parentheses", "unary"],
)
def test_a_query_too_large_to_parse_is_bad_data_and_the_server_lives(
    server: ServerProcess, http: httpx.Client, query: str, reason: str
) -> None:
    r = http.post("/api/v1/query", data={"query": query, "time": "0"})
    assert r.status_code == 400, r.text
    assert r.json() == {"status": "error", "errorType": "bad_data", "error": f"query: {reason}"}
    r = http.post("/rules", json={"name": "big", "query": query, "duration": "0s"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"] == [{"field": "query", "description": reason}]
    _alive(server, http)


def test_what_prometheus_parses_still_parses(http: httpx.Client) -> None:
    query = "+".join(["1"] * 100)
    r = http.get("/api/v1/query", params={"query": query, "time": "0"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["result"] == [0, "100"]
    nested = "(" * 30 + "1" + ")" * 30
    assert http.get("/api/v1/query", params={"query": nested, "time": "0"}).status_code == 200


def test_too_many_samples_is_prometheus_execution_error(server: ServerProcess, http: httpx.Client) -> None:
    # Three days of one-second steps: 259,201 samples of the subquery alone.
    query = "count_over_time(vector(1)[3d:1s])"
    r = http.get("/api/v1/query", params={"query": query, "time": str(3 * 86400)})
    assert r.status_code == 422, r.text
    assert r.json() == TOO_MANY_SAMPLES
    with AlertingClient.connect(server.grpc_target) as client, pytest.raises(AlertingError) as caught:
        client.query(query, time_ms=3 * 86400 * 1000)
    assert caught.value.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    # A smaller one of the same kind is answered.
    r = http.get("/api/v1/query", params={"query": "count_over_time(vector(1)[1d:1s])", "time": "86400"})
    assert r.json()["data"]["result"] == [{"metric": {}, "value": [86400, "86400"]}]
    _alive(server, http)


def test_a_subquery_of_millions_of_steps_is_refused_before_it_is_made(
    server: ServerProcess, http: httpx.Client
) -> None:
    # 86,400,001 steps: ran for seconds and ended in MemoryError.
    r = http.get("/api/v1/query", params={"query": "count_over_time(vector(1)[1d:1ms])", "time": "86400"})
    assert r.status_code == 422, r.text
    assert r.json() == TOO_MANY_SAMPLES
    _alive(server, http)


def test_a_query_past_the_timeout_is_stopped_with_prometheus_timeout(
    server: ServerProcess, http: httpx.Client
) -> None:
    started = time.monotonic()
    r = http.get("/api/v1/query_range", params=SLOW_RANGE)
    elapsed = time.monotonic() - started
    assert r.status_code == 503, r.text
    assert r.json() == TIMED_OUT
    # The whole evaluation takes several times the 1s timeout; it was stopped, not waited for.
    assert elapsed < 4, elapsed
    with AlertingClient.connect(server.grpc_target) as client, pytest.raises(AlertingError) as caught:
        client.query_range(SLOW, start_ms=0, end_ms=10_999_000, step_ms=1000)
    assert caught.value.code is grpc.StatusCode.DEADLINE_EXCEEDED
    _alive(server, http)


def test_the_event_loop_serves_others_while_a_query_runs(server: ServerProcess, http: httpx.Client) -> None:
    finished: dict[str, float] = {}

    def expensive() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as other:
            other.get("/api/v1/query_range", params=SLOW_RANGE)
        finished["expensive"] = time.monotonic()

    worker = threading.Thread(target=expensive)
    worker.start()
    time.sleep(0.2)
    try:
        assert http.get("/api/v1/query", params={"query": "1+1", "time": "0"}).status_code == 200
        with AlertingClient.connect(server.grpc_target) as client:
            client.query("vector(2)", time_ms=0)
        finished["cheap"] = time.monotonic()
    finally:
        worker.join()
    assert finished["cheap"] < finished["expensive"]


def test_a_rule_over_the_limits_is_unhealthy_and_the_server_lives(
    server: ServerProcess, http: httpx.Client
) -> None:
    r = http.post(
        "/rules",
        json={"name": "greedy", "query": "count_over_time(vector(1)[3d:1s]) > 0", "duration": "0s"},
    )
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    deadline = time.monotonic() + 20
    while (rule := http.get(f"/rules/{rule_id}").json())["health"] == "unknown":
        assert time.monotonic() < deadline, rule
        time.sleep(0.1)
    assert rule["health"] == "err"
    assert rule["last_error"] == TOO_MANY_SAMPLES["error"]
    _alive(server, http)


def test_engine_limits_stop_the_evaluation() -> None:
    small = Engine(TSDB(), limits=QueryLimits(max_samples=1000))
    with pytest.raises(TooManySamples):
        small.instant("count_over_time(vector(1)[1h:1s])", 3_600_000)
    assert small.instant("count_over_time(vector(1)[4m:1s])", 240_000).series[0].values[0] == 240
    hasty = Engine(TSDB(), limits=QueryLimits(timeout_ms=50))
    with pytest.raises(QueryTimeout):
        hasty.range("quantile_over_time(0.5, vector(1)[5m:1s])", 0, 10_000_000, 1000)


def test_a_rule_group_reports_the_limit_as_the_rule_health() -> None:
    db = TSDB()
    engine = Engine(db, limits=QueryLimits(max_samples=1000))
    rules = [
        Rule(name="greedy", query="count_over_time(vector(1)[1h:1s]) > 0"),
        Rule(name="modest", query="vector(1) > 0"),
    ]
    group = Group("g", rules)
    group.eval(3_600_000, engine_query_func(engine), db)
    assert [s.health for s in group.status] == [RuleHealth.ERR, RuleHealth.OK]
    assert group.status[0].last_error == TOO_MANY_SAMPLES["error"]


def test_an_oversized_query_never_reaches_the_parser() -> None:
    with pytest.raises(InvalidArgument, match="operators"):
        Engine(TSDB()).instant("+".join(["1"] * 6000), 0)
