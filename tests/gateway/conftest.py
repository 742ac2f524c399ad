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


@pytest.fixture
async def client(server: FakeServer) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway in-process (ASGI transport) in front of the fake server."""
    channel = grpc.aio.insecure_channel(server.target)
    app = create_app(server.target, channel=channel, sse_keepalive=None, max_body_bytes=4096)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield http
    await channel.close(None)
