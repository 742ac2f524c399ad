"""Connecting to the database: URL normalisation, and the SQLite settings for durability and concurrency."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

DEFAULT_URL = "sqlite+aiosqlite:///./alerting.db"

# Execution option that makes a SQLite transaction take the write lock at BEGIN: a deferred
# transaction that reads and then writes fails at once with SQLITE_BUSY when another writer
# committed in between, whereas BEGIN IMMEDIATE waits for the lock under busy_timeout.
SQLITE_BEGIN = "alerting_sqlite_begin"

_BUSY_TIMEOUT_MS = 10_000
_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # FULL syncs the WAL on every commit: a committed outbox row survives SIGKILL and power loss.
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}",
)


class DatabaseUnavailable(Exception):
    """The database could not be opened or migrated; the message names it, never with its password."""


def check_url(url: str) -> None:
    """Raises ValueError saying what is wrong with a database URL."""
    try:
        normalize_url(url)
    except ArgumentError:
        raise ValueError("not a database URL") from None


def unavailable(url: URL, exc: OSError | SQLAlchemyError) -> DatabaseUnavailable:
    # Named as users write it: without the driver this store adds (normalize_url).
    where = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    elif isinstance(exc, DBAPIError):
        # The driver's message, without SQLAlchemy's class names, statement and help link.
        reason = str(exc.orig).rpartition(">: ")[2].strip() or type(exc.orig).__name__
    else:
        reason = str(exc).splitlines()[0]
    return DatabaseUnavailable(f"database {where}: {reason}")


def normalize_url(url: str) -> URL:
    """Accepts `postgresql://`, `postgres://`, `sqlite:///path` and names the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}")


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create_engine(url: str) -> AsyncEngine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, pool_pre_ping=True)
    if is_memory(parsed):
        # One shared connection, or every checkout would see its own empty database.
        engine = create_async_engine(parsed, poolclass=StaticPool)
    else:
        _create_private(parsed.database or "")
        engine = create_async_engine(parsed)
    configure_sqlite(engine.sync_engine)
    return engine


def _create_private(path: str) -> None:
    """Creates a new database file readable by its owner only; SQLite gives its -wal and -shm
    files the mode of the database file. An existing file keeps the mode its owner chose."""
    if path.startswith("file:"):
        return  # A URI filename: SQLite parses it, and creates the file as the URI says.
    with contextlib.suppress(FileExistsError, FileNotFoundError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def configure_sqlite(engine: Engine) -> None:
    """The pragmas on every new connection, and a real BEGIN (DEFERRED unless the connection's
    SQLITE_BEGIN execution option says IMMEDIATE) at the start of every transaction."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()
        # The sqlite3 module's own transaction handling skips BEGIN before SELECT and DDL;
        # we emit BEGIN ourselves so that every transaction is a real one.
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")
