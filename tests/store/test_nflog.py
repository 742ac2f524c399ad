from __future__ import annotations

import pytest
from sqlalchemy.engine import Connection

from alerting_server.model.step import NotificationLogRow
from alerting_server.store import Store

ROW = NotificationLogRow('r0:{alertname="A"}', "ops", ("fp1", "fp2"), (), 1_700_000_000_000)


async def test_write_upserts_and_deletes(store: Store) -> None:
    assert await store.nflog.all() == []
    await store.nflog.write([ROW], [])
    later = NotificationLogRow(ROW.group_id, ROW.receiver, ("fp1",), ("fp2",), ROW.sent_at + 1)
    other = NotificationLogRow("r1:{}", "pager", ("fp3",), (), ROW.sent_at)
    await store.nflog.write([later, other], [])
    assert sorted(await store.nflog.all(), key=lambda r: r.group_id) == [later, other]
    await store.nflog.write([], [(other.group_id, other.receiver)])
    assert await store.nflog.all() == [later]


async def test_write_joins_the_callers_transaction(store: Store) -> None:
    def failing(connection: Connection) -> None:
        store.nflog.write_in(connection, [ROW], [])
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await store.write(failing)
    assert await store.nflog.all() == []


async def test_a_forgotten_key_is_not_deleted_when_its_row_was_sent_since(store: Store) -> None:
    # Another process (a partition's new owner) logged the entry after this one read its old copy.
    fresh = NotificationLogRow(ROW.group_id, ROW.receiver, ROW.firing, (), ROW.sent_at + 10)
    stale = NotificationLogRow("r1:{}", "pager", ("fp3",), (), ROW.sent_at)
    await store.nflog.write([fresh, stale], [])
    keys = [(fresh.group_id, fresh.receiver), (stale.group_id, stale.receiver)]
    await store.write(lambda c: store.nflog.write_in(c, [], keys, ROW.sent_at))
    assert await store.nflog.all() == [fresh]
