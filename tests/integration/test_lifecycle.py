"""Durability across SIGKILL, graceful shutdown on SIGTERM, configuration and authentication."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import grpc
import httpx
import pytest

from alerting.cli import main as alertctl
from alerting.client import AlertingClient, AsyncAlertingClient, PermissionDeniedError, UnauthenticatedError
from alerting.v1 import rule_service_pb2
from alerting_server.app import AlertingApp
from alerting_server.config import Config
from tests.integration.server import ServerProcess

SLACK = {"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX", "channel": "#alerts"}


_EVALUATION_STATUS = ("health", "last_evaluation", "last_evaluation_duration", "last_error")


def test_sigkill_loses_nothing(server: ServerProcess, http: httpx.Client) -> None:
    made = {
        "/rules": http.post("/rules", json={"name": "r", "query": "up == 0", "duration": "1m"}).json(),
        "/channels": http.post("/channels", json={"name": "c", "type": "slack", "config": SLACK}).json(),
        "/silences": http.post(
            "/silences",
            json={"matchers": ['a="b"'], "ends_at": 4102444800000, "created_by": "me", "comment": "x"},
        ).json(),
        "/inhibit-rules": http.post(
            "/inhibit-rules", json={"source_matchers": ['a="b"'], "target_matchers": ['c="d"']}
        ).json(),
        "/escalation-policies": http.post(
            "/escalation-policies", json={"name": "p", "levels": [{"after": "0s", "channels": ["c"]}]}
        ).json(),
    }
    routing = http.put("/routing", json={"receiver": "c", "group_by": ["alertname"]}).json()
    server.restart()
    with httpx.Client(base_url=server.base_url, timeout=10) as again:
        for path, resource in made.items():
            found = again.get(f"{path}/{resource['id']}").json()
            # A rule's evaluation status is not stored: the restarted server may have evaluated it.
            for runtime in _EVALUATION_STATUS if path == "/rules" else ():
                found.pop(runtime)
                resource.pop(runtime)
            assert found == resource, path
        assert again.get("/routing").json() == routing


def test_sigkill_keeps_accepted_samples(server: ServerProcess, http: httpx.Client) -> None:
    now = int(time.time() * 1000)
    samples = [
        {"name": "queue_depth", "labels": {"q": "a"}, "value": float(i), "timestamp": now - 10_000 + i}
        for i in range(5)
    ]
    assert http.post("/samples", json={"samples": samples}).json()["accepted"] == 5
    server.restart()
    with httpx.Client(base_url=server.base_url, timeout=10) as again:
        r = again.get("/api/v1/query", params={"query": "queue_depth[1m]", "time": now / 1000})
        [series] = r.json()["data"]["result"]
        assert [v for _, v in series["values"]] == ["0", "1", "2", "3", "4"]
        # The restored series keeps rejecting what is older than its head.
        late = again.post("/samples", json={"samples": [{**samples[0], "timestamp": now - 20_000}]}).json()
        assert late["rejected"] == 1


def test_sigterm_exits_zero_after_draining(server: ServerProcess, http: httpx.Client) -> None:
    assert http.post("/rules", json={"name": "r", "query": "up == 0"}).status_code == 201
    assert server.terminate() == 0
    assert "Traceback" not in "".join(server.output)


async def test_graceful_stop_finishes_accepted_calls_and_keeps_them(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    config = Config(
        grpc_listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        database_url=url,
        data_dir=str(tmp_path / "data"),
    )
    app = AlertingApp(config)
    await app.start()
    client = AsyncAlertingClient(app.addresses.grpc, retry=None)
    calls = [
        asyncio.create_task(client.create_rule(rule_service_pb2.Rule(name=f"r{i}", query="up == 0")))
        for i in range(40)
    ]
    await asyncio.sleep(0.05)
    await app.stop()
    results = await asyncio.gather(*calls, return_exceptions=True)
    await client.close()
    succeeded = {r.id for r in results if isinstance(r, rule_service_pb2.Rule)}
    assert succeeded, results
    for r in results:
        assert isinstance(r, rule_service_pb2.Rule) or getattr(r, "code", None) in (
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.CANCELLED,
        ), r
    again = AlertingApp(config)
    await again.start()
    try:
        stored = {r.id for r in await again.store.rules.all()}
    finally:
        await again.stop()
    assert succeeded <= stored


def test_environment_and_config_file(tmp_path: Path) -> None:
    config_file = tmp_path / "alerting.yaml"
    config_file.write_text(f"database_url: sqlite:///{tmp_path / 'from-file.db'}\n")
    proc = ServerProcess("", tmp_path)
    proc.extra_args = ["--config", str(config_file)]
    # The flag given by ServerProcess is empty, so the file's URL applies.
    proc.database_url = f"sqlite:///{tmp_path / 'from-flag.db'}"
    proc.start()
    try:
        assert (tmp_path / "from-flag.db").exists()
        assert not (tmp_path / "from-file.db").exists()
    finally:
        proc.kill()
    bad = tmp_path / "bad.yaml"
    bad.write_text("grpc_listen: nowhere\n")
    proc = ServerProcess(f"sqlite:///{tmp_path / 'x.db'}", tmp_path, ["--config", str(bad)])
    with pytest.raises(RuntimeError, match="grpc_listen"):
        proc.start(timeout=15)


TOKENS = {
    "read": "read-token-0123456789",
    "write": "write-token-0123456789",
    "admin": "admin-token-0123456789",
}


@pytest.fixture
def secured(tmp_path: Path) -> ServerProcess:
    config_file = tmp_path / "alerting.yaml"
    config_file.write_text(
        json.dumps({"auth": {"tokens": [{"name": s, "token": t, "scope": s} for s, t in TOKENS.items()]}})
    )
    proc = ServerProcess(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, ["--config", str(config_file)])
    proc.start()
    return proc


def test_bearer_tokens_over_rest(secured: ServerProcess) -> None:
    try:
        with httpx.Client(base_url=secured.base_url, timeout=10) as http:
            assert http.get("/rules").status_code == 401
            assert (
                http.get("/rules", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code
                == 401
            )
            read = {"Authorization": f"Bearer {TOKENS['read']}"}
            assert http.get("/rules", headers=read).status_code == 200
            r = http.post("/rules", json={"name": "r", "query": "up == 0"}, headers=read)
            assert r.status_code == 403
            assert r.json()["error"]["code"] == "PERMISSION_DENIED"
            write = {"Authorization": f"Bearer {TOKENS['write']}"}
            assert (
                http.post("/rules", json={"name": "r", "query": "up == 0"}, headers=write).status_code == 201
            )
            channel = {"name": "c", "type": "slack", "config": SLACK}
            assert http.post("/channels", json=channel, headers=write).status_code == 403
            admin = {"Authorization": f"Bearer {TOKENS['admin']}"}
            assert http.post("/channels", json=channel, headers=admin).status_code == 201
            assert http.get("/healthz").status_code == 200
    finally:
        secured.kill()


def test_bearer_tokens_over_grpc(secured: ServerProcess) -> None:
    try:
        with AlertingClient.connect(secured.grpc_target) as anonymous, pytest.raises(UnauthenticatedError):
            anonymous.list_rules()
        with AlertingClient.connect(secured.grpc_target, token=TOKENS["read"]) as reader:
            assert list(reader.iter_rules()) == []
            with pytest.raises(PermissionDeniedError):
                reader.create_rule(rule_service_pb2.Rule(name="r", query="up == 0"))
        with AlertingClient.connect(secured.grpc_target, token=TOKENS["write"]) as writer:
            assert writer.create_rule(rule_service_pb2.Rule(name="r", query="up == 0")).id
    finally:
        secured.kill()


def test_a_silence_without_its_author_is_by_the_token(
    secured: ServerProcess, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    try:
        argv = [
            "--server",
            secured.grpc_target,
            "--token",
            TOKENS["write"],
            "-o",
            "json",
            "silences",
            "create",
        ]
        argv += ["--matcher", 'host="server01"', "--duration", "1h", "--comment", "deploy"]
        assert alertctl(argv) == 0
        captured = capsys.readouterr()
        assert json.loads(captured.out)["created_by"] == "write"
        assert "created_by: write (the token's name" in captured.err
        with httpx.Client(base_url=secured.base_url, timeout=10) as http:
            body = {"matchers": ['a="b"'], "ends_at": 4102444800000, "comment": "c"}
            r = http.post("/silences", json=body, headers={"Authorization": f"Bearer {TOKENS['admin']}"})
            assert r.status_code == 201, r.text
            assert r.json()["created_by"] == "admin"
    finally:
        secured.kill()
