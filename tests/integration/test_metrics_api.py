"""Samples in through POST /samples, PromQL out through the Prometheus HTTP API shape."""

from __future__ import annotations

import importlib.metadata
import time
from pathlib import Path
from typing import Any

import cramjam
import httpx
import pytest

from alerting.client import AlertingClient
from alerting.client.errors import InvalidArgumentError
from alerting_common.remote_write import WriteRequest
from tests.integration.server import ServerProcess


def test_write_then_query_instant_and_range(http: httpx.Client) -> None:
    now = int(time.time() * 1000)
    samples = [
        {
            "name": "cpu_usage",
            "labels": {"host": f"server0{h}"},
            "value": 80.0 + h + i,
            "timestamp": now - 60_000 + i * 15_000,
        }
        for h in (1, 2)
        for i in range(4)
    ]
    r = http.post("/samples", json={"samples": samples})
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 8, "rejected": 0, "errors": []}

    r = http.get("/api/v1/query", params={"query": "avg(cpu_usage) > 80", "time": (now + 1000) / 1000})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success"
    assert body["data"]["resultType"] == "vector"
    [series] = body["data"]["result"]
    assert series["metric"] == {}
    assert series["value"][1] == "84.5"

    r = http.get(
        "/api/v1/query_range",
        params={
            "query": 'cpu_usage{host="server01"}',
            "start": (now - 60_000) / 1000,
            "end": now / 1000,
            "step": "15s",
        },
    )
    assert r.status_code == 200, r.text
    [series] = r.json()["data"]["result"]
    assert series["metric"] == {"__name__": "cpu_usage", "host": "server01"}
    # The last step, at `end`, sees the newest sample through the 5m lookback.
    assert [v for _, v in series["values"]] == ["81", "82", "83", "84", "84"]


