from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from alerting_server.model import Channel, ChannelType
from alerting_server.store import Store
from alerting_server.store.migrate import alembic_config, current_revision
from alerting_server.store.tables import metadata

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diff: list[object] = compare_metadata(context, metadata)
    return diff


async def test_migrations_reach_head(store: Store) -> None:
    assert HEAD == "0005"
    assert await current_revision(store.engine) == HEAD


async def test_migrating_again_is_a_no_op_and_keeps_data(store: Store) -> None:
    channel = await store.channels.create(Channel(name="ops", type=ChannelType.SLACK), 1)
    await store.migrate()
    await store.migrate()
    assert await current_revision(store.engine) == HEAD
    assert await store.channels.all() == [channel]


async def test_migrated_schema_is_what_the_queries_expect(store: Store) -> None:
    async with store.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []


async def test_a_second_store_on_the_same_database_migrates_as_a_no_op(store: Store, url: str) -> None:
    other = await Store.open(url)
    try:
        await other.migrate()
        assert await current_revision(other.engine) == HEAD
    finally:
        await other.close()
