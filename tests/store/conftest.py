"""A migrated Store on each backend: a fresh SQLite file, and PostgreSQL (one database per session,
emptied before each test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa

from alerting_server.store import Store
from alerting_server.store.tables import metadata
from tests.pg import temporary_database

BACKENDS = ["sqlite", "postgresql"]


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pg_url() -> AsyncIterator[str]:
    async with temporary_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'alerting.db'}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def url(backend: str, request: pytest.FixtureRequest) -> str:
    # Resolved lazily so that a SQLite-only run never needs PostgreSQL.
    fixture = "pg_url" if backend == "postgresql" else "sqlite_url"
    value: str = request.getfixturevalue(fixture)
    return value


@pytest.fixture
async def store(url: str) -> AsyncIterator[Store]:
    store = await Store.open(url)
    try:
        await store.migrate()
        await _empty(store)
        yield store
    finally:
        await store.close()


async def _empty(store: Store) -> None:
    async with store.transaction() as connection:
        for table in reversed(metadata.sorted_tables):
            await connection.execute(sa.delete(table))
