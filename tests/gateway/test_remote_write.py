from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import cramjam
import grpc
import httpx
import pytest
from google.protobuf.message import Message

from alerting.v1 import metrics_service_pb2
from alerting_common.remote_write import WriteRequest
from alerting_server.api.errors import to_grpc_status
from alerting_server.api.histograms import histogram_from_pb
from alerting_server.api.metrics import MetricsServicer
from alerting_server.clock import SystemClock
from alerting_server.errors import InvalidArgument, Violations
from alerting_server.query.datasources import Datasources
from alerting_server.query.tsdb import HistogramSample
from gateway import create_app
from tests.recording import RecordingStore

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
    histograms: tuple[dict[str, Any], ...] = ()


def encode(*series: Series) -> bytes:
    """A snappy-compressed WriteRequest, built with the receiver's own message classes."""
    request: Any = WriteRequest()
    for spec in series:
        ts = request.timeseries.add()
        for name, value in spec.labels.items():
            ts.labels.add(name=name, value=value)
        for sample_value, timestamp in spec.samples:
            ts.samples.add(value=sample_value, timestamp=timestamp)
        for fields in spec.histograms:
            ts.histograms.add(**fields)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


@dataclass
class StoringServer(FakeServer):
    """A fake whose Write is the real servicer's over a recording store: the server decodes the body
    the gateway hands on."""

    store: RecordingStore = field(default_factory=RecordingStore)

    def __post_init__(self) -> None:
        self._metrics = MetricsServicer(self.store, cast(Datasources, None), SystemClock())

    async def Write(
        self, request: metrics_service_pb2.WriteRequest, context: Context
    ) -> metrics_service_pb2.WriteResponse:
        try:
            return await self._metrics.Write(request, context)
        except InvalidArgument as exc:
            await cast(Any, context).abort_with_status(to_grpc_status(exc))
            raise


@pytest.fixture
async def server() -> AsyncIterator[StoringServer]:
    fake = StoringServer()
    await fake.start()
    yield fake
    await fake.stop()


def stored(server: StoringServer) -> list[list[tuple[str, dict[str, str], float, int]]]:
    """Each batch the store was given: its samples as (name, other labels, value, time)."""
    return [
        [
            (dict(s.labels)["__name__"], {k: v for k, v in s.labels if k != "__name__"}, s.value, s.t_ms)
            for s in b
        ]
        for b in server.store.batches
    ]


def written(server: StoringServer) -> list[tuple[str, dict[str, str], float, int]]:
    return stored(server)[-1]


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
    client: httpx.AsyncClient, server: StoringServer
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


async def test_empty_label_values_are_absent_labels(client: httpx.AsyncClient, server: StoringServer) -> None:
    body = encode(Series({"__name__": "up", "job": "node", "instance": ""}, ((1.0, T0),)))

    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 204
    assert written(server) == [("up", {"job": "node"}, 1.0, T0)]


async def test_missing_headers_are_taken_as_remote_write_1_0(
    client: httpx.AsyncClient, server: StoringServer
) -> None:
    body = encode(Series({"__name__": "up"}, ((1.0, T0),)))

    response = await client.post("/api/v1/write", content=body)

    assert response.status_code == 204
    assert written(server) == [("up", {}, 1.0, T0)]


async def test_an_empty_request_writes_nothing(client: httpx.AsyncClient, server: StoringServer) -> None:
    response = await client.post("/api/v1/write", content=encode(), headers=HEADERS)

    assert response.status_code == 204
    assert stored(server) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xff\xff\xff\xff\xff\xff", "snappy"),
        (bytes(cramjam.snappy.compress_raw(b"\x0a\xff")), "malformed protobuf"),
        (encode(Series({"job": "node"}, ((1.0, T0),))), "without a __name__"),
    ],
    ids=["bad-snappy", "bad-protobuf", "no-name"],
)
async def test_undecodable_or_unstorable_requests_are_400_and_write_nothing(
    client: httpx.AsyncClient, server: StoringServer, body: bytes, message: str
) -> None:
    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert message in response.text
    assert stored(server) == []


