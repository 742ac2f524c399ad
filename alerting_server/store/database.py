"""Transactions and the helpers every repository shares."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, RowMapping
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alerting_server.errors import FailedPrecondition, NotFound, Unavailable
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.connect import SQLITE_BEGIN, is_memory, is_outage, outage_message
from alerting_server.store.writer import SqliteWriter

T = TypeVar("T")


@contextmanager
def outage_as_unavailable(url: URL) -> Iterator[None]:
    """A database out of reach becomes Unavailable naming it (without its password): the caller
    is told to try again later, not shown a driver's stack trace as an internal error. Errors of
    the statement itself (a constraint, say) pass unchanged."""
    try:
        yield
    except (OSError, SQLAlchemyError) as exc:
        if not is_outage(exc):
            raise
        raise Unavailable(outage_message(url, exc)) from exc


class Database:
    """One engine; reads and writes each run in one transaction; a database out of reach raises
    Unavailable (outage_as_unavailable)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        url = engine.url
        # A SQLite file has one writer thread for run(); an in-memory database is only reachable
        # through the engine's one connection.
        self._lane = SqliteWriter(url) if url.get_backend_name() == "sqlite" and not is_memory(url) else None

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work` in one write transaction: synchronous calls on the connection it is given, nothing
        else (on SQLite it runs in the writer thread, committed with the work queued beside it)."""
        with outage_as_unavailable(self.engine.url):
            if self._lane is not None:
                return await self._lane.run(work)
            async with self._writer.begin() as connection:
                return await connection.run_sync(work)

    async def close(self) -> None:
        if self._lane is not None:
            await self._lane.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        # A transaction even for reads: a page and its "more" probe see one snapshot.
        with outage_as_unavailable(self.engine.url):
            async with self.engine.begin() as connection:
                yield connection

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction on the async driver (the writes that run() does not carry)."""
        with outage_as_unavailable(self.engine.url):
            async with self._writer.begin() as connection:
                yield connection


def new_id() -> str:
    return str(uuid.uuid4())


async def fetch_page(
    connection: AsyncConnection,
    query: sa.Select[Any],
    page: PageRequest,
    kind: str,
    convert: Callable[[RowMapping], T],
) -> Page[T]:
    # One row beyond the page tells whether there is a next page without a COUNT.
    rows = (await connection.execute(query.limit(page.size + 1).offset(page.offset))).mappings().all()
    items = [convert(row) for row in rows[: page.size]]
    return Page(items, page.next_token(kind, len(items), len(rows) > page.size))


async def fetch_one(connection: AsyncConnection, query: sa.Select[Any]) -> RowMapping | None:
    row: RowMapping | None = (await connection.execute(query)).mappings().first()
    return row


async def resolve_id(
    db: Database,
    table: sa.Table,
    ref: str,
    what: str,
    describe: Callable[[RowMapping], str] = lambda row: str(row.id),
) -> str:
    """The id of the `what` whose id or else name is `ref`.

    An id wins over a name. A name several rows share (rule names are unique only within a group and
    severity) is refused with the candidates, as picking one would act on a resource the caller did
    not mean; `describe` says how each candidate is told apart.
    """
    async with db.read() as connection:
        # By id first: the primary key answers it, and ids are what callers mostly send.
        found = (await connection.execute(sa.select(table.c.id).where(table.c.id == ref))).scalar()
        if found is not None:
            return str(found)
        rows = (await connection.execute(sa.select(table).where(table.c.name == ref))).mappings().all()
    if not rows:
        raise NotFound(f"{what} {ref!r} not found")
    if len(rows) > 1:
        candidates = ", ".join(describe(row) for row in rows)
        raise FailedPrecondition(f"{what} name {ref!r} is ambiguous: {candidates}; name one by its id")
    return str(rows[0].id)


@functools.cache
def insert(table: sa.Table) -> sa.Insert:
    """The table's INSERT, one object per table (execute_many caches its SQLite form by statement)."""
    return table.insert()


def execute_many(connection: Connection, statement: sa.Insert, rows: list[dict[str, Any]]) -> None:
    """`statement` (insert() or upsert()) once per row, as connection.execute(statement, rows) would.

    On SQLite the rows go straight to the driver, JSON columns encoded by json_text: SQLAlchemy's
    per-row parameter processing costs more than SQLite's insert itself.
    """
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(statement, rows)
        return
    sql, names, json_names = _driver_form(statement, tuple(rows[0]))
    connection.exec_driver_sql(
        sql, [tuple(json_text(row[n]) if n in json_names else row[n] for n in names) for row in rows]
    )


def json_text(value: Any) -> str:
    """A JSON column's text that SQLAlchemy's reading (json.loads) gives back as `value`: orjson's,
    a tenth of json.dumps' CPU (an alert row has five JSON columns). What orjson does not take (a key
    that is not a string, an integer beyond 64 bits) is written by json, as before. Both differ on
    NaN and infinities only (orjson writes null), which the rows written here never hold: PostgreSQL
    refuses them in JSON, so they are written as strings (model.alert_json.value_to_json)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


@functools.lru_cache(maxsize=64)
def _driver_form(statement: sa.Insert, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...], frozenset[str]]:
    compiled = statement.compile(dialect=_SQLITE, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    table = statement.table
    assert isinstance(table, sa.Table)
    json_names = frozenset(c.name for c in table.columns if isinstance(c.type, sa.JSON) and c.name in names)
    return compiled.string, names, json_names


_SQLITE = sqlite.dialect()


def upsert(connection: Connection | AsyncConnection, table: sa.Table) -> sa.Insert:
    """INSERT that overwrites every non-key column of the row whose primary key is taken."""
    return _upsert(connection.dialect.name, table)


@functools.cache
def _upsert(dialect: str, table: sa.Table) -> sa.Insert:
    # Built once per table: constructing the statement costs more than running it.
    key = [column.name for column in table.primary_key.columns]
    if dialect == "postgresql":
        pg = postgresql.insert(table)
        return pg.on_conflict_do_update(index_elements=key, set_=_others(table, pg.excluded, key))
    lite = sqlite.insert(table)
    return lite.on_conflict_do_update(index_elements=key, set_=_others(table, lite.excluded, key))


def _others(
    table: sa.Table, excluded: sa.ColumnCollection[str, sa.ColumnElement[Any]], key: list[str]
) -> dict[str, sa.ColumnElement[Any]]:
    return {column.name: excluded[column.name] for column in table.columns if column.name not in key}
