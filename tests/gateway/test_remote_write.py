from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import cramjam
import grpc
import httpx
import pytest
from google.protobuf.message import Message

from alerting.v1 import metrics_service_pb2
from gateway import create_app
from gateway.remote_write import WriteRequest

from .fakes import Context, FakeServer

HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
    "User-Agent": "Prometheus/3.0.0",
}
T0 = 1_696_789_234_567


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    samples: tuple[tuple[float, int], ...] = ()
    histograms: int = 0


def encode(*series: Series) -> bytes:
    """A snappy-compressed WriteRequest, built with the receiver's own message classes."""
    request: Any = WriteRequest()
    for spec in series:
        ts = request.timeseries.add()
        for name, value in spec.labels.items():
            ts.labels.add(name=name, value=value)
        for sample_value, timestamp in spec.samples:
            ts.samples.add(value=sample_value, timestamp=timestamp)
        for _ in range(spec.histograms):
            ts.histograms.add()
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def written(server: FakeServer) -> list[tuple[str, dict[str, str], float, int]]:
    sent = server.last("Write")
    assert isinstance(sent, metrics_service_pb2.WriteRequest)
    return [(s.name, dict(s.labels), s.value, s.timestamp.ToMilliseconds()) for s in sent.samples]


@dataclass
class RejectingServer(FakeServer):
    """Refuses the samples at the given indexes, or the whole write with a status."""

    reject: tuple[int, ...] = ()
    abort: grpc.StatusCode | None = None

    async def Write(
        self, request: metrics_service_pb2.WriteRequest, context: Context
    ) -> metrics_service_pb2.WriteResponse:
        if self.abort is not None:
            await context.abort(self.abort, "series limit of 10 reached")
        errors = [metrics_service_pb2.SampleError(index=i, reason="out of order sample") for i in self.reject]
        return metrics_service_pb2.WriteResponse(
            accepted=len(request.samples) - len(errors), rejected=len(errors), errors=errors
        )


@pytest.fixture
async def rejecting() -> AsyncIterator[RejectingServer]:
    fake = RejectingServer()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def rejecting_client(rejecting: RejectingServer) -> AsyncIterator[httpx.AsyncClient]:
    channel = grpc.aio.insecure_channel(rejecting.target)
    app = create_app(rejecting.target, channel=channel, sse_keepalive=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield http
    await channel.close(None)


async def test_series_become_samples_with_name_labels_and_timestamps(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    body = encode(
        Series({"__name__": "cpu_usage", "host": "a", "job": "node"}, ((85.5, T0), (86.0, T0 + 15_000))),
        Series({"job": "node", "__name__": "up"}, ((1.0, T0),)),
    )

    response = await client.post(
        "/api/v1/write", content=body, headers={**HEADERS, "Authorization": "Bearer t"}
    )

    assert response.status_code == 204
    assert response.content == b""
    assert written(server) == [
        ("cpu_usage", {"host": "a", "job": "node"}, 85.5, T0),
        ("cpu_usage", {"host": "a", "job": "node"}, 86.0, T0 + 15_000),
        ("up", {"job": "node"}, 1.0, T0),
    ]
    assert server.calls[-1].authorization == "Bearer t"


async def test_empty_label_values_are_absent_labels(client: httpx.AsyncClient, server: FakeServer) -> None:
    body = encode(Series({"__name__": "up", "job": "node", "instance": ""}, ((1.0, T0),)))

    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 204
    assert written(server) == [("up", {"job": "node"}, 1.0, T0)]


async def test_missing_headers_are_taken_as_remote_write_1_0(
    client: httpx.AsyncClient, server: FakeServer
) -> None:
    body = encode(Series({"__name__": "up"}, ((1.0, T0),)))

    response = await client.post("/api/v1/write", content=body)

    assert response.status_code == 204
    assert written(server) == [("up", {}, 1.0, T0)]


async def test_an_empty_request_writes_nothing(client: httpx.AsyncClient, server: FakeServer) -> None:
    response = await client.post("/api/v1/write", content=encode(), headers=HEADERS)

    assert response.status_code == 204
    assert [c for c in server.calls if c.method == "Write"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff\xff\xff\xff\xff\xff", "snappy"),
        (bytes(cramjam.snappy.compress_raw(b"\x0a\xff")), "malformed protobuf"),
        (encode(Series({"job": "node"}, ((1.0, T0),))), "without a __name__"),
        (
            encode(Series({"__name__": "up"}, ((1.0, T0),)), Series({"__name__": "h"}, histograms=1)),
            "native histograms are not supported",
        ),
    ],
    ids=["bad-snappy", "bad-protobuf", "no-name", "histogram"],
)
async def test_undecodable_or_unstorable_requests_are_400_and_write_nothing(
    client: httpx.AsyncClient, server: FakeServer, body: bytes, message: str
) -> None:
    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert message in response.text
    assert [c for c in server.calls if c.method == "Write"] == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"},
        {"Content-Encoding": "gzip"},
    ],
    ids=["json", "remote-write-2", "gzip"],
)
async def test_other_protocols_and_encodings_are_415(
    client: httpx.AsyncClient, server: FakeServer, headers: dict[str, str]
) -> None:
    body = encode(Series({"__name__": "up"}, ((1.0, T0),)))

    response = await client.post("/api/v1/write", content=body, headers={**HEADERS, **headers})

    assert response.status_code == 415
    assert [c for c in server.calls if c.method == "Write"] == []


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    # The conftest gateway takes at most 4096 bytes; random label values do not compress.
    body = encode(Series({"__name__": "up", "x": "".join(f"{i:x}" for i in range(3000))}, ((1.0, T0),)))
    assert len(body) > 4096

    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 413


async def test_samples_refused_by_the_store_are_400_so_that_prometheus_does_not_retry(
    rejecting_client: httpx.AsyncClient, rejecting: RejectingServer
) -> None:
    rejecting.reject = (1,)
    body = encode(Series({"__name__": "up"}, ((1.0, T0), (0.0, T0 - 1))))

    response = await rejecting_client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert response.text == "write refused, no sample stored: sample 1: out of order sample"
    # The store is asked to store all of them or none, as Prometheus' receiver does.
    assert rejecting.last("Write").all_or_nothing  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.INTERNAL, 500),
    ],
)
async def test_failed_writes_use_the_gateway_status_mapping(
    rejecting_client: httpx.AsyncClient, rejecting: RejectingServer, code: grpc.StatusCode, status: int
) -> None:
    rejecting.abort = code
    body = encode(Series({"__name__": "up"}, ((1.0, T0),)))

    response = await rejecting_client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == status
    expected = "internal error" if status == 500 else "series limit of 10 reached"
    assert response.text == expected


def test_the_message_classes_live_outside_the_default_pool() -> None:
    from google.protobuf import descriptor_pool

    assert isinstance(WriteRequest(), Message)
    with pytest.raises(KeyError):
        descriptor_pool.Default().FindMessageTypeByName("prometheus.WriteRequest")
