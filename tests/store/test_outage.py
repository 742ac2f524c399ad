"""A database out of reach: the store raises Unavailable naming it (never its password), tells a
statement's own errors apart from an outage, and its readiness check says what is wrong."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from alerting_server.errors import AlreadyExists, Unavailable
from alerting_server.model import Channel, ChannelType
from alerting_server.store import Store
from alerting_server.store.connect import is_outage, outage_message
from alerting_server.store.migrate import head_revision
from tests.pg import temporary_database
from tests.tcpproxy import TcpProxy


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy("127.0.0.1", 5432) as p:
        yield p


@pytest_asyncio.fixture
async def proxied(proxy: TcpProxy) -> AsyncIterator[tuple[Store, str]]:
    """A migrated store on a database of its own, reached through the proxy with a password in its URL;
    and the name the store gives that database."""
    async with temporary_database() as url:
        through = make_url(url).set(port=proxy.port, password="hunter2")
        store = await Store.open(through.render_as_string(hide_password=False))
        try:
            await store.migrate()
            yield store, f"postgresql://postgres:***@127.0.0.1:{proxy.port}/{through.database}"
        finally:
            await store.close()


async def test_reads_and_writes_without_the_database_are_unavailable_naming_it(
    proxied: tuple[Store, str], proxy: TcpProxy
) -> None:
    store, name = proxied
    ops = await store.channels.create(Channel(name="ops", type=ChannelType.SLACK), 1)

    proxy.cut()

    for attempt in (
        store.channels.all(),
        store.channels.create(Channel(name="dev", type=ChannelType.SLACK), 2),
        store.write(lambda connection: connection.execute(sa.text("SELECT 1"))),
    ):
        with pytest.raises(Unavailable) as info:
            await attempt
        assert info.value.message.startswith(f"database {name} is unreachable: ")
        assert "hunter2" not in info.value.message

    proxy.restore()

    assert await store.channels.all() == [ops]
    with pytest.raises(AlreadyExists):
        await store.channels.create(Channel(name="ops", type=ChannelType.SLACK), 3)


async def test_a_statement_cut_in_flight_is_unavailable(proxied: tuple[Store, str], proxy: TcpProxy) -> None:
    store, name = proxied

    async def slow() -> None:
        async with store.transaction() as connection:
            await connection.execute(sa.text("SELECT pg_sleep(5)"))

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    await asyncio.to_thread(proxy.cut)

    with pytest.raises(Unavailable) as info:
        await task
    assert info.value.message.startswith(f"database {name} is unreachable: ")


async def test_the_check_says_when_the_database_is_out_of_reach(
    proxied: tuple[Store, str], proxy: TcpProxy
) -> None:
    store, name = proxied
    assert await store.check() is None

    proxy.cut()
    problem = await store.check()
    proxy.restore()

    assert problem is not None
    assert problem.startswith(f"database {name} is unreachable: ")
    assert await store.check() is None


async def test_the_check_of_a_database_that_does_not_answer_ends_at_its_timeout() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    silent = await asyncio.start_server(say_nothing, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    store = await Store.open(f"postgresql://alerting:hunter2@127.0.0.1:{port}/alerting")
    try:
        async with asyncio.timeout(5):
            problem = await store.check(timeout_s=0.2)
    finally:
        await store.close()
        for writer in accepted:
            writer.close()
        silent.close()
        await silent.wait_closed()

    assert problem == (
        f"database postgresql://alerting:***@127.0.0.1:{port}/alerting is unavailable: no answer within 0.2s"
    )


async def test_the_check_names_a_schema_of_another_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alerting.db'}"
    store = await Store.open(url)
    try:
        assert (
            await store.check()
            == f"database {url}: schema at no revision, this server needs {head_revision()}"
        )
        await store.migrate()
        assert await store.check() is None
        for revision in ("0007", "0099_newer"):
            async with store.transaction() as connection:
                await connection.execute(
                    sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision}
                )
            assert await store.check() == (
                f"database {url}: schema at {revision}, this server needs {head_revision()}"
            )
    finally:
        await store.close()


async def test_the_check_names_a_postgresql_database_never_migrated_then_passes() -> None:
    """The version table is read first and looked for only when that fails: on PostgreSQL the failed
    read ends the transaction, and the look must not fail with it."""
    async with temporary_database() as url:
        store = await Store.open(url)
        try:
            problem = await store.check()
            assert problem is not None
            assert problem.endswith(f": schema at no revision, this server needs {head_revision()}")
            await store.migrate()
            assert await store.check() is None
        finally:
            await store.close()


async def test_an_in_memory_database_is_always_there() -> None:
    store = await Store.open("sqlite://")
    try:
        await store.migrate()
        assert await store.check() is None
    finally:
        await store.close()


def _error(engine: sa.Engine, statement: str) -> DBAPIError:
    with engine.connect() as connection, pytest.raises(DBAPIError) as info:
        connection.exec_driver_sql(statement)
    return info.value


def test_sqlite_tells_a_locked_file_from_a_wrong_statement(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        locked = _error(engine, "BEGIN IMMEDIATE")
        wrong = _error(engine, "SELEC 1")
    finally:
        engine.dispose()
        holder.close()

    assert "locked" in str(locked)
    assert is_outage(locked)
    assert not is_outage(wrong)


async def test_postgresql_tells_a_missing_database_from_a_wrong_statement() -> None:
    async with temporary_database() as url:
        gone = await Store.open(make_url(url).set(database="no_such_database").render_as_string(False))
        store = await Store.open(url)
        try:
            with pytest.raises(DBAPIError) as missing:
                async with gone.engine.connect() as connection:
                    await connection.execute(sa.text("SELECT 1"))
            with pytest.raises(DBAPIError) as wrong:
                async with store.engine.connect() as connection:
                    await connection.execute(sa.text("SELEC 1"))
        finally:
            await gone.close()
            await store.close()

    assert is_outage(missing.value)
    assert not is_outage(wrong.value)
    assert is_outage(ConnectionRefusedError(111, "Connection refused"))
    assert is_outage(TimeoutError())
    assert not is_outage(ValueError("not a database error"))


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
            "unreachable: Connection refused",
        ),
        (ConnectionError("unexpected connection_lost() call"), "unreachable: connection lost"),
        (TimeoutError(), "unreachable: no answer in time"),
    ],
)
def test_an_outage_is_said_in_plain_words(error: OSError, said: str) -> None:
    url = make_url("postgresql+asyncpg://alerting:hunter2@db:5432/alerting")

    assert outage_message(url, error) == f"database postgresql://alerting:***@db:5432/alerting is {said}"


async def test_a_check_cut_short_leaves_the_store_working(proxied: tuple[Store, str]) -> None:
    store, name = proxied
    url = store.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    blocker = await asyncpg.connect(url)
    try:
        # As a migration's DDL would: readers of the table wait for the lock.
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        assert await store.check(timeout_s=0.2) == f"database {name} is unavailable: no answer within 0.2s"
        await transaction.rollback()
    finally:
        await blocker.close()

    for _ in range(3):
        assert await store.check() is None
    assert await store.channels.all() == []
