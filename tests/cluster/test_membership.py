"""A replica's leases on PostgreSQL while the work under them is slow to start: the renewals go on
meanwhile (a takeover that reads a lot must not let the leases run out and be taken again), and the
changes of the work run in their order."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alerting_server.cluster.membership import Membership
from alerting_server.model.fence import Fence
from alerting_server.store import Store
from alerting_server.store.connect import create_engine
from alerting_server.store.leases import fence_in
from alerting_server.tasks import cancel
from tests.pg import temporary_database

TTL_MS = 600
# A start of the work that outlasts the TTL several times over.
SLOW_START_S = 3 * TTL_MS / 1000


class Work:
    """What the replica was told to run, change by change, and how long a start takes."""

    def __init__(self, start_s: float = 0.0) -> None:
        self.start_s = start_s
        self.changes: list[tuple[str, frozenset[str]]] = []
        self.running: set[str] = set()

    async def gained(self, names: Collection[str]) -> None:
        self.changes.append(("start", frozenset(names)))
        await asyncio.sleep(self.start_s)
        self.running |= set(names)
        self.changes.append(("started", frozenset(names)))

    async def lost(self, names: Collection[str]) -> None:
        self.running -= set(names)
        self.changes.append(("stopped", frozenset(names)))


def membership(store: Store, replica: str, work: Work) -> Membership:
    return Membership(
        store.leases,
        replica,
        address=f"{replica}:1",
        http_address=f"{replica}:2",
        started_at=int(time.time() * 1000),
        ttl_ms=TTL_MS,
        partitions=2,
        pipeline_partitions=2,
        on_gained=work.gained,
        on_lost=work.lost,
    )


ALL = frozenset({"rules/0", "rules/1", "pipeline/0", "pipeline/1"})


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    async with temporary_database() as url:
        store = await Store.open(url)
        await store.start(int(time.time() * 1000))
        try:
            yield store
        finally:
            await store.close()


async def test_a_start_that_outlasts_the_ttl_keeps_its_leases(store: Store) -> None:
    work = Work(SLOW_START_S)
    m = membership(store, "a", work)
    await m.start()
    try:
        # start() returns with the work started, and the leases were renewed all along.
        assert work.running == ALL
        assert m.fence(sorted(ALL)) is not None
        await asyncio.sleep(2 * TTL_MS / 1000)
        assert m.fence(sorted(ALL)) is not None
        assert work.changes == [("start", ALL), ("started", ALL)]
        assert {row.name: row.epoch for row in await store.leases.all()} == dict.fromkeys(ALL, 1)
    finally:
        await m.stop()
    assert work.running == set()


async def test_a_dead_replicas_leases_are_taken_over_once_by_a_slow_start(store: Store) -> None:
    first = Work()
    a = membership(store, "a", first)
    await a.start()
    assert first.running == ALL
    # As SIGKILL: nothing more from the first replica, its leases run out.
    await cancel(a._task, a._watchdog)

    second = Work(SLOW_START_S)
    b = membership(store, "b", second)
    await b.start()
    try:
        deadline = time.monotonic() + 4 * TTL_MS / 1000 + SLOW_START_S
        while second.running != ALL:
            assert time.monotonic() < deadline, second.changes
            await asyncio.sleep(0.05)
        await asyncio.sleep(2 * TTL_MS / 1000)
        assert b.fence(sorted(ALL)) is not None
        # Taken once each (epoch 2), started once, never stopped: no lease ran out under the start.
        leases = {row.name: (row.holder, row.epoch) for row in await store.leases.all()}
        assert leases == dict.fromkeys(ALL, ("b", 2))
        assert [kind for kind, _ in second.changes if kind == "stopped"] == []
        assert frozenset().union(*(names for kind, names in second.changes if kind == "started")) == ALL
    finally:
        await b.stop()


async def test_the_changes_of_the_work_run_in_their_order(store: Store) -> None:
    """A replica that joins makes the first give half back while the first one's start still runs:
    the stop of that half comes after its start, never before (which would leave it running)."""
    work = Work(SLOW_START_S)
    a = membership(store, "a", work)
    start = asyncio.create_task(a.start())
    await asyncio.sleep(TTL_MS / 1000)
    assert work.changes == [("start", ALL)]
    b = membership(store, "b", Work())
    await b.start()
    a.wake()
    await start
    try:
        deadline = time.monotonic() + 4 * TTL_MS / 1000
        while len(work.running) != 2:
            assert time.monotonic() < deadline, work.changes
            await asyncio.sleep(0.05)
        kinds = [kind for kind, _ in work.changes]
        assert kinds[:2] == ["start", "started"]
        assert "stopped" in kinds[2:]
        assert work.running == set(a.held)
        assert len(a.held) == 2
        assert len(b.held) == 2
    finally:
        await b.stop()
        await a.stop()


@asynccontextmanager
async def stalled_write(engine: AsyncEngine, fence: Fence) -> AsyncIterator[AsyncConnection]:
    """A write under `fence` that stops between its fence and its commit, as a replica cut off from the
    database mid-write leaves it: its transaction stays open, the lease rows share-locked by the fence.
    Rolled back at the end, unless the database ended it before."""
    async with engine.connect() as connection:
        await connection.begin()
        await connection.run_sync(lambda c: fence_in(c, fence))
        try:
            yield connection
        finally:
            with contextlib.suppress(DBAPIError):
                await connection.rollback()


async def two_replicas(store: Store) -> tuple[Membership, Membership, Work]:
    """Two replicas sharing the leases out, both working; the second one's work."""
    first, second = Work(), Work()
    a, b = membership(store, "a", first), membership(store, "b", second)
    await a.start()
    await b.start()
    a.wake()
    deadline = time.monotonic() + 4 * TTL_MS / 1000
    while len(first.running) != 2 or len(second.running) != 2:
        assert time.monotonic() < deadline, (first.changes, second.changes)
        await asyncio.sleep(0.05)
    return a, b, second