async def test_a_series_sent_again_is_written_as_the_first_time(
    client: httpx.AsyncClient, server: StoringServer
) -> None:
    first = encode(Series({"__name__": "up", "job": "node", "zone": ""}, ((1.0, T0),)))
    # The same labels in another order, then the first body again: both known, both as sent.
    reordered = encode(Series({"zone": "", "job": "node", "__name__": "up"}, ((0.0, T0 + 1),)))
    again = encode(Series({"__name__": "up", "job": "node", "zone": ""}, ((1.0, T0 + 2),)))
    for body in (first, reordered, again):
        response = await client.post("/api/v1/write", content=body, headers=HEADERS)
        assert response.status_code == 204
    assert stored(server) == [
        [("up", {"job": "node"}, 1.0, T0)],
        [("up", {"job": "node"}, 0.0, T0 + 1)],
        [("up", {"job": "node"}, 1.0, T0 + 2)],
    ]


async def test_timestamps_before_and_at_the_epoch_are_kept(
    client: httpx.AsyncClient, server: StoringServer
) -> None:
    times = (0, 1, -1, -1500, 999, 1000, 253_402_300_799_999, -62_135_596_800_000)
    # A series each: the store takes a series' samples in time order only.
    body = encode(*(Series({"__name__": "up", "i": str(i)}, ((float(i), t),)) for i, t in enumerate(times)))

    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 204
    assert [(value, t) for _, _, value, t in written(server)] == [(float(i), t) for i, t in enumerate(times)]


async def test_a_refused_series_stays_refused(client: httpx.AsyncClient, server: StoringServer) -> None:
    body = encode(Series({"__name__": "up", "job": "a"}, ((1.0, T0),)), Series({"job": "b"}, ((1.0, T0),)))
    for _ in range(2):
        response = await client.post("/api/v1/write", content=body, headers=HEADERS)
        assert response.status_code == 400
        assert response.text.startswith("timeseries[1]: series without a __name__ label")
    assert stored(server) == []


async def test_a_label_that_does_not_decode_is_400(client: httpx.AsyncClient, server: StoringServer) -> None:
    # A label name that is not UTF-8: field 1 of Label, 2 bytes.
    label = b"\x0a\x02\xff\xfe\x12\x01x"
    series = b"\x0a" + bytes([len(label)]) + label
    body = bytes(cramjam.snappy.compress_raw(b"\x0a" + bytes([len(series)]) + series))

    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert response.text.startswith("malformed protobuf: timeseries[0].labels")
    assert stored(server) == []


@pytest.mark.parametrize("timestamp", [-(2**63), 2**63 - 1, 253_402_300_800_000])
async def test_a_timestamp_out_of_range_is_400_naming_the_sample(
    client: httpx.AsyncClient, server: StoringServer, timestamp: int
) -> None:
    body = encode(Series({"__name__": "up"}, ((1.0, T0), (1.0, timestamp))))

    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert (
        response.text == f"timeseries[0].samples[1].timestamp: {timestamp} is out of the range of a timestamp"
    )
    assert stored(server) == []


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
    client: httpx.AsyncClient, server: StoringServer, headers: dict[str, str]
) -> None:
    body = encode(Series({"__name__": "up"}, ((1.0, T0),)))

    response = await client.post("/api/v1/write", content=body, headers={**HEADERS, **headers})

    assert response.status_code == 415
    assert stored(server) == []


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


# An integer histogram of schema 0: 6 observations, 1 in the zero bucket, buckets 0..1 and 3 (deltas).
INT_HISTOGRAM: dict[str, Any] = {
    "count_int": 6,
    "sum": 12.5,
    "schema": 0,
    "zero_threshold": 0.001,
    "zero_count_int": 1,
    "positive_spans": [{"offset": 0, "length": 2}, {"offset": 1, "length": 1}],
    "positive_deltas": [2, -1, 0],
    "negative_spans": [{"offset": -1, "length": 1}],
    "negative_deltas": [1],
    "reset_hint": 2,
    "timestamp": T0,
}
FLOAT_CUSTOM: dict[str, Any] = {
    "count_float": 3.5,
    "sum": 2.0,
    "schema": -53,
    "positive_spans": [{"offset": 0, "length": 1}, {"offset": 1, "length": 1}],
    "positive_counts": [1.5, 2.0],
    "custom_values": [0.1, 0.5],
    "timestamp": T0 + 1000,
}


