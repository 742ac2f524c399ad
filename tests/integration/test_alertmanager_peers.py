"""Real Prometheus and real amtool against our Alertmanager-compatible API."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import yaml

from tests.integration.peers import PeerProcess, free_port, peer_binary, wait_for
from tests.integration.server import ServerProcess


def amtool(server: ServerProcess, *args: str) -> str:
    result = subprocess.run(
        [str(peer_binary("amtool")), f"--alertmanager.url={server.base_url}", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    # Nothing on stderr: no "amtool version (...) and alertmanager version (...) are different".
    assert result.stderr == "", (args, result.stderr)
    return result.stdout


def test_amtool_alerts_and_silences(server: ServerProcess, http: httpx.Client) -> None:
    amtool(
        server,
        "alert",
        "add",
        "alertname=DiskFull",
        "host=db1",
        "severity=critical",
        "--annotation=summary=disk",
    )
    [alert] = http.get("/alerts").json()["alerts"]
    assert alert["labels"] == {"alertname": "DiskFull", "host": "db1", "severity": "critical"}
    assert alert["state"] == "firing"
    assert alert["annotations"] == {"summary": "disk"}

    out = json.loads(amtool(server, "alert", "query", "-o", "json"))
    assert [a["labels"]["alertname"] for a in out] == ["DiskFull"]
    assert out[0]["status"]["state"] == "active"

    silence_id = amtool(
        server, "silence", "add", "host=db1", "--comment=maintenance", "--author=alice", "-d", "1h"
    ).strip()
    assert silence_id
    [silence] = http.get("/silences").json()["silences"]
    assert silence["id"] == silence_id
    assert silence["matchers"] == ['host="db1"']
    assert (silence["created_by"], silence["comment"], silence["state"]) == ("alice", "maintenance", "active")
    queried = json.loads(amtool(server, "silence", "query", "-o", "json"))
    assert [s["id"] for s in queried] == [silence_id]

    # The alert is muted by it.
    wait_for(lambda: bool(http.get("/alerts").json()["alerts"][0]["silenced_by"]), 15, "the silence to apply")
    assert (
        json.loads(amtool(server, "alert", "query", "-o", "json", "--silenced"))[0]["status"]["state"]
        == "suppressed"
    )

    amtool(server, "silence", "expire", silence_id)
    assert http.get(f"/silences/{silence_id}").json()["state"] == "expired"
    assert json.loads(amtool(server, "silence", "query", "-o", "json")) == []


def test_prometheus_sends_its_firing_alerts_to_us(
    tmp_path: Path, server: ServerProcess, http: httpx.Client
) -> None:
    port = free_port()
    (tmp_path / "rules.yml").write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "always",
                        "rules": [
                            {
                                "alert": "AlwaysFiring",
                                "expr": "vector(1)",
                                "labels": {"severity": "warning"},
                                "annotations": {"summary": "value {{ $value }}"},
                            }
                        ],
                    }
                ]
            }
        )
    )
    host = server.base_url.removeprefix("http://")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [host]}], "api_version": "v2"}]},
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    peer = PeerProcess(
        [
            str(peer_binary("prometheus")),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            # Its first send can precede alertmanager discovery and be dropped; resend soon, not in 1m.
            "--rules.alert.resend-delay=1s",
        ],
        tmp_path / "prometheus.log",
    )
    try:

        def delivered() -> list[dict[str, object]]:
            alerts: list[dict[str, object]] = http.get("/alerts", params={"state": "firing"}).json()["alerts"]
            return alerts

        wait_for(lambda: bool(delivered()), 60, "Prometheus to post its alert")
        [alert] = delivered()
        labels = alert["labels"]
        assert isinstance(labels, dict)
        assert labels["alertname"] == "AlwaysFiring"
        assert labels["severity"] == "warning"
        assert alert["annotations"] == {"summary": "value 1"}
        assert str(alert["generator_url"]).startswith("http")
        assert "Error sending alert" not in peer.output(), peer.output()
    finally:
        peer.stop()
