"""Claiming and marking outbox rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from alerting_server.model import Delivery, DeliveryStatus
from alerting_server.model.outbox import Attempt, Outcome
from alerting_server.store import Store
from tests.pg import temporary_database

T0 = 1_700_000_000_000
LEASE = 60_000


@pytest_asyncio.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        s = await Store.open(f"sqlite:///{tmp_path / 'a.db'}")
        await s.migrate()
        yield s
        await s.close()
        return
    async with temporary_database() as url:
        s = await Store.open(url)
        await s.migrate()
        yield s
        await s.close()


async def enqueue(store: Store, channel: str, n: int, due: int = T0) -> list[str]:
    items = [
        (
            Delivery(
                id=f"{channel}-{i:03d}",
                channel_id=channel,
                status=DeliveryStatus.PENDING,
                group_key=f"g{i}",
                fingerprints=(f"fp{i}",),
                idempotency_key=f"key-{channel}-{i}",
                created_at=due,
                updated_at=due,
                next_attempt_at=due + i,
            ),
            {"receiver": channel, "n": i},
        )
        for i in range(n)
    ]
    return [d.id for d in await store.deliveries.add_many(items)]


async def test_claims_due_rows_oldest_first_and_leases_them(store: Store) -> None:
    await enqueue(store, "a", 5)
    first = await store.deliveries.claim(T0 + 2, token="w1", lease_until=T0 + LEASE, limit=10)
    assert [c.delivery.id for c in first] == ["a-000", "a-001", "a-002"]  # The others are not due yet.
    assert first[0].payload == {"receiver": "a", "n": 0}
    again = await store.deliveries.claim(T0 + 10, token="w2", lease_until=T0 + LEASE, limit=10)
    assert [c.delivery.id for c in again] == ["a-003", "a-004"]  # Leased rows are not claimed twice.
    # A lease that ran out (its worker died) makes the row due again.
    after = await store.deliveries.claim(T0 + LEASE, token="w3", lease_until=T0 + 2 * LEASE, limit=10)
    assert len(after) == 5


async def test_room_per_channel_keeps_a_backlog_from_hiding_other_channels(store: Store) -> None:
    await enqueue(store, "busy", 50, due=T0 - 1000)
    await enqueue(store, "quiet", 2)
    claimed = await store.deliveries.claim(
        T0 + 5, token="w", lease_until=T0 + LEASE, limit=10, room={"busy": 3, "quiet": 10}
    )
    by_channel = sorted(c.delivery.channel_id for c in claimed)
    assert by_channel.count("busy") == 3
    full = await store.deliveries.claim(
        T0 + 5, token="w", lease_until=T0 + LEASE, limit=10, room={"busy": 0, "quiet": 10}
    )
    assert [c.delivery.channel_id for c in full] == ["quiet", "quiet"]
    unknown = await store.deliveries.claim(
        T0 + 5, token="w", lease_until=T0 + LEASE, limit=10, room={"quiet": 10}, default_room=1
    )
    assert [c.delivery.channel_id for c in unknown] == ["busy"]


async def test_finish_records_the_attempt_and_only_the_lease_holder_moves_the_row(store: Store) -> None:
    [row_id] = await enqueue(store, "a", 1)
    await store.deliveries.claim(T0, token="old", lease_until=T0 + 10, limit=1)
    await store.deliveries.claim(T0 + 10, token="new", lease_until=T0 + LEASE, limit=1)
    retry = Outcome(DeliveryStatus.RETRYING, 1, last_error="HTTP 503", next_attempt_at=T0 + 500)
    late = Attempt(attempt=1, at=T0 + 20, outcome="retrying", status_code=503, error="HTTP 503", duration=7)
    assert not await store.deliveries.finish(row_id, token="old", attempt=late, outcome=retry)
    assert (await store.deliveries.get(row_id)).status is DeliveryStatus.PENDING
    done = Outcome(DeliveryStatus.DELIVERED, 2, delivered_at=T0 + 30)
    ok = Attempt(attempt=2, at=T0 + 30, outcome="delivered", status_code=None, error="", duration=3)
    assert await store.deliveries.finish(row_id, token="new", attempt=ok, outcome=done)
    stored = await store.deliveries.get(row_id)
    assert (stored.status, stored.attempts, stored.delivered_at) == (DeliveryStatus.DELIVERED, 2, T0 + 30)
    assert (stored.last_error, stored.next_attempt_at, stored.updated_at) == ("", None, T0 + 30)
    assert await store.deliveries.attempts(row_id) == [late, ok]
    assert await store.deliveries.claim(T0 + 10 * LEASE, token="x", lease_until=T0, limit=5) == []


async def test_retrying_rows_come_back_when_due_and_release_gives_rows_back(store: Store) -> None:
    ids = await enqueue(store, "a", 2)
    await store.deliveries.claim(T0 + 1, token="w", lease_until=T0 + LEASE, limit=5)
    retry = Outcome(DeliveryStatus.RETRYING, 1, last_error="HTTP 503", next_attempt_at=T0 + 5000)
    await store.deliveries.finish(ids[0], token="w", attempt=None, outcome=retry)
    # Without an attempt (a send that did not start), the row moves on and its time stays.
    moved = await store.deliveries.get(ids[0])
    assert (moved.status, moved.last_error, moved.updated_at) == (DeliveryStatus.RETRYING, "HTTP 503", T0)
    await store.deliveries.release([ids[1]], token="w")
    now = await store.deliveries.claim(T0 + 100, token="w2", lease_until=T0 + LEASE, limit=5)
    assert [c.delivery.id for c in now] == [ids[1]]
    later = await store.deliveries.claim(T0 + 5000, token="w2", lease_until=T0 + LEASE, limit=5)
    assert [(c.delivery.id, c.delivery.attempts) for c in later] == [(ids[0], 1)]
    await store.deliveries.extend(ids, token="w2", lease_until=T0 + 10 * LEASE)
    assert await store.deliveries.claim(T0 + 2 * LEASE, token="w3", lease_until=T0, limit=5) == []
    assert await store.deliveries.release_all() == 2


async def test_concurrent_claims_take_disjoint_rows(store: Store) -> None:
    await enqueue(store, "a", 60)
    claims = await asyncio.gather(
        *(store.deliveries.claim(T0 + 100, token=f"w{i}", lease_until=T0 + LEASE, limit=25) for i in range(4))
    )
    ids = [c.delivery.id for batch in claims for c in batch]
    assert len(ids) == len(set(ids)) == 60
