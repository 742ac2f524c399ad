from __future__ import annotations

import httpx
import pytest

from alerting.v1 import metrics_service_pb2

from .fakes import FakeServer


async def test_instant_vector_in_prometheus_shape(client: httpx.AsyncClient, server: FakeServer) -> None:
    response = await client.get("/api/v1/query", params={"query": "up", "time": "1435781451.781"})

    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {"__name__": "up", "job": "prometheus"}, "value": [1435781451.781, "1"]}],
        },
        "warnings": ["slow"],
    }
    sent = server.last("Query")
    assert isinstance(sent, metrics_service_pb2.QueryRequest)
    assert sent.time.ToMilliseconds() == 1_435_781_451_781


async def test_time_accepts_rfc3339_and_defaults_to_unset(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    await client.get("/api/v1/query", params={"query": "up", "time": "2015-07-01T20:10:51.781Z"})
    at = server.last("Query")
    await client.get("/api/v1/query", params={"query": "up"})
    now = server.last("Query")

    assert isinstance(at, metrics_service_pb2.QueryRequest)
    assert isinstance(now, metrics_service_pb2.QueryRequest)
    assert at.time.ToMilliseconds() == 1_435_781_451_781
    assert not now.HasField("time")


async def test_scalar_and_string_results(client: httpx.AsyncClient) -> None:
    scalar = await client.get("/api/v1/query", params={"query": "scalar(1)"})
    string = await client.get("/api/v1/query", params={"query": '"hello"'})

    assert scalar.json()["data"] == {"resultType": "scalar", "result": [1435781451.781, "1"]}
    assert string.json()["data"] == {"resultType": "string", "result": [1435781451, "hello"]}


async def test_range_query_is_a_matrix(client: httpx.AsyncClient, server: FakeServer) -> None:
    response = await client.get(
        "/api/v1/query_range",
        params={"query": "up", "start": "100", "end": "1970-01-01T00:05:00Z", "step": "15s"},
    )

    sent = server.last("QueryRange")
    assert isinstance(sent, metrics_service_pb2.QueryRangeRequest)
    assert (sent.start.ToMilliseconds(), sent.end.ToMilliseconds()) == (100_000, 300_000)
    assert sent.step.ToMilliseconds() == 15_000
    data = response.json()["data"]
    assert data["resultType"] == "matrix"
    assert data["result"][0]["metric"] == {"__name__": "up"}
    assert data["result"][0]["values"][:2] == [[100, "0"], [115, "1"]]


async def test_form_encoded_post_as_prometheus_accepts(client: httpx.AsyncClient, server: FakeServer) -> None:
    response = await client.post(
        "/api/v1/query_range", data={"query": "up", "start": "0", "end": "60", "step": "0.5"}
    )

    assert response.status_code == 200
    sent = server.last("QueryRange")
    assert isinstance(sent, metrics_service_pb2.QueryRangeRequest)
    assert sent.step.ToMilliseconds() == 500
    assert len(response.json()["data"]["result"][0]["values"]) == 121


async def test_bad_query_is_bad_data(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/query", params={"query": "sum("})

    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "errorType": "bad_data",
        "error": '1:1: parse error: unexpected "("',
    }


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"query": "up", "start": "x", "end": "1", "step": "1"},
            'invalid parameter "start": cannot parse "x" to a valid timestamp',
        ),
        (
            {"query": "up", "start": "0", "end": "1", "step": "fast"},
            'invalid parameter "step": cannot parse "fast" to a valid duration',
        ),
        (
            {"query": "up", "start": "10", "end": "1", "step": "1"},
            "end timestamp must not be before start time",
        ),
        (
            {"query": "up", "start": "0", "end": "1", "step": "0"},
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ),
        (
            {"query": "up", "start": "0", "end": "100000", "step": "1"},
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)",
        ),
    ],
)
async def test_range_parameters_are_checked_like_prometheus(
    client: httpx.AsyncClient, server: FakeServer, params: dict[str, str], error: str
) -> None:
    response = await client.get("/api/v1/query_range", params=params)

    assert response.status_code == 400
    assert response.json() == {"status": "error", "errorType": "bad_data", "error": error}
    assert server.calls == []
