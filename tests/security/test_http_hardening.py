"""What other web pages and too many callers can do to a real server's REST gateway and gRPC API.

A page of another site may send a cross-origin POST of `text/plain` (or of no type) to the gateway
without asking first, and may rebind its own name to 127.0.0.1: such requests are refused and change
nothing. Past the configured concurrency limits, calls fail with the standard errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator

import httpx
import pytest

from alerting.client import AlertingClient, AsyncAlertingClient, ResourceExhaustedError
from tests.integration.peers import wait_for
from tests.integration.server import ServerProcess, started_server
from tests.security.helpers import SILENCE

CONFIG = "external_url: https://alerts.example.com/\nallowed_hosts: [alerting.internal]\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = started_server(tmp_path_factory.mktemp("hardening"), CONFIG)
    yield proc
    proc.kill()


def silences_by(http: httpx.Client, who: str) -> list[object]:
    return [s for s in http.get("/silences").json()["silences"] if s["created_by"] == who]


# --- media types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_a_json_body_not_declared_as_json_is_refused_415(
    http: httpx.Client, content_type: str | None
) -> None:
    who = f"csrf-{content_type}"
    headers = {"content-type": content_type} if content_type else {}
    r = http.post("/silences", content=json.dumps({**SILENCE, "created_by": who}), headers=headers)

    assert r.status_code == 415
    error = r.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert "application/json" in error["message"]
    assert silences_by(http, who) == []


def test_a_json_body_declared_as_json_is_taken(http: httpx.Client) -> None:
    r = http.post(
        "/silences",
        content=json.dumps({**SILENCE, "created_by": "declared"}),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 201, r.text


def test_alertmanager_api_takes_json_as_prometheus_sends_it_and_nothing_else(http: httpx.Client) -> None:
    alerts = json.dumps([{"labels": {"alertname": "Csrf"}}])

    refused = http.post("/api/v2/alerts", content=alerts, headers={"content-type": "text/plain"})
    assert refused.status_code == 415
    assert http.get("/api/v2/alerts", params={"filter": 'alertname="Csrf"'}).json() == []
    taken = http.post("/api/v2/alerts", content=alerts, headers={"content-type": "application/json"})
    assert taken.status_code == 200, taken.text


def test_a_rule_file_is_not_taken_from_a_form(http: httpx.Client) -> None:
    rules = "groups:\n  - name: g\n    rules:\n      - alert: Csrf\n        expr: up == 0\n"
    r = http.post("/rules:import", content=rules, headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert http.get("/rules").json()["rules"] == []


def test_prometheus_queries_still_come_as_forms(http: httpx.Client) -> None:
    r = http.post("/api/v1/query", data={"query": "1 + 1"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["result"][1] == "2"


# --- Origin and Host ----------------------------------------------------------------------------


def test_a_state_change_from_another_origin_is_refused_403(http: httpx.Client) -> None:
    r = http.post(
        "/silences", json={**SILENCE, "created_by": "evil"}, headers={"origin": "http://evil.example"}
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "PERMISSION_DENIED"
    assert silences_by(http, "evil") == []
    # Reading is not refused: the browser keeps another origin's page from seeing the answer.
    assert http.get("/silences", headers={"origin": "http://evil.example"}).status_code == 200


@pytest.mark.parametrize("origin", ["same", "https://alerts.example.com"])
def test_a_state_change_from_the_servers_own_origin_is_taken(
    server: ServerProcess, http: httpx.Client, origin: str
) -> None:
    origin = server.base_url if origin == "same" else origin
    r = http.post("/silences", json={**SILENCE, "created_by": "own"}, headers={"origin": origin})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.nip.io"])
def test_another_host_name_is_refused_on_loopback(
    server: ServerProcess, http: httpx.Client, host: str
) -> None:
    port = server.base_url.rpartition(":")[2]
    r = http.get("/silences", headers={"host": f"{host}:{port}"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "[::1]", "alerting.internal", "alerts.example.com"]
)
def test_the_servers_own_names_are_served(server: ServerProcess, http: httpx.Client, host: str) -> None:
    port = server.base_url.rpartition(":")[2]
    assert http.get("/silences", headers={"host": f"{host}:{port}"}).status_code == 200


# --- concurrency limits ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = started_server(
        tmp_path_factory.mktemp("limited"), "grpc_max_concurrent_rpcs: 3\nhttp_max_connections: 3\n"
    )
    yield proc
    proc.kill()


def test_http_connections_past_the_limit_are_answered_503(limited: ServerProcess) -> None:
    with contextlib.ExitStack() as streams:
        # uvicorn counts the connection it refuses: two open streams and one more make the limit.
        for _ in range(2):
            client = streams.enter_context(httpx.Client(base_url=limited.base_url, timeout=10))
            assert streams.enter_context(client.stream("GET", "/alerts/watch")).status_code == 200
        with httpx.Client(base_url=limited.base_url, timeout=10) as other:
            assert other.get("/healthz").status_code == 503

    def served() -> bool:
        with httpx.Client(base_url=limited.base_url, timeout=10) as client:
            return client.get("/healthz").status_code == 200

    wait_for(served, 10, "the closed streams' connections to be released")


async def test_grpc_calls_past_the_limit_fail_resource_exhausted(limited: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=limited.base_url, timeout=10) as http:
        r = await http.post("/api/v2/alerts", json=[{"labels": {"alertname": "Busy"}}])
        assert r.status_code == 200, r.text

    def idle() -> bool:
        with AlertingClient.connect(limited.grpc_target, retry=None) as client:
            try:
                client.list_rules()
            except ResourceExhaustedError:
                return False
            return True

    await asyncio.to_thread(wait_for, idle, 10, "streams of other tests to end")
    async with AsyncAlertingClient(limited.grpc_target, retry=None, timeout=10) as client:
        watches = [client.watch_alerts() for _ in range(3)]
        for watch in watches:
            await anext(watch)  # The snapshot: the stream is being served.
        with pytest.raises(ResourceExhaustedError):
            await client.list_rules()
        for watch in watches:
            await watch.aclose()
