"""The notification log rows: (group id, receiver) -> the firing and resolved sets last sent, and when."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alerting_server.model.step import NotificationLogRow
from alerting_server.store.database import Database, execute_many, upsert
from alerting_server.store.tables import notification_log as t

_DELETE = t.delete().where(t.c.group_id == sa.bindparam("group_id"), t.c.receiver == sa.bindparam("receiver"))
_DELETE_SENT_BEFORE = _DELETE.where(t.c.sent_at <= sa.bindparam("sent_before"))


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

    async def write(self, put: Iterable[NotificationLogRow], delete: Iterable[tuple[str, str]]) -> None:
        """Upserts `put`, removes the `delete` keys."""
        rows, keys = list(put), list(delete)
        if rows or keys:
            await self._db.run(lambda connection: self.write_in(connection, rows, keys))

    @staticmethod
    def write_in(
        connection: Connection,
        put: Iterable[NotificationLogRow],
        delete: Iterable[tuple[str, str]],
        sent_before: int | None = None,
    ) -> None:
        """write inside the caller's transaction (Store.write); with `sent_before`, a `delete` key goes
        only if its row was last sent at or before it."""
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
        keys = [{"group_id": group_id, "receiver": receiver} for group_id, receiver in delete]
        if keys and sent_before is not None:
            connection.execute(_DELETE_SENT_BEFORE, [{**k, "sent_before": sent_before} for k in keys])
        elif keys:
            connection.execute(_DELETE, keys)
        execute_many(connection, upsert(connection, t), rows)
