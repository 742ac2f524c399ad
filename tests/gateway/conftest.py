from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from gateway import create_app

from .fakes import FakeServer


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    fake = FakeServer()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(params=["grpc", "local"])
async def client(server: FakeServer, request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway in-process (ASGI transport) in front of the fake server: its unary calls over
    gRPC, and to the same servicers in this process (as the server wires its own gateway)."""
    channel = grpc.aio.insecure_channel(server.target)
    local = server.local if request.param == "local" else None
    app = create_app(server.target, channel=channel, sse_keepalive=None, max_body_bytes=4096, local=local)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield http
    await channel.close(None)
