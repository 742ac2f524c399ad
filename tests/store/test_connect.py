from __future__ import annotations

import pytest
import sqlalchemy as sa

from alerting_server.model import Channel, ChannelType
from alerting_server.store import Store, normalize_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./alerting.db", "sqlite+aiosqlite:///./alerting.db"),
        ("sqlite:////var/lib/alerting.db", "sqlite+aiosqlite:////var/lib/alerting.db"),
        ("sqlite+aiosqlite:///a.db", "sqlite+aiosqlite:///a.db"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://u:p@db:5432/alerting", "postgresql+asyncpg://u:p@db:5432/alerting"),
        ("postgresql+asyncpg://u@db/alerting", "postgresql+asyncpg://u@db/alerting"),
        ("postgresql+psycopg2://u@db/alerting", "postgresql+asyncpg://u@db/alerting"),
        ("postgres://u@db/alerting", "postgresql+asyncpg://u@db/alerting"),
    ],
)
def test_normalize_url_names_the_async_driver(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == expected


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="mysql"):
        normalize_url("mysql://u@db/alerting")


async def test_sqlite_connections_are_durable(sqlite_url: str) -> None:
    store = await Store.open(sqlite_url)
    try:
        async with store.engine.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        await store.close()
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 10_000}


async def test_in_memory_sqlite_is_one_shared_database() -> None:
    store = await Store.open("sqlite://")
    try:
        await store.migrate()
        created = await store.channels.create(Channel(name="ops", type=ChannelType.SLACK), 1)
        assert await store.channels.get_by_name("ops") == created
    finally:
        await store.close()


async def test_foreign_keys_are_enforced(store: Store) -> None:
    async with store.engine.connect() as connection:
        with pytest.raises(sa.exc.IntegrityError):
            await connection.execute(
                sa.text(
                    "INSERT INTO delivery_attempts (delivery_id, attempt, at, outcome, error) "
                    "VALUES ('missing', 1, 0, 'failed', '')"
                )
            )
