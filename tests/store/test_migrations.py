from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from alerting_server.model import Alert, AlertState, Channel, ChannelType
from alerting_server.store import Store
from alerting_server.store.migrate import alembic_config, current_revision, upgrade
from alerting_server.store.tables import alerts, metadata, rules
from tests.pg import temporary_database

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diff: list[object] = compare_metadata(context, metadata)
    return diff


async def test_migrations_reach_head(store: Store) -> None:
    assert HEAD == "0013"
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


@pytest.fixture
async def fresh_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of its own, to migrate step by step."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    async with temporary_database() as url:
        yield url


async def test_a_database_never_migrated_has_no_revision_and_one_migrated_has_its_own(fresh_url: str) -> None:
    store = await Store.open(fresh_url)
    try:
        assert await current_revision(store.engine) is None
        await upgrade(store.engine, "0006")
        assert await current_revision(store.engine) == "0006"
        await store.migrate()
        assert await current_revision(store.engine) == HEAD
    finally:
        await store.close()


async def test_0006_adds_keep_firing_since_and_keeps_the_alerts(fresh_url: str) -> None:
    store = await Store.open(fresh_url)
    try:
        await upgrade(store.engine, "0005")
        row = {
            "fingerprint": "fp",
            "rule_id": "r1",
            "rule": "Down",
            "state": "firing",
            "labels": {"alertname": "Down"},
            "annotations": {},
            "value": 1.0,
            "started_at": 1000,
            "fired_at": 1000,
            "updated_at": 1000,
            "silenced_by": [],
            "inhibited_by": [],
            "escalation_level": 0,
            "generator_url": "",
        }
        # The row as 0005 has it: the insert names only the columns given, not keep_firing_since.
        async with store.transaction() as connection:
            await connection.execute(alerts.insert(), row)
        await store.migrate()
        assert await current_revision(store.engine) == HEAD
        before = Alert(
            "fp",
            {"alertname": "Down"},
            AlertState.FIRING,
            rule="Down",
            rule_id="r1",
            value=1.0,
            started_at=1000,
            fired_at=1000,
            updated_at=1000,
        )
        assert await store.alerts.all() == [before]
    finally:
        await store.close()


async def test_0007_numbers_rule_positions_in_their_order(fresh_url: str) -> None:
    store = await Store.open(fresh_url)
    try:
        await upgrade(store.engine, "0006")
        base = {
            "severity": "",
            "type": "alerting",
            "query": "up == 0",
            "duration": 0,
            "keep_firing_for": 0,
            "labels": {},
            "annotations": {},
            "interval": None,
            "datasource": "embedded",
            "escalation_policy_id": "",
            "health": "unknown",
            "last_evaluation": None,
            "last_error": "",
            "last_evaluation_duration": None,
        }
        # One import of two groups (positions counted across the file), then a rule created in the
        # second group (position 0, as 0006 created them): it stays after the imported ones.
        rows = [
            ("a", "g1", 0, 1000),
            ("b", "g2", 1, 1000),
            ("c", "g2", 2, 1000),
            ("d", "g2", 0, 2000),
        ]
        async with store.transaction() as connection:
            await connection.execute(
                rules.insert(),
                [
                    {
                        **base,
                        "id": i,
                        "name": i,
                        "group_name": g,
                        "position": p,
                        "created_at": c,
                        "updated_at": c,
                    }
                    for i, g, p, c in rows
                ],
            )
        await store.migrate()
        assert [(r.group, r.name) for r in await store.rules.all()] == [
            ("g1", "a"),
            ("g2", "b"),
            ("g2", "c"),
            ("g2", "d"),
        ]
        async with store.transaction() as connection:
            positions = dict((await connection.execute(sa.select(rules.c.id, rules.c.position))).all())
        assert positions == {"a": 0, "b": 1, "c": 2, "d": 3}
    finally:
        await store.close()
