from __future__ import annotations

import importlib.metadata

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


# --- listings for metric browsers (Grafana's label and series lookups) ---------------------------


async def test_label_names_in_prometheus_shape_with_its_parameters(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    response = await client.get(
        "/api/v1/labels",
        params=[
            ("match[]", "up"),
            ("match[]", '{job="api"}'),
            ("start", "100"),
            ("end", "200.5"),
            ("limit", "10"),
        ],
    )

    assert response.status_code == 200
    assert response.json() == {"status": "success", "data": ["__name__", "job"]}
    sent = server.last("ListLabelNames")
    assert isinstance(sent, metrics_service_pb2.ListLabelNamesRequest)
    assert list(sent.selection.match) == ["up", '{job="api"}']
    assert (sent.selection.start.ToMilliseconds(), sent.selection.end.ToMilliseconds()) == (100_000, 200_500)
    assert sent.selection.limit == 10


async def test_label_names_unbounded_by_default_and_by_form_post(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    assert (await client.get("/api/v1/labels")).status_code == 200
    bare = server.last("ListLabelNames")
    # Grafana posts its lookups as forms; the query string's match[] comes after the body's.
    posted = await client.post("/api/v1/labels?match[]=b", data={"match[]": "a", "start": "1"})
    form = server.last("ListLabelNames")

    assert isinstance(bare, metrics_service_pb2.ListLabelNamesRequest)
    assert not bare.selection.match
    assert not bare.selection.HasField("start")
    assert not bare.selection.HasField("end")
    assert bare.selection.limit == 0
    assert posted.json()["data"] == ["__name__", "job"]
    assert isinstance(form, metrics_service_pb2.ListLabelNamesRequest)
    assert list(form.selection.match) == ["a", "b"]
    assert form.selection.start.ToMilliseconds() == 1000


async def test_label_values_of_the_named_label_with_warnings(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    response = await client.get("/api/v1/label/job/values", params={"match[]": "up", "limit": "2"})

    assert response.json() == {
        "status": "success",
        "data": ["api", "db"],
        "warnings": ["results truncated due to limit"],
    }
    sent = server.last("ListLabelValues")
    assert isinstance(sent, metrics_service_pb2.ListLabelValuesRequest)
    assert (sent.name, list(sent.selection.match), sent.selection.limit) == ("job", ["up"], 2)
    # As Prometheus: label values are GET only.
    assert (await client.post("/api/v1/label/job/values")).status_code == 405


async def test_series_as_label_sets(client: httpx.AsyncClient, server: FakeServer) -> None:
    got = await client.get("/api/v1/series", params={"match[]": "up", "end": "2015-07-01T20:10:51.781Z"})
    posted = await client.post("/api/v1/series", data={"match[]": "up"})

    assert got.json() == {"status": "success", "data": [{"__name__": "up", "job": "api"}]}
    assert posted.json() == got.json()
    sent = server.last("ListSeries")
    assert isinstance(sent, metrics_service_pb2.ListSeriesRequest)
    assert list(sent.selection.match) == ["up"]


@pytest.mark.parametrize(
    ("path", "params", "error"),
    [
        ("/api/v1/series", {}, "no match[] parameter provided"),
        ("/api/v1/labels", {"limit": "-1"}, 'invalid parameter "limit": limit must be non-negative'),
        ("/api/v1/labels", {"limit": "ten"}, 'invalid parameter "limit": cannot parse "ten" to an integer'),
        (
            "/api/v1/label/job/values",
            {"start": "yesterday"},
            'invalid parameter "start": cannot parse "yesterday" to a valid timestamp',
        ),
        ("/api/v1/label/nope-/values", {}, "name: invalid label name"),
    ],
)
async def test_listing_errors_in_prometheus_shape(
    client: httpx.AsyncClient, server: FakeServer, path: str, params: dict[str, str], error: str
) -> None:
    calls = len(server.calls)
    response = await client.get(path, params=params)

    assert response.status_code == 400
    assert response.json() == {"status": "error", "errorType": "bad_data", "error": error}
    # Parameters Prometheus refuses never reach the service.
    assert len(server.calls) == calls + (path == "/api/v1/label/nope-/values")


async def test_buildinfo_is_our_own_version_in_prometheus_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/status/buildinfo")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert set(body["data"]) == {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"}
    assert body["data"]["version"] == importlib.metadata.version("alerting")
    assert body["data"]["goVersion"] == ""


async def test_metadata_is_an_empty_object(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/metadata", params={"metric": "up", "limit": "5"})

    assert (response.status_code, response.json()) == (200, {"status": "success", "data": {}})
