"""Alembic environment. The server passes its own connection in `config.attributes["connection"]`
(see alerting_server/store/migrate.py); the `alembic` command line connects from sqlalchemy.url."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from alerting_server.store.connect import create_engine, normalize_url
from alerting_server.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _run_offline(url: str) -> None:
    context.configure(
        url=normalize_url(url),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = config.attributes.get("connection")
if isinstance(_connection, Connection):
    _run(_connection)
elif context.is_offline_mode():
    _run_offline(config.get_main_option("sqlalchemy.url") or "")
else:
    asyncio.run(_run_from_url(config.get_main_option("sqlalchemy.url") or ""))
