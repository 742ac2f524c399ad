from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from alerting.client import AlertingClient
from tests.integration.server import ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path)
    proc.start()
    yield proc
    proc.kill()
    # Shown by pytest only when the test failed: what the server said meanwhile.
    print(f"===== server output: last {min(len(proc.output), 80)} of {len(proc.output)} lines =====")
    print("".join(proc.output[-80:]))


@pytest.fixture
async def api(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


@pytest.fixture
def grpc_client(server: ServerProcess) -> Iterator[AlertingClient]:
    with AlertingClient.connect(server.grpc_target) as client:
        yield client
