from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alerting_server.model import (
    Alert,
    AlertHistoryEvent,
    AlertState,
    Delivery,
    DeliveryStatus,
    HistoryEventType,
)
from alerting_server.pagination import PageRequest
from alerting_server.store import Store
from alerting_server.store.alerts import AlertRepository
from alerting_server.store.alerts import _values as _alert_values
from alerting_server.store.database import execute_many, json_text, upsert
from alerting_server.store.deliveries import DeliveryRepository
from alerting_server.store.history import HistoryRepository
from alerting_server.store.tables import alerts as alerts_table

NOW = 1_700_000_000_000
FIRING = Alert("a", {"alertname": "x"}, AlertState.FIRING, started_at=NOW, fired_at=NOW, updated_at=NOW)
OUTBOX = Delivery("d1", "c1", DeliveryStatus.PENDING, fingerprints=("a",), created_at=NOW, updated_at=NOW)
EVENT = AlertHistoryEvent("a", HistoryEventType.STATE_CHANGE, NOW, state=AlertState.FIRING)
store_alerts, store_deliveries, store_history = AlertRepository, DeliveryRepository, HistoryRepository


def _all_three(connection: Connection) -> None:
    store_alerts.upsert_many_in(connection, [FIRING])
    store_deliveries.add_many_in(connection, [(OUTBOX, {"status": "firing"})])
    store_history.append_in(connection, [EVENT])


async def test_writes_joined_in_one_transaction_commit_together(store: Store) -> None:
    await store.write(_all_three)
    assert await store.alerts.all() == [FIRING]
    assert (await store.deliveries.list(PageRequest())).items == [OUTBOX]
    assert len((await store.history.list("a", PageRequest())).items) == 1


async def test_writes_joined_in_one_transaction_roll_back_together(store: Store) -> None:
    def crash_before_commit(connection: Connection) -> None:
        _all_three(connection)
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError, match="crash"):
        await store.write(crash_before_commit)
    assert await store.alerts.all() == []
    assert (await store.deliveries.list(PageRequest())).items == []
    assert (await store.history.list("a", PageRequest())).items == []


async def test_concurrent_writes_each_commit_or_fail_alone(store: Store) -> None:
    """Units of work queued together share a commit on SQLite; one that fails takes nobody with it."""

    def put(name: str, fail: bool = False) -> Callable[[Connection], str]:
        def work(connection: Connection) -> str:
            store_alerts.upsert_many_in(connection, [dataclasses.replace(FIRING, fingerprint=name)])
            if fail:
                raise ValueError(f"{name} failed")
            return name

        return work

    works = [put(f"a{i}", fail=i % 5 == 3) for i in range(40)]
    results = await asyncio.gather(*(store.write(w) for w in works), return_exceptions=True)
    for i, result in enumerate(results):
        if i % 5 == 3:
            assert isinstance(result, ValueError)
            assert str(result) == f"a{i} failed"
        else:
            assert result == f"a{i}"
    held = {a.fingerprint for a in await store.alerts.all()}
    assert held == {f"a{i}" for i in range(40) if i % 5 != 3}


async def test_close_finishes_the_queued_writes_and_refuses_later_ones(sqlite_url: str) -> None:
    """SQLite's writer thread: what was queued before close() commits; nothing is taken after."""
    store = await Store.open(sqlite_url)
    await store.migrate()
    writes = [store.alerts.upsert_many([dataclasses.replace(FIRING, fingerprint=f"q{i}")]) for i in range(20)]
    pending = [asyncio.ensure_future(w) for w in writes]
    await asyncio.sleep(0)
    await store.close()
    await asyncio.gather(*pending)
    with pytest.raises(RuntimeError, match="closed"):
        await store.alerts.upsert_many([FIRING])
    reopened = await Store.open(sqlite_url)
    try:
        assert len(await reopened.alerts.all()) == 20
    finally:
        await reopened.close()


async def test_execute_many_writes_what_sqlalchemy_would(store: Store) -> None:
    """The driver-level executemany (SQLite) and SQLAlchemy's own store the same column values."""
    labels = {"alertname": "x", "ü": '☃ "quoted"'}
    rows = [
        {**_alert_values(dataclasses.replace(FIRING, fingerprint=name)), "labels": labels}
        for name in ("direct", "through-sqlalchemy")
    ]

    def both(connection: Connection) -> list[tuple[object, ...]]:
        execute_many(connection, upsert(connection, alerts_table), rows[:1])
        connection.execute(upsert(connection, alerts_table), rows[1:])
        query = sa.select(alerts_table).order_by(alerts_table.c.fingerprint)
        return [tuple(row) for row in connection.execute(query)]

    direct, through = await store.write(both)
    assert direct[0] == "direct"
    assert through[0] == "through-sqlalchemy"
    assert direct[1:] == through[1:]
    # The texts may differ in spacing and escapes (orjson's against json's), not in what they hold.
    raw = sa.select(sa.cast(alerts_table.c.labels, sa.Text)).order_by(alerts_table.c.fingerprint)
    async with store.transaction() as connection:
        texts = [row[0] for row in await connection.execute(raw)]
    assert [json.loads(text) for text in texts] == [labels, labels]


@pytest.mark.parametrize(
    "value",
    [
        {"alertname": "x", "ü": '☃ "quoted"\n', "empty": ""},
        ["a", 1, 2.5, None, True, {"nested": [1, 2]}],
        # orjson refuses these two; json writes them.
        {1: "a key that is not a string"},
        2**70,
    ],
)
def test_json_text_is_read_back_as_json_dumps_is(value: object) -> None:
    assert json.loads(json_text(value)) == json.loads(json.dumps(value))
