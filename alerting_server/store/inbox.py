"""The alert inbox (several replicas on PostgreSQL): what any replica took for the alert pipeline, stored
before the caller's answer and applied by the owner of the item's alert pipeline partition, in the
transaction of the step that applies it, so that nothing taken is lost when a replica dies, and nothing
is applied twice.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alerting_server.model.fence import Fence
from alerting_server.model.inbox import InboxItem, InboxKind, InboxPayloads
from alerting_server.store.database import Database
from alerting_server.store.leases import fence_in
from alerting_server.store.tables import alert_inbox as t


class InboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, kind: InboxKind, payloads: InboxPayloads, now: int, fence: Fence | None = None
    ) -> list[int]:
        """Stores (partition, payload) items in one transaction (under `fence` when given); returns
        their ids."""
        if not payloads:
            return []
        rows = [
            {"kind": kind.value, "payload": p, "created_at": now, "partition": partition}
            for partition, p in payloads
        ]

        def work(connection: Connection) -> list[int]:
            fence_in(connection, fence)
            return [int(i) for i in connection.execute(t.insert().returning(t.c.id), rows).scalars()]

        return await self._db.run(work)

    async def take(self, partitions: Collection[int], limit: int) -> list[InboxItem]:
        """The oldest items of these partitions, at most `limit`; they stay until a step deletes them
        (delete_in)."""
        if not partitions:
            return []
        query = sa.select(t).where(t.c.partition.in_(sorted(partitions))).order_by(t.c.id).limit(limit)
        async with self._db.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [InboxItem(r.id, InboxKind(r.kind), r.payload, r.created_at) for r in rows]

    @staticmethod
    def delete_in(connection: Connection, ids: Sequence[int]) -> None:
        if ids:
            connection.execute(t.delete().where(t.c.id.in_(list(ids))))

    async def pending(self, ids: Sequence[int]) -> set[int]:
        """Which of `ids` are not applied yet."""
        if not ids:
            return set()
        async with self._db.read() as connection:
            found = await connection.execute(sa.select(t.c.id).where(t.c.id.in_(list(ids))))
            return {int(i) for i in found.scalars()}