async def taken_over(b: Membership, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while set(b.held) != ALL:
        assert time.monotonic() < deadline, f"b did not take a's leases: {b.held}"
        await asyncio.sleep(0.05)


async def test_a_dead_replicas_stalled_write_holds_up_neither_the_others_renewals_nor_their_work(
    store: Store,
) -> None:
    """The stalled write keeps its leases from being taken over (the fence's promise), but another
    replica's rounds skip them rather than wait: its own leases are renewed all along, its work never
    stops, and it takes the dead replica's leases once the write is gone."""
    a, b, work = await two_replicas(store)
    mine, theirs = dict(b.held), dict(a.held)
    await cancel(a._task, a._watchdog)
    # Connections that leave an idle transaction be (as PostgreSQL's default has them).
    engine = create_engine(store.engine.url.render_as_string(hide_password=False))
    try:
        async with stalled_write(engine, Fence("a", theirs)):
            await asyncio.sleep(5 * TTL_MS / 1000)
            assert b.held == mine, "b's rounds took a lease under a write in flight, or lost its own"
            assert b.fence(sorted(mine)) is not None, "b's leases ran out while a's write stalled"
            assert [kind for kind, _ in work.changes] == ["start", "started"]
        await taken_over(b, 4 * TTL_MS / 1000)
    finally:
        await b.stop()
        await engine.dispose()


async def test_a_write_idle_for_the_ttl_is_ended_by_the_database() -> None:
    """A replica's connections end a transaction left idle for a lease TTL (the replica was cut off
    mid-write): its leases are taken over within a few TTLs, not when TCP gives up hours later."""
    async with temporary_database() as url:
        store = await Store.open(url, idle_transaction_ms=TTL_MS)
        await store.start(int(time.time() * 1000))
        try:
            a, b, _ = await two_replicas(store)
            await cancel(a._task, a._watchdog)
            try:
                async with stalled_write(store.engine, Fence("a", dict(a.held))) as stalled:
                    await taken_over(b, 6 * TTL_MS / 1000)
                    with pytest.raises(DBAPIError, match="connection is closed"):
                        await stalled.execute(sa.text("SELECT 1"))
            finally:
                await b.stop()
        finally:
            await store.close()