def test_out_of_order_samples_are_rejected_one_by_one(http: httpx.Client) -> None:
    now = int(time.time() * 1000)
    first = {"name": "m", "labels": {}, "value": 1, "timestamp": now}
    assert http.post("/samples", json={"samples": [first]}).json()["accepted"] == 1
    r = http.post(
        "/samples",
        json={
            "samples": [{**first, "timestamp": now - 1000}, {**first, "timestamp": now + 1000, "value": 2}]
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    assert body["errors"][0]["index"] == 0
    assert "out of order" in body["errors"][0]["reason"]


def test_bad_samples_and_queries_are_400_naming_the_field(http: httpx.Client) -> None:
    r = http.post(
        "/samples",
        json={"samples": [{"name": "9bad", "value": 1}, {"name": "ok", "labels": {"bad-label": "x"}}]},
    )
    assert r.status_code == 400
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert {"samples[0].name", "samples[1].labels.bad-label"} <= fields
    assert http.get("/api/v1/query", params={"query": "ok"}).json()["data"]["result"] == []

    r = http.get("/api/v1/query", params={"query": "sum(rate(x[5m])"})
    assert r.status_code == 400
    assert r.json()["status"] == "error"
    assert r.json()["errorType"] == "bad_data"
    # Prometheus' message, with the position.
    assert r.json()["error"].endswith("1:16: parse error: unclosed left parenthesis"), r.json()


def test_the_series_limit_is_resource_exhausted_naming_it(tmp_path: Path) -> None:
    (tmp_path / "alerting.yaml").write_text("tsdb: {max_series: 2}\n")
    server = ServerProcess(
        f"sqlite:///{tmp_path / 'a.db'}", tmp_path, ["--config", str(tmp_path / "alerting.yaml")]
    )
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            now = int(time.time() * 1000)
            two = [{"name": "m", "labels": {"i": str(i)}, "value": 1, "timestamp": now} for i in range(2)]
            assert http.post("/samples", json={"samples": two}).json()["accepted"] == 2
            third = {"name": "m", "labels": {"i": "3"}, "value": 1, "timestamp": now}
            r = http.post("/samples", json={"samples": [third, {**two[0], "timestamp": now + 1}]})
            assert r.status_code == 429, r.text
            assert r.json()["error"]["code"] == "RESOURCE_EXHAUSTED"
            assert "series limit of 2" in r.json()["error"]["message"]
            # Nothing of the refused batch was written, and known series still take samples.
            assert (
                http.get("/api/v1/query", params={"query": "count(m)"}).json()["data"]["result"][0]["value"][
                    1
                ]
                == "2"
            )
            assert (
                http.post("/samples", json={"samples": [{**two[0], "timestamp": now + 2}]}).json()["accepted"]
                == 1
            )
    finally:
        server.kill()


def test_a_remote_write_with_a_refused_sample_stores_nothing_even_after_a_restart(
    server: ServerProcess, http: httpx.Client
) -> None:
    """Prometheus' receiver: one out-of-order sample refuses the request (400) and nothing of it is
    stored, neither in memory nor in the write-ahead log."""
    now = int(time.time() * 1000)
    assert (
        http.post("/samples", json={"samples": [{"name": "rw", "value": 1, "timestamp": now}]}).status_code
        == 200
    )
    request: Any = WriteRequest()
    fresh = request.timeseries.add()
    fresh.labels.add(name="__name__", value="rw_other")
    fresh.samples.add(value=5.0, timestamp=now)
    late = request.timeseries.add()
    late.labels.add(name="__name__", value="rw")
    late.samples.add(value=2.0, timestamp=now + 1000)
    late.samples.add(value=3.0, timestamp=now - 1000)
    body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}

    refused = http.post("/api/v1/write", content=body, headers=headers)

    assert refused.status_code == 400
    assert "no sample stored" in refused.text
    server.restart()
    with httpx.Client(base_url=server.base_url, timeout=10) as again:
        params: dict[str, str | float] = {"query": '{__name__=~"rw.*"}[1m]', "time": (now + 5000) / 1000}
        [series] = again.get("/api/v1/query", params=params).json()["data"]["result"]
        assert (series["metric"], [v for _, v in series["values"]]) == ({"__name__": "rw"}, ["1"])


def test_metric_browser_listings_over_the_embedded_store(
    http: httpx.Client, grpc_client: AlertingClient
) -> None:
    """What Grafana's metric browser asks: label names, a label's values, series, metadata, build."""
    samples = [
        {"name": "cpu_usage", "labels": {"host": "server01", "env": "prod"}, "value": 1, "timestamp": 10_000},
        {"name": "cpu_usage", "labels": {"host": "server02"}, "value": 2, "timestamp": 20_000},
        {"name": "mem_free", "labels": {"host": "server01"}, "value": 3, "timestamp": 30_000},
    ]
    assert http.post("/samples", json={"samples": samples}).status_code == 200

    def data(path: str, **params: object) -> object:
        r = http.get(path, params=params)  # type: ignore[arg-type]
        assert r.status_code == 200, r.text
        return r.json()["data"]

    assert data("/api/v1/labels") == ["__name__", "env", "host"]
    assert data("/api/v1/labels", **{"match[]": "mem_free"}) == ["__name__", "host"]
    assert data("/api/v1/label/__name__/values") == ["cpu_usage", "mem_free"]
    assert data("/api/v1/label/host/values", start=15, end=25) == ["server02"]
    assert data("/api/v1/label/host/values", **{"match[]": '{env="prod"}'}) == ["server01"]
    assert data("/api/v1/series", **{"match[]": "cpu_usage"}) == [
        {"__name__": "cpu_usage", "env": "prod", "host": "server01"},
        {"__name__": "cpu_usage", "host": "server02"},
    ]
    r = http.post("/api/v1/series", data={"match[]": "cpu_usage", "limit": "1"})
    assert r.json() == {
        "status": "success",
        "data": [{"__name__": "cpu_usage", "env": "prod", "host": "server01"}],
        "warnings": ["results truncated due to limit"],
    }
    r = http.get("/api/v1/series", params={"match[]": "sum(cpu_usage)"})
    assert r.status_code == 400
    assert r.json()["errorType"] == "bad_data"
    assert "match[0]" in r.json()["error"]
    assert data("/api/v1/metadata") == {}
    assert data("/api/v1/status/buildinfo")["version"] == importlib.metadata.version("alerting")  # type: ignore[index]
    # The same listings for gRPC clients.
    listed = grpc_client.list_series(["mem_free"])
    assert [dict(s.labels) for s in listed.series] == [{"__name__": "mem_free", "host": "server01"}]
    assert list(grpc_client.list_label_values("host", limit=1).values) == ["server01"]


def test_listings_name_every_bad_field_over_grpc(grpc_client: AlertingClient) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        grpc_client.list_series([], start_ms=2000, end_ms=1000, limit=-1)
    assert sorted(field for field, _ in caught.value.field_violations) == [
        "selection.end",
        "selection.limit",
        "selection.match",
    ]
    with pytest.raises(InvalidArgumentError) as caught:
        grpc_client.list_label_values("no-dash", ["up[5m]"])
    assert sorted(field for field, _ in caught.value.field_violations) == ["name", "selection.match[0]"]
