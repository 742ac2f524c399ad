"""The gateway served by uvicorn on a real socket, its channel opened and closed by the app itself."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from alerting.v1 import alert_service_pb2
from gateway import create_app

from .fakes import FakeServer, firing_alert


@pytest.fixture
async def base_url(server: FakeServer) -> AsyncIterator[str]:
    # Listening before uvicorn starts: early connections wait in the backlog, no start-up polling.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = uvicorn.Config(create_app(server.target), log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    task = asyncio.create_task(uvicorn_server.serve(sockets=[sock]))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    uvicorn_server.should_exit = True
    await task
    sock.close()


async def test_rest_round_trip_over_http(base_url: str, server: FakeServer) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        created = await http.post(
            "/rules",
            json={"name": "a", "query": "up == 0", "duration": "5m"},
            headers={"Authorization": "Bearer t"},
        )
        got = await http.get(f"/rules/{created.json()['id']}")
        missing = await http.get("/rules/nope")

    assert created.status_code == 201
    assert got.json() == created.json()
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    assert server.calls[0].authorization == "Bearer t"


async def test_event_stream_over_http(base_url: str, server: FakeServer) -> None:
    server.watch_events = [
        alert_service_pb2.WatchAlertsResponse(
            type=alert_service_pb2.ALERT_EVENT_TYPE_CREATED, alert=firing_alert(), revision=7
        )
    ]
    lines = []
    async with (
        httpx.AsyncClient(base_url=base_url) as http,
        http.stream("GET", "/alerts/watch", headers={"Accept": "text/event-stream"}) as response,
    ):
        async for line in response.aiter_lines():
            lines.append(line)

    assert response.headers["content-type"].startswith("text/event-stream")
    assert lines[:2] == ["id: 7", "event: created"]
    assert json.loads(lines[2].removeprefix("data: "))["alert"]["fingerprint"] == "5f3c1a"


async def test_operations_over_http(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        health = await http.get("/healthz")
        ready = await http.get("/readyz")

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "serving"})