async def test_histograms_become_histogram_samples_with_absolute_counts(
    client: httpx.AsyncClient, server: StoringServer
) -> None:
    body = encode(
        Series({"__name__": "rpc_seconds", "job": "a"}, ((1.0, T0 - 1),), (INT_HISTOGRAM, FLOAT_CUSTOM))
    )

    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 204, response.text
    float_sample, integer, custom = server.store.batches[-1]
    assert not isinstance(float_sample, HistogramSample)
    assert isinstance(integer, HistogramSample)
    assert isinstance(custom, HistogramSample)
    assert integer.labels == (("__name__", "rpc_seconds"), ("job", "a"))
    assert (integer.t_ms, custom.t_ms) == (T0, T0 + 1000)
    # The deltas as absolute counts, and each histogram as the Write call's own message gives it.
    assert integer.histogram == histogram_from_pb(
        Violations(),
        "",
        metrics_service_pb2.NativeHistogram(
            schema=0,
            count=6.0,
            sum=12.5,
            zero_threshold=0.001,
            zero_count=1.0,
            positive_spans=[
                metrics_service_pb2.BucketSpan(offset=0, length=2),
                metrics_service_pb2.BucketSpan(offset=1, length=1),
            ],
            positive_buckets=[2.0, 1.0, 1.0],
            negative_spans=[metrics_service_pb2.BucketSpan(offset=-1, length=1)],
            negative_buckets=[1.0],
            counter_reset_hint=metrics_service_pb2.COUNTER_RESET_HINT_NOT_RESET,
        ),
    )
    c = custom.histogram
    assert (c.schema, c.count, c.positive, c.custom_values) == (-53, 3.5, {0: 1.5, 2: 2.0}, (0.1, 0.5))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"positive_deltas": [2, -1]},
            "timeseries[1].histograms[1].positive_spans: the spans cover 3 buckets but 2 counts",
        ),
        (
            {"positive_deltas": [2, -3, 0]},
            "timeseries[1].histograms[1].positive_deltas[1]: bucket count -1.0 is negative",
        ),
        ({"schema": 9}, "timeseries[1].histograms[1].schema: must be between -4 and 8"),
        (
            {"positive_spans": [{"offset": 0, "length": 2}, {"offset": -1, "length": 1}]},
            "timeseries[1].histograms[1].positive_spans[1].offset: offset -1 is negative",
        ),
        (
            {"count_int": 7},
            "timeseries[1].histograms[1].count_int: 6 observations in buckets, but the count is 7",
        ),
        (
            {"positive_spans": [{"offset": 0, "length": 16_384}], "positive_deltas": [0] * 16_384},
            "timeseries[1].histograms[1].positive_spans: 16385 buckets, more than the limit of 16384",
        ),
        (
            {"positive_counts": [1.0]},
            "timeseries[1].histograms[1].positive_counts: a histogram of integer counts",
        ),
        (
            {
                "schema": -53,
                "zero_threshold": 0,
                "zero_count_int": 0,
                "negative_spans": [],
                "negative_deltas": [],
                "custom_values": [0.5, 0.1],
            },
            "timeseries[1].histograms[1].custom_values[1]: bounds must increase",
        ),
    ],
    ids=[
        "spans-deltas",
        "negative-count",
        "schema",
        "span-offset",
        "count",
        "bucket-cap",
        "counts",
        "custom-order",
    ],
)
async def test_invalid_histograms_are_400_naming_the_field_and_write_nothing(
    client: httpx.AsyncClient, server: StoringServer, change: dict[str, Any], message: str
) -> None:
    body = encode(
        Series({"__name__": "up"}, ((1.0, T0),)),
        Series({"__name__": "rpc_seconds"}, (), (INT_HISTOGRAM, {**INT_HISTOGRAM, **change})),
    )

    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert message in response.text
    assert stored(server) == []


async def test_float_histograms_are_checked_too(client: httpx.AsyncClient, server: StoringServer) -> None:
    body = encode(Series({"__name__": "h"}, (), ({**FLOAT_CUSTOM, "positive_counts": [1.5, -2.0]},)))

    response = await client.post("/api/v1/write", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert "timeseries[0].histograms[0].positive_counts[1]: bucket count -2.0 is negative" in response.text
    assert stored(server) == []
