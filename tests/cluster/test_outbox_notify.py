"""On PostgreSQL the outbox's NOTIFY names the channels of the rows a statement added, so that each
replica wakes its claimer only for a channel that can take rows (DeliveryService.wake); a list too
long for a NOTIFY payload is sent empty, which wakes for every channel."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection

import asyncpg
import pytest
import sqlalchemy as sa

from alerting_server.alerts.watch import WatchHub
from alerting_server.clock import SystemClock
from alerting_server.cluster.follower import WatchFollower
from alerting_server.cluster.node import ClusterNode
from alerting_server.model import Delivery, DeliveryStatus
from alerting_server.pipeline import AlertPipeline
from alerting_server.store import Store
from alerting_server.store.tables import deliveries
from tests.cluster.test_replicas_in_process import FakeRules, eventually
from tests.pg import temporary_database


@pytest.fixture
async def pg() -> AsyncIterator[tuple[Store, str]]:
    async with temporary_database() as url:
        store = await Store.open(url)
        await store.start(int(time.time() * 1000))
        try:
            yield store, url
        finally:
            await store.close()


def row(channel_id: str) -> tuple[Delivery, dict[str, object]]:
    delivery = Delivery(
        id="",
        channel_id=channel_id,
        status=DeliveryStatus.PENDING,
        group_key="{}:{}",
        idempotency_key=uuid.uuid4().hex,
        created_at=1,
        updated_at=1,
        next_attempt_at=1,
    )
    return delivery, {"alerts": []}


async def heard(url: str, add: Callable[[], Awaitable[object]]) -> list[str]:
    """The payloads of NOTIFY alerting_outbox that one call of `add` caused (a NOTIFY a statement, and
    one transaction folds those that repeat)."""
    got: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await listener.add_listener("alerting_outbox", lambda *args: got.put_nowait(args[3]))
        await add()
        payloads = [await asyncio.wait_for(got.get(), 5)]
        with contextlib.suppress(TimeoutError):
            while True:
                payloads.append(await asyncio.wait_for(got.get(), 0.3))
        return payloads
    finally:
        await listener.close()


async def test_the_notify_names_the_channels_of_the_rows_added(pg: tuple[Store, str]) -> None:
    store, url = pg
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    payloads = await heard(url, lambda: store.deliveries.add_many([row(a), row(b), row(a)]))
    assert {c for p in payloads for c in p.split(",")} == {a, b}
    assert "" not in payloads


async def test_one_statement_names_each_channel_once(pg: tuple[Store, str]) -> None:
    store, url = pg
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    [payload] = await heard(url, lambda: insert_rows(store, [a, b, a, b]))
    assert sorted(payload.split(",")) == sorted([a, b])


async def test_too_many_channels_for_a_payload_are_sent_as_none(pg: tuple[Store, str]) -> None:
    store, url = pg
    [payload] = await heard(url, lambda: insert_rows(store, [str(uuid.uuid4()) for _ in range(250)]))
    assert payload == ""


async def insert_rows(store: Store, channels: list[str]) -> None:
    """Rows for these channels in one INSERT statement."""
    statement = sa.insert(deliveries).values(
        [
            {
                "id": str(uuid.uuid4()),
                "channel_id": channel,
                "status": "pending",
                "group_key": "{}:{}",
                "fingerprints": [],
                "payload": {},
                "attempts": 0,
                "last_error": "",
                "idempotency_key": uuid.uuid4().hex,
                "next_attempt_at": 1,
                "created_at": 1,
                "updated_at": 1,
            }
            for channel in channels
        ]
    )
    async with store.transaction() as connection:
        await connection.execute(statement)


async def test_a_replica_wakes_its_claimer_for_the_channels_named(pg: tuple[Store, str]) -> None:
    store, _ = pg
    hub = WatchHub()
    node = ClusterNode(
        store,
        WatchFollower(store.watch_log, hub, 100, 10_000),
        replica="r",
        started_at=int(time.time() * 1000),
        ttl_ms=1500,
        partitions=1,
        poll_ms=100,
        pipeline_partitions=1,
    )
    woken: list[Collection[str] | None] = []
    node.attach(AlertPipeline(store, SystemClock(), hub, cluster=node), FakeRules(), woken.append)
    await node.notifications.start()
    try:
        await asyncio.wait_for(node.notifications.connected.wait(), 5)
        # Connecting wakes for every channel (what was added meanwhile is not known).
        assert None in woken
        woken.clear()
        a = str(uuid.uuid4())
        await store.deliveries.add_many([row(a)])
        await eventually(lambda: woken)
        assert woken == [[a]]
    finally:
        await node.notifications.stop()
