"""A real Prometheus remote-writes its own series to us; we serve them back through PromQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.integration.peers import PeerProcess, free_port, peer_binary, wait_for
from tests.integration.server import ServerProcess


@pytest.fixture
def prometheus(tmp_path: Path, server: ServerProcess) -> Iterator[PeerProcess]:
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        ],
        "remote_write": [
            {
                "url": f"{server.base_url}/api/v1/write",
                "queue_config": {"batch_send_deadline": "500ms", "min_backoff": "100ms", "max_backoff": "1s"},
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    peer = PeerProcess(
        [
            str(peer_binary("prometheus")),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        tmp_path / "prometheus.log",
    )
    yield peer
    peer.stop()


def _query(http: httpx.Client, query: str) -> list[dict[str, object]]:
    r = http.get("/api/v1/query", params={"query": query})
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
