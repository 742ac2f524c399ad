"""A real Prometheus as a peer: it remote-writes its own series to us, and serves as a datasource."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.integration.peers import PeerProcess, free_port, peer_binary, wait_for
from tests.integration.server import ServerProcess

FAST_QUEUE = {"batch_send_deadline": "500ms", "min_backoff": "100ms", "max_backoff": "1s"}
# Prometheus' defaults as they meet a server's keep-alive: one connection per queue, used every 5 s
# (the batch deadline; batches never fill up first), idle in between.
DEFAULT_PACE_QUEUE = {"batch_send_deadline": "5s", "max_samples_per_send": 100_000, "max_shards": 1}


def start_prometheus(
    tmp_path: Path,
    port: int,
    remote_write_url: str = "",
    queue_config: dict[str, object] | None = None,
    queues: int = 1,
) -> PeerProcess:
    """A real Prometheus scraping itself every second, optionally remote-writing to `remote_write_url`
    through `queues` queues of its own (each with its own connection; a `queue` label keeps their
    series apart)."""
    config: dict[str, object] = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        ],
    }
    if remote_write_url:
        config["remote_write"] = [
            {
                "name": f"queue-{i}",
                "url": remote_write_url,
                "queue_config": queue_config or FAST_QUEUE,
                "write_relabel_configs": [{"target_label": "queue", "replacement": str(i)}] if i else [],
            }
            for i in range(queues)
        ]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    return PeerProcess(
        [
            str(peer_binary("prometheus")),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        tmp_path / "prometheus.log",
    )


@pytest.fixture
def prometheus(tmp_path: Path, server: ServerProcess) -> Iterator[PeerProcess]:
    peer = start_prometheus(tmp_path, free_port(), f"{server.base_url}/api/v1/write")
    yield peer
    peer.stop()


def _query(http: httpx.Client, query: str, datasource: str = "") -> list[dict[str, object]]:
    r = http.get("/api/v1/query", params={"query": query, "datasource": datasource})
    assert r.status_code == 200, r.text
    result: list[dict[str, object]] = r.json()["data"]["result"]
    return result


def test_prometheus_remote_write_arrives_and_is_queryable(
    prometheus: PeerProcess, http: httpx.Client
) -> None:
    wait_for(lambda: bool(_query(http, "prometheus_build_info")), 60, "prometheus_build_info to arrive")
    [build] = _query(http, "prometheus_build_info")
    metric = build["metric"]
    assert isinstance(metric, dict)
    assert metric["job"] == "prometheus"
    assert metric["version"].startswith("2.")
    wait_for(lambda: bool(_query(http, 'up{job="prometheus"} == 1')), 30, "up to arrive")
    # Counters keep flowing: rate() over what was written is a real number.
    wait_for(
        lambda: bool(_query(http, "rate(prometheus_tsdb_head_samples_appended_total[30s]) > 0")),
        60,
        "a positive ingestion rate",
    )
    # Prometheus logs every batch we refused; there must be none.
    log = prometheus.output()
    assert "non-recoverable error" not in log, log
    assert "Failed to send batch" not in log, log


def _prometheus_metric(port: int, query: str) -> float:
    r = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": query}, timeout=10)
    assert r.status_code == 200, r.text
    result = r.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def test_remote_write_at_prometheus_pace_loses_no_batch_to_the_keep_alive(
    tmp_path: Path, server: ServerProcess, http: httpx.Client
) -> None:
    """A server that closes idle connections after about the batch interval races Prometheus' next
    send on the same connection: the request meets a closed socket ("connection reset by peer") and
    Prometheus retries the batch. Four queues send about 7 batches each here; with a 5 s keep-alive
    some 3 batches in 7 fail."""
    port = free_port()
    url = f"{server.base_url}/api/v1/write"
    peer = start_prometheus(tmp_path, port, url, DEFAULT_PACE_QUEUE, queues=4)
    try:
        wait_for(lambda: bool(_query(http, "prometheus_build_info")), 30, "the first batch")
        time.sleep(35)
        retried = _prometheus_metric(port, "sum(prometheus_remote_storage_samples_retried_total)")
        failed = _prometheus_metric(port, "sum(prometheus_remote_storage_samples_failed_total)")
        sent = _prometheus_metric(port, "sum(prometheus_remote_storage_samples_total)")
        log = peer.output()
    finally:
        peer.stop()
    assert "Failed to send batch" not in log, log
    assert (retried, failed) == (0, 0)
    # Samples kept arriving the whole time, through every queue: some 35 scrapes of each series.
    [scrapes] = _query(http, 'min(count_over_time(up{job="prometheus"}[1m]))')
    value = scrapes["value"]
    assert isinstance(value, list)
    assert int(value[1]) >= 30
    assert sent > 0


def test_a_prometheus_datasource_answers_queries_through_us(tmp_path: Path) -> None:
    port = free_port()
    peer = start_prometheus(tmp_path, port)
    datasource = {"name": "prom", "url": f"http://127.0.0.1:{port}", "timeout": "5s"}
    (tmp_path / "alerting.yaml").write_text(yaml.safe_dump({"datasources": [datasource]}))
    server = ServerProcess(
        f"sqlite:///{tmp_path / 'a.db'}", tmp_path, ["--config", str(tmp_path / "alerting.yaml")]
    )
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            up = 'up{job="prometheus"}'
            wait_for(lambda: bool(_query(http, up, "prom")), 30, "Prometheus to scrape itself")
            [series] = _query(http, up, "prom")
            assert series["metric"] == {
                "__name__": "up",
                "instance": f"127.0.0.1:{port}",
                "job": "prometheus",
            }
            # The embedded store has none of it: the answer really came from the datasource.
            assert _query(http, up) == []
            assert (
                http.get("/api/v1/query", params={"query": "sum(", "datasource": "prom"}).status_code == 400
            )
            r = http.get("/api/v1/query", params={"query": "up", "datasource": "nope"})
            assert r.status_code == 400
            assert "prom" in r.text
    finally:
        server.kill()
        peer.stop()
