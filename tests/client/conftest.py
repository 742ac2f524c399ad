from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .fakes import FakeAlertingServer, start


@pytest.fixture
async def fake() -> AsyncIterator[FakeAlertingServer]:
    fake = FakeAlertingServer()
    server = await start(fake)
    yield fake
    await server.stop(None)
