"""Replicas started together on a new PostgreSQL database: one migrates while the others wait for its
lock, and every one of them starts and serves on the schema at head."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest_asyncio
from sqlalchemy.engine import make_url

from alerting_server.store.migrate import PG_MIGRATION_LOCK, head_revision
from tests.integration.server import ServerProcess
from tests.pg import temporary_database

REPLICAS = 3


@pytest_asyncio.fixture
async def database() -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """The URL of a new, empty database, and a connection to it."""
    async with temporary_database() as url:
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(plain)
        try:
            yield plain, connection
        finally:
            await connection.close()


async def _waiting_for_the_migration_lock(admin: asyncpg.Connection) -> int:
    count: int = await admin.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    return count


async def test_replicas_starting_at_once_all_serve_on_the_migrated_schema(
    database: tuple[str, asyncpg.Connection], tmp_path: Path
) -> None:
    url, admin = database
    replicas = []
    for i in range(REPLICAS):
        workdir = tmp_path / f"replica-{i}"
        workdir.mkdir()
        replicas.append(ServerProcess(url, workdir))
    # Held here until every replica waits for it: they all reach the migration at the same moment,
    # whatever their start-up times.
    await admin.execute("SELECT pg_advisory_lock($1)", PG_MIGRATION_LOCK)
    starts = [asyncio.create_task(asyncio.to_thread(replica.start)) for replica in replicas]
    try:
        for _ in range(300):
            if await _waiting_for_the_migration_lock(admin) == REPLICAS:
                break
            await asyncio.sleep(0.1)
        assert await _waiting_for_the_migration_lock(admin) == REPLICAS
        await admin.execute("SELECT pg_advisory_unlock($1)", PG_MIGRATION_LOCK)
        await asyncio.gather(*starts)

        async with httpx.AsyncClient(timeout=10) as http:
            for replica in replicas:
                r = await http.get(f"{replica.base_url}/readyz")
                assert (r.status_code, r.json()) == (200, {"status": "serving"})
            # A write on one is read on another: one database under them all.
            r = await http.post(f"{replicas[0].base_url}/silences", json=SILENCE)
            assert r.status_code == 201, r.text
            r = await http.get(f"{replicas[-1].base_url}/silences/{r.json()['id']}")
            assert r.status_code == 200, r.text
    finally:
        await asyncio.gather(*starts, return_exceptions=True)
        for replica in replicas:
            replica.kill()

    assert await admin.fetch("SELECT version_num FROM alembic_version") == [(head_revision(),)]
    outputs = ["".join(replica.output) for replica in replicas]
    for output in outputs:
        assert " ERROR " not in output, output
        assert "Traceback" not in output, output
    assert sum("Running upgrade  -> 0001" in output for output in outputs) == 1


SILENCE = {
    "matchers": ['host="server01"'],
    "ends_at": 4102444800000,
    "created_by": "ops",
    "comment": "maintenance",
}
