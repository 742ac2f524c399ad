"""A real Prometheus (2.42, --enable-feature=native-histograms) scrapes a native histogram served in
the protobuf exposition format, remote-writes it to us, and answers the same queries: our query API
must give what it gives, JSON for JSON."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from tests.integration.peers import PeerProcess, free_port, peer_binary, wait_for
from tests.integration.server import ServerProcess

_FIELD = descriptor_pb2.FieldDescriptorProto
_CONTENT_TYPE = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"


def _field(name: str, number: int, kind: Any, type_name: str = "", repeated: bool = False) -> Any:
    field = _FIELD(
        name=name,
        number=number,
        type=kind,
        label=_FIELD.LABEL_REPEATED if repeated else _FIELD.LABEL_OPTIONAL,
    )
    if type_name:
        field.type_name = type_name
    return field


def _metric_family_class() -> Any:
    """io.prometheus.client.MetricFamily (client_model metrics.proto), as far as a histogram needs it."""
    pkg = ".io.prometheus.client."
    messages = [
        descriptor_pb2.DescriptorProto(
            name="LabelPair",
            field=[_field("name", 1, _FIELD.TYPE_STRING), _field("value", 2, _FIELD.TYPE_STRING)],
        ),
        descriptor_pb2.DescriptorProto(
            name="BucketSpan",
            field=[_field("offset", 1, _FIELD.TYPE_SINT32), _field("length", 2, _FIELD.TYPE_UINT32)],
        ),
        descriptor_pb2.DescriptorProto(
            name="Histogram",
            field=[
                _field("sample_count", 1, _FIELD.TYPE_UINT64),
                _field("sample_sum", 2, _FIELD.TYPE_DOUBLE),
                _field("schema", 5, _FIELD.TYPE_SINT32),
                _field("zero_threshold", 6, _FIELD.TYPE_DOUBLE),
                _field("zero_count", 7, _FIELD.TYPE_UINT64),
                _field("negative_span", 9, _FIELD.TYPE_MESSAGE, pkg + "BucketSpan", True),
                _field("negative_delta", 10, _FIELD.TYPE_SINT64, repeated=True),
                _field("positive_span", 12, _FIELD.TYPE_MESSAGE, pkg + "BucketSpan", True),
                _field("positive_delta", 13, _FIELD.TYPE_SINT64, repeated=True),
            ],
        ),
        descriptor_pb2.DescriptorProto(
            name="Metric",
            field=[
                _field("label", 1, _FIELD.TYPE_MESSAGE, pkg + "LabelPair", True),
                _field("histogram", 7, _FIELD.TYPE_MESSAGE, pkg + "Histogram"),
            ],
        ),
        descriptor_pb2.DescriptorProto(
            name="MetricFamily",
            field=[
                _field("name", 1, _FIELD.TYPE_STRING),
                _field("help", 2, _FIELD.TYPE_STRING),
                # MetricType, read as its number: HISTOGRAM is 4.
                _field("type", 3, _FIELD.TYPE_INT32),
                _field("metric", 4, _FIELD.TYPE_MESSAGE, pkg + "Metric", True),
            ],
        ),
    ]
    file = descriptor_pb2.FileDescriptorProto(
        name="tests/client_model_metrics.proto",
        package="io.prometheus.client",
        syntax="proto2",
        message_type=messages,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("io.prometheus.client.MetricFamily"))


MetricFamily = _metric_family_class()


class _Exposition:
    """rpc_seconds, a counter histogram of schema 3 with a zero bucket and buckets on both sides,
    growing at every scrape (so that rates and quantiles have something to work on)."""

    def __init__(self) -> None:
        self.scrapes = 0
        self.lock = threading.Lock()

    def body(self) -> bytes:
        with self.lock:
            self.scrapes += 1
            n = self.scrapes
        family = MetricFamily(name="rpc_seconds", help="RPC latency.", type=4)
        for job, scale in (("a", 1), ("b", 3)):
            metric = family.metric.add()
            metric.label.add(name="service", value=job)
            h = metric.histogram
            negative = [n * scale]
            positive = [n * scale, n, 2 * n * scale, n]  # bucket counts, given below as deltas
            zero = n
            h.sample_count = zero + sum(negative) + sum(positive)
            h.sample_sum = 1.25 * n * scale
            h.schema = 3
            h.zero_threshold = 0.001
            h.zero_count = zero
            h.negative_span.add(offset=-2, length=1)
            h.negative_delta.extend(negative)
            h.positive_span.add(offset=-3, length=2)
            h.positive_span.add(offset=5, length=2)
            h.positive_delta.extend([c - p for p, c in zip([0, *positive], positive, strict=False)])
        raw: bytes = family.SerializeToString()
        return _varint(len(raw)) + raw


def _varint(n: int) -> bytes:
    """The length prefix of the delimited format: a protobuf varint."""
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


@pytest.fixture
def exposition() -> Iterator[tuple[int, _Exposition]]:
    state = _Exposition()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = state.body()
            self.send_response(200)
            self.send_header("Content-Type", _CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], state
    server.shutdown()
    server.server_close()


@pytest.fixture
def prometheus(
    tmp_path: Path, server: ServerProcess, exposition: tuple[int, _Exposition]
) -> Iterator[tuple[PeerProcess, int]]:
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "rpc", "static_configs": [{"targets": [f"127.0.0.1:{exposition[0]}"]}]}
        ],
        "remote_write": [
            {
                "url": f"{server.base_url}/api/v1/write",
                "send_native_histograms": True,
                "queue_config": {"batch_send_deadline": "500ms", "min_backoff": "100ms", "max_backoff": "1s"},
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    peer = PeerProcess(
        [
            str(peer_binary("prometheus")),
            "--enable-feature=native-histograms",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        tmp_path / "prometheus.log",
    )
    yield peer, port
    peer.stop()


# histogram_quantile is left out: Prometheus 3 interpolates exponentially inside an exponential
# bucket, as our engine does, where 2.42 interpolated linearly.
QUERIES = [
    "rpc_seconds",
    'rpc_seconds{service="b"}',
    "histogram_count(rpc_seconds)",
    "histogram_sum(rpc_seconds)",
    "histogram_count(rate(rpc_seconds[10s]))",
    "histogram_fraction(0, 1, rpc_seconds)",
    "sum(rpc_seconds)",
    "rate(rpc_seconds[10s])",
    "rpc_seconds[3s]",
]


def _data(base_url: str, query: str, t: float) -> Any:
    r = httpx.get(f"{base_url}/api/v1/query", params={"query": query, "time": t}, timeout=10)
    assert r.status_code == 200, (base_url, query, r.text)
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]


def test_our_query_api_answers_remote_written_histograms_as_prometheus_does(
    prometheus: tuple[PeerProcess, int], server: ServerProcess, exposition: tuple[int, _Exposition]
) -> None:
    peer, port = prometheus
    ours = server.base_url
    theirs = f"http://127.0.0.1:{port}"
    wait_for(lambda: exposition[1].scrapes >= 15, 60, "15 scrapes of the histogram")
    # A moment both stores have every sample before: remote write trails the scrapes by ~0.5 s.
    t = round(time.time() - 3, 3)
    wait_for(
        lambda: (
            len(_data(ours, "rpc_seconds[5s]", t)["result"]) == 2
            and _data(ours, "rpc_seconds[5s]", t) == _data(theirs, "rpc_seconds[5s]", t)
        ),
        30,
        "our store to hold what Prometheus holds",
    )
    differing = []
    for query in QUERIES:
        expected = _data(theirs, query, t)
        assert expected["result"], query
        if _data(ours, query, t) != expected:
            differing.append((query, _data(ours, query, t), expected))
    assert [q for q, _, _ in differing] == [], differing
    log = peer.output()
    assert "non-recoverable error" not in log, log
    assert "Failed to send batch" not in log, log
