from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.server import ServerProcess


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    """A client of the module's server."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client
