"""Remote Prometheus-compatible datasources, against a fake Prometheus HTTP API on a real socket."""

from __future__ import annotations

import asyncio
import base64
import math
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import numpy as np
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from alerting.v1 import metrics_service_pb2
from alerting_server import config
from alerting_server.api.metrics import MetricsServicer
from alerting_server.config import BasicAuth, DatasourceConfig
from alerting_server.errors import FailedPrecondition, InvalidArgument, ResourceExhausted, Unavailable
from alerting_server.query.datasources import Datasources
from alerting_server.query.engine import Engine
from alerting_server.query.errors import NativeHistogramsUnsupported, QueryError
from alerting_server.query.labels import from_mapping
from alerting_server.query.remote import PrometheusSource
from alerting_server.query.result import ValueKind
from alerting_server.query.tsdb import TSDB, Sample

TOKEN = "s3cret-token-value"
HANG = "hang"


def success(result_type: str, result: Any, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": "success", "data": {"resultType": result_type, "result": result}, **extra})


def failure(status: int, error_type: str, error: str) -> JSONResponse:
    return JSONResponse({"status": "error", "errorType": error_type, "error": error}, status_code=status)


@dataclass
class Seen:
    path: str
    method: str
    form: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakePrometheus:
    """Answers each request with the next queued answer (the last one repeats)."""

    url: str
    answers: list[Response | str] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        self.seen.append(
            Seen(
                request.url.path,
                request.method,
                form,
                {k.lower(): v for k, v in request.headers.items()},
            )
        )
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if answer == HANG:
            await self.release.wait()
            return PlainTextResponse("too late")
        assert isinstance(answer, Response)
        return answer


@pytest.fixture
async def prom() -> AsyncIterator[FakePrometheus]:
    # Listening before uvicorn starts: early connections wait in the backlog, no start-up polling.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    fake = FakePrometheus(f"http://127.0.0.1:{sock.getsockname()[1]}/prefix/")
    routes = [
        Route(f"/prefix{p}", fake.handle, methods=["POST"]) for p in ("/api/v1/query", "/api/v1/query_range")
    ]
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    yield fake
    fake.release.set()
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as c:
        yield c


def source(prom: FakePrometheus, client: httpx.AsyncClient, **kwargs: Any) -> PrometheusSource:
    kwargs.setdefault("backoff_s", (0.0, 0.0))
    return PrometheusSource("prom-eu", prom.url, client=client, **kwargs)


async def test_instant_vector_with_special_values_and_annotations(
    prom: FakePrometheus, client: httpx.AsyncClient
) -> None:
    prom.answers = [
        success(
            "vector",
            [
                {"metric": {"__name__": "up", "job": "a"}, "value": [1700000000.123, "1"]},
                {"metric": {"job": "b"}, "value": [1700000000.123, "NaN"]},
                {"metric": {"job": "c"}, "value": [1700000000.123, "+Inf"]},
                {"metric": {"job": "d"}, "value": [1700000000.123, "-Inf"]},
            ],
            warnings=["PromQL warning: something"],
            infos=["PromQL info: metric might not be a counter"],
        )
    ]

    result = await source(prom, client).instant("up", 1_700_000_000_123)

    assert result.kind is ValueKind.VECTOR
    assert result.t_ms == 1_700_000_000_123
    assert [s.labels for s in result.series] == [
        from_mapping({"__name__": "up", "job": "a"}),
        from_mapping({"job": "b"}),
        from_mapping({"job": "c"}),
        from_mapping({"job": "d"}),
    ]
    assert all(s.timestamps.dtype == np.int64 and s.values.dtype == np.float64 for s in result.series)
    assert result.series[0].points() == [(1_700_000_000_123, 1.0)]
    assert math.isnan(result.series[1].values[0])
    assert [s.values[0] for s in result.series[2:]] == [math.inf, -math.inf]
    assert result.warnings == ["PromQL warning: something"]
    assert result.infos == ["PromQL info: metric might not be a counter"]
    [seen] = prom.seen
    assert (seen.method, seen.path) == ("POST", "/prefix/api/v1/query")
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.form == {"query": "up", "time": "1700000000.123", "timeout": "30.000"}


async def test_range_matrix(prom: FakePrometheus, client: httpx.AsyncClient) -> None:
    prom.answers = [
        success(
            "matrix",
            [{"metric": {"job": "a"}, "values": [[-0.001, "1.5"], [14.999, "2"], [29.999, "1e3"]]}],
        )
    ]

    result = await source(prom, client).range("rate(x[5m])", -1, 29_999, 15_000)

    assert result.kind is ValueKind.MATRIX
    [series] = result.series
    assert series.points() == [(-1, 1.5), (14_999, 2.0), (29_999, 1000.0)]
    assert prom.seen[0].path == "/prefix/api/v1/query_range"
    assert prom.seen[0].form == {
        "query": "rate(x[5m])",
        "start": "-0.001",
        "end": "29.999",
        "step": "15.000",
        "timeout": "30.000",
    }


async def test_scalar_and_string(prom: FakePrometheus, client: httpx.AsyncClient) -> None:
    prom.answers = [success("scalar", [12.5, "-Inf"]), success("string", [12.5, "hello"])]
    src = source(prom, client)

    scalar = await src.instant("-Inf", 12_500)
    string = await src.instant('"hello"', 12_500)

    assert (scalar.kind, scalar.scalar, scalar.t_ms) == (ValueKind.SCALAR, -math.inf, 12_500)
    assert (string.kind, string.string, string.t_ms) == (ValueKind.STRING, "hello", 12_500)


async def test_bearer_token_and_extra_headers_are_sent(
    prom: FakePrometheus, client: httpx.AsyncClient
) -> None:
    prom.answers = [success("vector", [])]

    await source(prom, client, bearer_token=TOKEN, headers={"X-Scope-OrgID": "team-a"}).instant("up", 0)

    assert prom.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert prom.seen[0].headers["x-scope-orgid"] == "team-a"


async def test_basic_auth_is_sent(prom: FakePrometheus, client: httpx.AsyncClient) -> None:
    prom.answers = [success("vector", [])]

    await source(prom, client, basic_auth=("grafana", "pa:ss")).instant("up", 0)

    expected = base64.b64encode(b"grafana:pa:ss").decode()
    assert prom.seen[0].headers["authorization"] == f"Basic {expected}"


async def test_bad_data_is_invalid_argument_on_query(prom: FakePrometheus, client: httpx.AsyncClient) -> None:
    message = '1:5: parse error: unexpected right parenthesis ")"'
    prom.answers = [failure(400, "bad_data", message)]

    with pytest.raises(InvalidArgument) as caught:
        await source(prom, client).instant("up{)", 0)

    assert [(v.field, v.description) for v in caught.value.violations] == [("query", message)]
    assert len(prom.seen) == 1


async def test_execution_error_is_a_query_error(prom: FakePrometheus, client: httpx.AsyncClient) -> None:
    message = "found duplicate series for the match group"
    prom.answers = [failure(422, "execution", message)]

    with pytest.raises(QueryError, match=message):
        await source(prom, client).instant("a / on() b", 0)


async def test_5xx_is_retried_then_succeeds(prom: FakePrometheus, client: httpx.AsyncClient) -> None:
    prom.answers = [failure(503, "unavailable", "starting"), success("vector", [])]

    result = await source(prom, client).instant("up", 0)

    assert result.series == []
    assert len(prom.seen) == 2


async def test_persistent_5xx_is_unavailable_naming_the_source_not_its_secret(
    prom: FakePrometheus, client: httpx.AsyncClient
) -> None:
    prom.answers = [failure(503, "unavailable", "overloaded")]

    with pytest.raises(Unavailable) as caught:
        await source(prom, client, bearer_token=TOKEN).instant("up", 0)

    assert "'prom-eu'" in caught.value.message
    assert "HTTP 503: overloaded" in caught.value.message
    assert TOKEN not in caught.value.message
    assert len(prom.seen) == 3


async def test_hanging_source_times_out_and_is_unavailable(
    prom: FakePrometheus, client: httpx.AsyncClient
) -> None:
    prom.answers = [HANG]

    # Long enough for each attempt to reach the fake on a loaded machine.
    with pytest.raises(Unavailable, match=r"no answer within 0\.25s"):
        await source(prom, client, timeout_ms=250).instant("up", 0)

    assert len(prom.seen) == 3


async def test_unreachable_source_is_unavailable(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    src = PrometheusSource(
        "gone", f"http://u:pw@127.0.0.1:{port}", client=client, basic_auth=("u", "pw"), backoff_s=(0.0,)
    )

    with pytest.raises(
        Unavailable, match="'gone' is unavailable after 2 attempts: connection failed"
    ) as caught:
        await src.instant("up", 0)

    assert "pw" not in caught.value.message


@pytest.mark.parametrize(
    ("status", "error"), [(401, FailedPrecondition), (404, FailedPrecondition), (429, ResourceExhausted)]
)
async def test_other_4xx_are_not_retried(
    prom: FakePrometheus, client: httpx.AsyncClient, status: int, error: type[Exception]
) -> None:
    prom.answers = [PlainTextResponse("no", status_code=status)]

    with pytest.raises(error, match=f"'prom-eu'.*HTTP {status}"):
        await source(prom, client).instant("up", 0)

    assert len(prom.seen) == 1


@pytest.mark.parametrize(
    "answer",
    [
        PlainTextResponse("<html>proxy</html>"),
        JSONResponse([1, 2]),
        JSONResponse(
            {"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "2"]}]}}
        ),
        JSONResponse({"status": "success", "data": {"resultType": "tensor", "result": []}}),
    ],
)
async def test_answers_that_are_not_prometheus_api_are_failed_precondition(
    prom: FakePrometheus, client: httpx.AsyncClient, answer: Response
) -> None:
    prom.answers = [answer]

    with pytest.raises(FailedPrecondition, match="does not answer like Prometheus' HTTP API"):
        await source(prom, client).instant("up", 0)


async def test_native_histograms_are_read_back(prom: FakePrometheus, client: httpx.AsyncClient) -> None:
    exponential = {"count": "10", "sum": "20", "buckets": [[3, "-0.001", "0.001", "4"], [0, "1", "2", "6"]]}
    custom = {"count": "2", "sum": "3", "buckets": [[0, "0", "1", "2"]]}
    prom.answers = [
        success("vector", [{"metric": {"a": "1"}, "histogram": [1, exponential]}]),
        success(
            "matrix", [{"metric": {}, "values": [[1, "5"]], "histograms": [[2, custom], [0.5, exponential]]}]
        ),
    ]

    (vector,) = (await source(prom, client).instant("h", 1000)).series
    h = vector.histogram_at(0)
    assert h is not None
    assert (h.schema, h.count, h.sum, h.zero_threshold, h.zero_count, h.positive) == (
        0,
        10,
        20,
        0.001,
        4,
        {1: 6},
    )
    (matrix,) = (await source(prom, client).range("h", 0, 2000, 500)).series
    assert matrix.timestamps.tolist() == [500, 1000, 2000]
    assert matrix.histograms is not None
    first, float_point, last = matrix.histograms
    assert first is not None
    assert first.schema == 0
    assert float_point is None
    assert matrix.values[1] == 5.0
    assert last is not None
    assert (last.schema, last.custom_values, last.positive) == (-53, (0.0, 1.0), {1: 2.0})


async def test_histograms_that_cannot_be_read_back_are_refused_not_misread(
    prom: FakePrometheus, client: httpx.AsyncClient
) -> None:
    clipped = {"count": "3", "sum": "1", "buckets": [[3, "-0.75", "0.75", "1"], [0, "0.75", "1", "2"]]}
    prom.answers = [success("vector", [{"metric": {}, "histogram": [1, clipped]}])]

    with pytest.raises(NativeHistogramsUnsupported, match="prom-eu"):
        await source(prom, client).instant("h", 0)


async def test_registry_dispatches_by_name(prom: FakePrometheus) -> None:
    db = TSDB()
    db.append([Sample(from_mapping({"__name__": "up", "where": "local"}), 1_000, 1.0)])
    prom.answers = [success("vector", [{"metric": {"where": "remote"}, "value": [2, "7"]}])]
    sources = Datasources.from_config(
        Engine(db), [DatasourceConfig("prom-eu", prom.url, bearer_token=TOKEN, timeout_ms=5_000)]
    )

    local = await sources.instant("", "up", 2_000)
    also_local = await sources.range("embedded", "up", 1_000, 2_000, 1_000)
    remote = await sources.instant("prom-eu", "up", 2_000)
    with pytest.raises(InvalidArgument) as caught:
        await sources.instant("prom-us", "up", 2_000)
    await sources.close()

    assert sources.names == ["embedded", "prom-eu"]
    assert [s.labels_dict["where"] for s in local.series] == ["local"]
    assert also_local.series[0].points() == [(1_000, 1.0), (2_000, 1.0)]
    assert remote.series[0].points() == [(2_000, 7.0)]
    assert prom.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert prom.seen[0].form["timeout"] == "5.000"
    [violation] = caught.value.violations
    assert violation.field == "datasource"
    assert violation.description == "unknown datasource 'prom-us'; configured: embedded, prom-eu"


class StoppedClock:
    def now_ms(self) -> int:
        return 60_000


async def test_metrics_service_queries_the_named_source(prom: FakePrometheus) -> None:
    prom.answers = [
        success("vector", [{"metric": {"job": "a"}, "value": [60, "1"]}]),
        success("matrix", [{"metric": {"job": "a"}, "values": [[0, "1"], [60, "2"]]}], warnings=["w"]),
    ]
    db = TSDB()
    sources = Datasources.from_config(Engine(db), [DatasourceConfig("prom-eu", prom.url)])
    servicer = MetricsServicer(db, sources, StoppedClock())

    instant = await servicer.Query(metrics_service_pb2.QueryRequest(query="up", datasource="prom-eu"), None)
    request = metrics_service_pb2.QueryRangeRequest(query="up", datasource="prom-eu")
    request.start.FromMilliseconds(0)
    request.end.FromMilliseconds(60_000)
    request.step.FromMilliseconds(60_000)
    ranged = await servicer.QueryRange(request, None)
    await sources.close()

    assert prom.seen[0].form["time"] == "60.000"
    assert [(p.timestamp_ms, p.value) for p in instant.series[0].points] == [(60_000, 1.0)]
    assert prom.seen[1].form["step"] == "60.000"
    assert [(p.timestamp_ms, p.value) for p in ranged.series[0].points] == [(0, 1.0), (60_000, 2.0)]
    assert list(ranged.warnings) == ["w"]


async def test_close_closes_the_shared_client(prom: FakePrometheus) -> None:
    sources = Datasources.from_config(Engine(TSDB()), [DatasourceConfig("a", prom.url)])
    await sources.close()

    with pytest.raises(RuntimeError, match="closed"):
        await sources.instant("a", "up", 0)


def test_datasources_configuration(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(
        "datasources:\n"
        "  - {name: thanos, url: 'https://thanos.example:9090/', bearer_token: t0k, timeout: 5s,\n"
        "     headers: {X-Scope-OrgID: team-a}}\n"
        "  - {name: mimir, url: 'http://mimir:8080/prometheus', basic_auth: {username: u, password: p}}\n"
    )

    c = config.load(str(f), env={})

    assert c.datasources == (
        DatasourceConfig(
            "thanos",
            "https://thanos.example:9090/",
            bearer_token="t0k",
            timeout_ms=5_000,
            headers=(("X-Scope-OrgID", "team-a"),),
        ),
        DatasourceConfig("mimir", "http://mimir:8080/prometheus", basic_auth=BasicAuth("u", "p")),
    )
    assert config.load(None, env={}).datasources == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("datasources: {name: a}\n", "datasources: expected a list"),
        ("datasources: [{url: 'http://a'}]\n", "datasources[0].name: required"),
        ("datasources: [{name: a, url: 'ftp://a'}]\n", "datasources[0].url"),
        ("datasources: [{name: a, url: 'http://'}]\n", "datasources[0].url"),
        ("datasources: [{name: embedded, url: 'http://a'}]\n", "datasources[0].name: 'embedded'"),
        ("datasources: [{name: a, url: 'http://a'}, {name: a, url: 'http://b'}]\n", "datasources[1].name"),
        ("datasources: [{name: a, url: 'http://a', timeout: soon}]\n", "datasources[0].timeout"),
        ("datasources: [{name: a, url: 'http://a', timeout: 0s}]\n", "datasources[0].timeout"),
        (
            "datasources: [{name: a, url: 'http://a', basic_auth: {username: u}}]\n",
            "datasources[0].basic_auth",
        ),
        ("datasources: [{name: a, url: 'http://a', headers: [x]}]\n", "datasources[0].headers"),
        ("datasources: [{name: a, url: 'http://a', colour: red}]\n", "datasources[0]: expected a map"),
        (
            "datasources: [{name: a, url: 'http://a', bearer_token: t,"
            " basic_auth: {username: u, password: p}}]\n",
            "datasources[0]: at most one",
        ),
        (
            "datasources: [{name: a, url: 'http://a', bearer_token: t, headers: {authorization: x}}]\n",
            "datasources[0].headers.Authorization",
        ),
    ],
)
def test_bad_datasources_configuration_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(config.ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config.load(str(f), env={})
