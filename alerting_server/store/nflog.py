"""The notification log rows: (group id, receiver) -> the firing and resolved sets last sent, and when."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.store.database import Database, upsert
from alerting_server.store.tables import notification_log as t


@dataclass(frozen=True)
class NotificationLogRow:
    group_id: str
    receiver: str
    firing: tuple[str, ...]
    resolved: tuple[str, ...]
    sent_at: int


class NotificationLogRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[NotificationLogRow]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t))).mappings().all()
        return [
            NotificationLogRow(r.group_id, r.receiver, tuple(r.firing), tuple(r.resolved), r.sent_at)
            for r in rows
        ]

    async def write(
        self,
        put: Iterable[NotificationLogRow],
        delete: Iterable[tuple[str, str]],
        connection: AsyncConnection | None = None,
    ) -> None:
        """Upserts `put`, removes the `delete` keys; pass the caller's connection to join its transaction."""
        rows = [
            {
                "group_id": r.group_id,
                "receiver": r.receiver,
                "firing": list(r.firing),
                "resolved": list(r.resolved),
                "sent_at": r.sent_at,
            }
            for r in put
        ]
        keys = list(delete)
        if not rows and not keys:
            return
        async with self._db.write(connection) as conn:
            for group_id, receiver in keys:
                await conn.execute(t.delete().where(t.c.group_id == group_id, t.c.receiver == receiver))
            if rows:
                await conn.execute(upsert(conn, t), rows)
