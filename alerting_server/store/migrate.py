"""Applies the Alembic migrations shipped in migrations/ to an async engine, at start-up."""

from __future__ import annotations

import functools
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from alerting_server.store.connect import SQLITE_BEGIN

MIGRATIONS = Path(__file__).parent / "migrations"

# Replicas starting together on one PostgreSQL must not run the same migration twice.
PG_MIGRATION_LOCK = 0x616C657274  # "alert"
_VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class UnknownRevision(Exception):
    """The database's schema is at a revision these migrations do not have: a newer server migrated it."""

    def __init__(self, revision: str) -> None:
        super().__init__(
            f"schema at {revision}, which this server does not know (it ships up to {head_revision()}): "
            "a newer alerting-server migrated it; run that version or a newer one"
        )


@functools.cache
def head_revision() -> str:
    """The revision the code of this server works with: the newest of its migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def _known(revision: str) -> bool:
    scripts = ScriptDirectory.from_config(alembic_config())
    return revision in {script.revision for script in scripts.walk_revisions()}


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
    current = _current(connection)
    if current is not None and not _known(current):
        # Alembic would say only that it cannot locate the revision.
        raise UnknownRevision(current)
    command.upgrade(alembic_config(connection), revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the schema to `revision` in one transaction; a no-op when it is already there."""
    async with engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}).begin() as connection:
        await connection.run_sync(_upgrade, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


_READ_VERSION = f"SELECT version_num FROM {_VERSION_TABLE}"


def _version(connection: Connection) -> str | None:
    # What _current reads, without a MigrationContext: that one logs its set-up at INFO each time,
    # and readiness reads the revision every second. The table is read first and looked for only
    # when that fails (reflecting it each time was most of the check's cost).
    try:
        return connection.exec_driver_sql(_READ_VERSION).scalar()
    except DBAPIError:
        # PostgreSQL ends the transaction at an error: the look runs in a new one.
        connection.rollback()
        if sa.inspect(connection).has_table(_VERSION_TABLE):
            raise
        return None


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_version)
