"""Alert history: append-only, read back per alert in order."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from alerting_server.model import AlertHistoryEvent, HistoryEventType
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.alerts import state_from_name, state_name
from alerting_server.store.database import Database, execute_many, fetch_page, insert, new_id
from alerting_server.store.tables import alert_history as t

KIND = "history"


def _values(event: AlertHistoryEvent) -> dict[str, object]:
    return {
        "id": event.id,
        "fingerprint": event.fingerprint,
        "type": event.type.value,
        "at": event.at,
        "state": None if event.state is None else state_name(event.state),
        "value": event.value,
        "channel": event.channel,
        "outcome": event.outcome,
        "attempts": event.attempts,
        "level": event.level,
        "by": event.by,
        "comment": event.comment,
        "message": event.message,
    }


def _event(row: RowMapping) -> AlertHistoryEvent:
    return AlertHistoryEvent(
        id=row.id,
        fingerprint=row.fingerprint,
        type=HistoryEventType(row.type),
        at=row.at,
        state=None if row.state is None else state_from_name(row.state),
        value=row.value,
        channel=row.channel,
        outcome=row.outcome,
        attempts=row.attempts,
        level=row.level,
        by=row.by,
        comment=row.comment,
        message=row.message,
    )


class HistoryRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, events: Iterable[AlertHistoryEvent]) -> builtins.list[AlertHistoryEvent]:
        """Stores the events in the given order; those without an id get one."""
        given = builtins.list(events)
        if not given:
            return []
        return await self._db.run(lambda connection: self.append_in(connection, given))

    @staticmethod
    def append_in(
        connection: Connection, events: Iterable[AlertHistoryEvent]
    ) -> builtins.list[AlertHistoryEvent]:
        """append inside the caller's transaction (Store.write)."""
        stored = [event if event.id else dataclasses.replace(event, id=new_id()) for event in events]
        execute_many(connection, insert(t), [_values(event) for event in stored])
        return stored

    async def list(self, fingerprint: str, page: PageRequest) -> Page[AlertHistoryEvent]:
        query = sa.select(t).where(t.c.fingerprint == fingerprint).order_by(t.c.at, t.c.seq)
        async with self._db.read() as connection:
            return await fetch_page(connection, query, page, KIND, _event)

    async def last(self, fingerprint: str, type: HistoryEventType) -> int | None:
        """When the alert's latest event of `type` happened, if it has one."""
        query = sa.select(sa.func.max(t.c.at)).where(t.c.fingerprint == fingerprint, t.c.type == type.value)
        async with self._db.read() as connection:
            at = (await connection.execute(query)).scalar()
        return None if at is None else int(at)

    async def prune(self, before: int) -> int:
        """Deletes the history older than `before`; returns how many events went."""
        query = t.delete().where(t.c.at < before)
        return await self._db.run(lambda connection: int(connection.execute(query).rowcount))
