"""One server process per SQLite database: a second one is refused at start and the first serves on;
a first one killed outright leaves no lock behind."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.server import ServerProcess

SLACK = {"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX", "channel": "#alerts"}


def test_a_second_server_on_the_same_file_is_refused_and_the_first_serves_on(tmp_path: Path) -> None:
    first = ServerProcess("sqlite:///./alerting.db", tmp_path)
    second = ServerProcess("sqlite:///./alerting.db", tmp_path)
    first.start()
    assert first.proc is not None
    try:
        with pytest.raises(RuntimeError, match=r"exit code 1\)"):
            second.start()
        assert second.output[-1] == (
            "alerting-server: database ./alerting.db is in use by another alerting-server process "
            f"(pid {first.proc.pid}); several replicas need PostgreSQL\n"
        )

        with httpx.Client(base_url=first.base_url, timeout=10) as http:
            assert http.get("/readyz").json() == {"status": "serving"}
            r = http.post("/channels", json={"name": "ops", "type": "slack", "config": SLACK})
            assert r.status_code == 201, r.text
    finally:
        first.kill()


def test_a_killed_server_leaves_the_file_to_the_next_one(tmp_path: Path) -> None:
    first = ServerProcess("sqlite:///./alerting.db", tmp_path)
    first.start()
    with httpx.Client(base_url=first.base_url, timeout=10) as http:
        r = http.post("/channels", json={"name": "ops", "type": "slack", "config": SLACK})
        assert r.status_code == 201, r.text
    first.kill()

    after = ServerProcess("sqlite:///./alerting.db", tmp_path)
    after.start()
    try:
        with httpx.Client(base_url=after.base_url, timeout=10) as http:
            assert [c["name"] for c in http.get("/channels").json()["channels"]] == ["ops"]
    finally:
        assert after.terminate() == 0
