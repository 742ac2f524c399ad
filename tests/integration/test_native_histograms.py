"""Native histograms through the real server: remote write in, the query API out, a rule over them
delivering a notification, and the store's log keeping them across a restart."""

from __future__ import annotations

import time
from typing import Any

import cramjam
import httpx

from alerting_common.remote_write import WriteRequest
from tests.integration.server import ServerProcess
from tests.integration.test_delivery import eventually, hook_channel
from tests.notify.receiver import Receiver

HEADERS = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
STEP_MS = 15_000


def _remote_write(points: list[tuple[int, int]], job: str = "api") -> bytes:
    """rpc_seconds of `job` as integer histograms of schema 0: at each (timestamp, n), n observations
    in (0.5, 1] and 3n in (1, 2], given as deltas."""
    request: Any = WriteRequest()
    series = request.timeseries.add()
    series.labels.add(name="__name__", value="rpc_seconds")
    series.labels.add(name="job", value=job)
    for t, n in points:
        series.histograms.add(
            count_int=4 * n,
            sum=6.0 * n,
            schema=0,
            zero_threshold=1e-128,
            zero_count_int=0,
            positive_spans=[{"offset": 0, "length": 2}],
            positive_deltas=[n, 2 * n],
            timestamp=t,
        )
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def test_remote_written_histograms_are_queried_as_prometheus_shows_them(
    server: ServerProcess, http: httpx.Client
) -> None:
    now = int(time.time() * 1000) // 1000 * 1000
    points = [(now - (20 - i) * STEP_MS, i + 1) for i in range(21)]
    r = http.post("/api/v1/write", content=_remote_write(points), headers=HEADERS)
    assert r.status_code == 204, r.text

    r = http.get("/api/v1/query", params={"query": "rpc_seconds", "time": now / 1000})
    assert r.status_code == 200, r.text
    [row] = r.json()["data"]["result"]
    assert row["metric"] == {"__name__": "rpc_seconds", "job": "api"}
    assert row["histogram"] == [
        now // 1000,
        {"count": "84", "sum": "126", "buckets": [[0, "0.5", "1", "21"], [0, "1", "2", "63"]]},
    ]
    r = http.get(
        "/api/v1/query_range",
        params={"query": "rpc_seconds", "start": (now - 30_000) / 1000, "end": now / 1000, "step": "15s"},
    )
    [series] = r.json()["data"]["result"]
    assert "values" not in series
    assert [h["count"] for _, h in series["histograms"]] == ["76", "80", "84"]
    r = http.get(
        "/api/v1/query", params={"query": "histogram_count(rate(rpc_seconds[1m]))", "time": now / 1000}
    )
    [row] = r.json()["data"]["result"]
    assert abs(float(row["value"][1]) - 4 / 15) < 1e-9

    # The console plots numbers: a rule giving histograms says so rather than drawing them as 0.
    r = http.post(
        "/rules", json={"name": "RpcSeen", "query": "rpc_seconds", "duration": "1h", "interval": "1h"}
    )
    assert r.status_code == 201, r.text
    page = http.get(f"/ui/rules/{r.json()['id']}")
    assert page.status_code == 200, page.text
    assert "Native-histogram samples are not plotted" in page.text

    # A bad histogram is refused naming its field, and nothing of the request is stored.
    bad: Any = WriteRequest()
    bad.ParseFromString(bytes(cramjam.snappy.decompress_raw(_remote_write([(now + 1000, 30)], job="other"))))
    bad.timeseries[0].histograms[0].positive_deltas.append(1)
    body = bytes(cramjam.snappy.compress_raw(bad.SerializeToString()))
    refused = http.post("/api/v1/write", content=body, headers=HEADERS)
    assert refused.status_code == 400
    assert "timeseries[0].histograms[0].positive_spans" in refused.text
    assert (
        http.get("/api/v1/query", params={"query": 'rpc_seconds{job="other"}'}).json()["data"]["result"] == []
    )

    # POST /samples takes a histogram too, and refuses a bad one naming the field.
    histogram = {
        "schema": -53,
        "count": 3,
        "sum": 1.5,
        "positive_spans": [{"offset": 0, "length": 2}],
        "positive_buckets": [1, 2],
        "custom_values": [0.25],
    }
    sample = {"name": "nhcb", "histogram": histogram, "timestamp": now}
    r = http.post("/samples", json={"samples": [sample]})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    r = http.post(
        "/samples", json={"samples": [{**sample, "histogram": {**histogram, "positive_buckets": [1]}}]}
    )
    assert r.status_code == 400
    [detail] = r.json()["error"]["details"]
    assert detail["field"] == "samples[0].histogram.positive_spans"

    # Both kinds survive a restart (replayed from the store's log).
    server.restart()
    with httpx.Client(base_url=server.base_url, timeout=10) as again:
        r = again.get("/api/v1/query", params={"query": "nhcb", "time": now / 1000})
        [row] = r.json()["data"]["result"]
        assert row["histogram"][1] == {
            "count": "3",
            "sum": "1.5",
            "buckets": [[3, "-Inf", "0.25", "1"], [0, "0.25", "+Inf", "2"]],
        }
        r = again.get("/api/v1/query", params={"query": "rpc_seconds", "time": now / 1000})
        assert r.json()["data"]["result"][0]["histogram"][1]["count"] == "84"


async def test_a_rule_over_remote_written_histograms_fires_and_notifies(
    api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await hook_channel(api, receiver.url("/hook"))
    r = await api.post(
        "/rules",
        json={
            "name": "SlowRPC",
            "query": "histogram_quantile(0.99, sum(rate(rpc_seconds[5m]))) > 0.5",
            "duration": "0s",
            "severity": "critical",
            "annotations": {"summary": "p99 is {{ $value }}"},
        },
    )
    assert r.status_code == 201, r.text
    now = int(time.time() * 1000)
    points = [(now - (20 - i) * STEP_MS, i + 1) for i in range(21)]
    r = await api.post("/api/v1/write", content=_remote_write(points), headers=HEADERS)
    assert r.status_code == 204, r.text

    async def received() -> bool:
        return bool(receiver.requests)

    await eventually(received, 20, "the webhook to be called")
    body = receiver.requests[0].json()
    assert isinstance(body, dict)
    [alert] = body["alerts"]
    assert alert["labels"]["alertname"] == "SlowRPC"
    # 3/4 of the observations in (1, 2]: the 0.99 quantile interpolates inside that bucket.
    p99 = float(alert["annotations"]["summary"].removeprefix("p99 is "))
    assert 1.9 < p99 <= 2.0
