"""Connecting to the database: URL normalisation, and the SQLite settings for durability and concurrency."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
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


def describe(url: URL) -> str:
    """The database as users write its URL: without the driver this store adds (normalize_url) and
    without its password."""
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def reason(exc: OSError | SQLAlchemyError) -> str:
    """What went wrong, in the driver's or the system's words, on one line."""
    if isinstance(exc, OSError):
        if exc.errno is not None:
            return os.strerror(exc.errno)
        if isinstance(exc, ConnectionError):
            # The driver's own words here name its internals ("unexpected connection_lost() call").
            return "connection lost"
        return str(exc) or ("no answer in time" if isinstance(exc, TimeoutError) else type(exc).__name__)
    if isinstance(exc, DBAPIError):
        # The driver's message, without SQLAlchemy's class names, statement and help link.
        message = str(exc.orig).rpartition(">: ")[2].strip()
        return message.splitlines()[0] if message else type(exc.orig).__name__
    if isinstance(exc, PoolTimeout):
        return "every pooled connection is in use and none came free in time"
    return str(exc).splitlines()[0]


def unavailable(url: URL, exc: OSError | SQLAlchemyError) -> DatabaseUnavailable:
    return DatabaseUnavailable(f"database {describe(url)}: {reason(exc)}")


# PostgreSQL's classes of SQLSTATE that say the database cannot serve now, whatever the statement:
# connection exception, invalid authorization, invalid catalog name (the database is gone),
# insufficient resources (too many connections, disk full), operator intervention (shutting down,
# starting up, a cancelled statement), system error.
_PG_OUTAGE_CLASSES = frozenset({"08", "28", "3D", "53", "57", "58"})
# SQLite's primary result codes of the same kind: locked past busy_timeout, out of memory, read-only
# or unopenable file, I/O error, disk full, not a database or a damaged one. (Its OperationalError
# also carries plain SQL errors, code 1: those are bugs, not outages.)
_SQLITE_OUTAGE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database is out of reach or cannot serve at all, rather than that a
    statement was wrong: the caller may try again later."""
    if isinstance(exc, (OSError, PoolTimeout)):
        # OSError: the driver could not connect, or its socket broke (TimeoutError is one).
        # PoolTimeout: every pooled connection is taken and none came back in time.
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _PG_OUTAGE_CLASSES
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _SQLITE_OUTAGE_CODES


def outage_message(url: URL, exc: OSError | SQLAlchemyError) -> str:
    """The database's name and why it cannot serve, for a caller or a readiness probe."""
    lost = isinstance(exc, OSError) or (
        isinstance(exc, DBAPIError)
        and (exc.connection_invalidated or str(getattr(exc.orig, "sqlstate", "")).startswith("08"))
    )
    return f"database {describe(url)} is {'unreachable' if lost else 'unavailable'}: {reason(exc)}"


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


def create_engine(url: str, *, idle_transaction_ms: int | None = None) -> AsyncEngine:
    """`idle_transaction_ms`, on PostgreSQL: the database ends a session whose transaction waits
    that long for its next statement (the process was cut off or stalled mid-write), so that the
    locks it holds do not outlive it by the hours TCP takes to notice."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() != "sqlite":
        settings = {}
        if idle_transaction_ms is not None:
            settings["idle_in_transaction_session_timeout"] = str(idle_transaction_ms)
        return create_async_engine(parsed, pool_pre_ping=True, connect_args={"server_settings": settings})
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
