"""The global order of alert changes (several replicas on PostgreSQL): the pipeline's owner writes each
step's changes in the step's transaction; every replica reads them in revision order and hands them to
its WatchAlerts subscribers, so that a revision means the same on every replica.

The owners of the pipeline partitions write concurrently; a transaction-level advisory lock taken just
before the events are numbered, and held until the commit, makes them number their events one writer at
a time, so that revisions are in commit order and a reader that has read up to revision R has seen every
change up to R.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from alerting_server.model import Alert
from alerting_server.model.alert_json import alert_from_json, alert_to_json
from alerting_server.store.alerts import alert_from_row
from alerting_server.store.database import Database
from alerting_server.store.tables import alerts as alerts_t
from alerting_server.store.tables import watch_events as t

# The advisory lock that orders the writers of the watch log (an arbitrary constant of this table).
APPEND_LOCK = 0x616C7274


@dataclass(frozen=True)
class LoggedEvent:
    revision: int
    type: str
    alert: Alert


class WatchLogRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def append_in(connection: Connection, events: Sequence[tuple[str, Alert]], now: int) -> None:
        if events:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})
            rows = [
                {"type": kind, "alert": alert_to_json(alert), "created_at": now} for kind, alert in events
            ]
            connection.execute(t.insert(), rows)

    async def since(self, revision: int, limit: int) -> list[LoggedEvent]:
        query = sa.select(t).where(t.c.revision > revision).order_by(t.c.revision).limit(limit)
        async with self._db.read() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [LoggedEvent(r.revision, r.type, alert_from_json(r.alert)) for r in rows]

    async def snapshot(self) -> tuple[int, list[Alert], int]:
        """The latest revision, the alerts as of it, and the oldest revision still kept, read together."""
        async with self._db.engine.connect() as connection:
            # One snapshot for the three reads: the alerts are exactly those of the revision.
            await connection.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            latest = (await connection.execute(sa.select(sa.func.max(t.c.revision)))).scalar_one_or_none()
            oldest = (await connection.execute(sa.select(sa.func.min(t.c.revision)))).scalar_one_or_none()
            rows = (await connection.execute(sa.select(alerts_t))).mappings().all()
            await connection.rollback()
        return int(latest or 0), [alert_from_row(r) for r in rows], int(oldest or 0)

    async def prune(self, keep: int) -> int:
        """Drops all but the latest `keep` events; returns how many went."""

        def work(connection: Connection) -> int:
            latest = connection.execute(sa.select(sa.func.max(t.c.revision))).scalar_one_or_none()
            if latest is None:
                return 0
            return int(connection.execute(t.delete().where(t.c.revision <= latest - keep)).rowcount)

        return await self._db.run(work)
