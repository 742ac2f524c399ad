"""Label limits on written series, as Prometheus' remote-write receivers have them: every way in
(gRPC Write, POST /samples, remote write) refuses a series over a limit, names it, stores nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cramjam
import httpx
import pytest

from alerting.client import AlertingClient, InvalidArgumentError
from alerting.v1 import metrics_service_pb2
from alerting_common.remote_write import WriteRequest
from alerting_server import config
from tests.integration.server import ServerProcess, started_server

LIMITS = "tsdb: {label_limit: 4, label_name_length_limit: 16, label_value_length_limit: 32}\n"
# Each over one limit, and the series an error names for it.
OVER = [
    pytest.param(
        {"a": "1", "b": "2", "c": "3", "d": "4"},
        'series m{a="1", b="2", c="3", d="4"}: 5 labels (the name included), more than the limit of 4',
        id="label count",
    ),
    pytest.param(
        {"host": "h1", "n" * 17: "x"},
        f'series m{{host="h1", {"n" * 17}="x"}}: label name \'{"n" * 17}\' of 17 characters, '
        "more than the limit of 16",
        id="name length",
    ),
    pytest.param(
        {"host": "v" * 100},
        f'series m{{host="{"v" * 64}…"}}: label host has a value of 100 characters, '
        "more than the limit of 32",
        id="value length",
    ),
]
WITHIN = {"a": "1", "b": "2", "n" * 16: "v" * 32}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("limits")
    proc = started_server(workdir, LIMITS)
    yield proc
    proc.kill()


def stored(http: httpx.Client, metric: str) -> list[dict[str, str]]:
    result = http.get("/api/v1/query", params={"query": metric}).json()["data"]["result"]
    return sorted((r["metric"] for r in result), key=lambda m: sorted(m.items()))


@pytest.mark.parametrize(("labels", "message"), OVER)
def test_grpc_write_refuses_a_series_over_a_limit_naming_it(
    server: ServerProcess, http: httpx.Client, labels: dict[str, str], message: str
) -> None:
    metric = f"grpc_{len(labels)}_{max(map(len, labels))}"
    ok = metrics_service_pb2.Sample(name=metric, labels={"ok": "1"}, value=1)
    with AlertingClient.connect(server.grpc_target) as client:
        with pytest.raises(InvalidArgumentError) as info:
            client.write([ok, metrics_service_pb2.Sample(name=metric, labels=labels, value=1)])
        assert info.value.field_violations == [
            ("samples[1].labels", message.replace("series m", f"series {metric}", 1))
        ]
        assert stored(http, metric) == []
        assert (
            client.write([ok, metrics_service_pb2.Sample(name=metric, labels=WITHIN, value=1)]).accepted == 2
        )
    assert len(stored(http, metric)) == 2


@pytest.mark.parametrize(("labels", "message"), OVER)
def test_post_samples_refuses_a_series_over_a_limit_with_400(
    http: httpx.Client, labels: dict[str, str], message: str
) -> None:
    metric = f"rest_{len(labels)}_{max(map(len, labels))}"
    ok = {"name": metric, "labels": {"ok": "1"}, "value": 1}
    r = http.post("/samples", json={"samples": [ok, {"name": metric, "labels": labels, "value": 1}]})
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert error["details"] == [
        {"field": "samples[1].labels", "description": message.replace("series m", f"series {metric}", 1)}
    ]
    assert stored(http, metric) == []


@pytest.mark.parametrize(("labels", "message"), OVER)
def test_remote_write_refuses_the_whole_request_with_400(
    http: httpx.Client, labels: dict[str, str], message: str
) -> None:
    metric = f"rw_{len(labels)}_{max(map(len, labels))}"
    now = int(time.time() * 1000)
    request: Any = WriteRequest()
    for series_labels in ({"ok": "1"}, labels):
        series = request.timeseries.add()
        for name, value in {"__name__": metric, **series_labels}.items():
            series.labels.add(name=name, value=value)
        series.samples.add(value=1.0, timestamp=now)
    body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
    r = http.post("/api/v1/write", content=body, headers=headers)
    assert r.status_code == 400
    assert message.replace("series m", f"series {metric}", 1) in r.text
    assert stored(http, metric) == []


def test_limits_are_settings_with_prometheus_like_defaults(tmp_path: Path) -> None:
    defaults = config.load(None, env={})
    assert (
        defaults.tsdb_label_limit,
        defaults.tsdb_label_name_length_limit,
        defaults.tsdb_label_value_length_limit,
    ) == (64, 256, 4096)
    f = tmp_path / "alerting.yaml"
    f.write_text("tsdb: {label_limit: 0}\n")
    with pytest.raises(config.ConfigError, match=r"tsdb\.label_limit: must be a positive integer"):
        config.load(str(f), env={})
