"""Alert state by fingerprint, written behind in batches by the alert stage."""

from __future__ import annotations

import builtins
import math
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from alerting_server.errors import NotFound
from alerting_server.model import Ack, Alert, AlertState
from alerting_server.model.alert_json import alert_to_json
from alerting_server.store.database import Database, execute_many, fetch_one, upsert
from alerting_server.store.tables import alerts as t


def state_name(state: AlertState) -> str:
    return state.name.lower()


def state_from_name(name: str) -> AlertState:
    return AlertState[name.upper()]


def _values(alert: Alert) -> dict[str, object]:
    # The row is the alert's JSON document but for the value, a float column that takes NaN.
    return {**alert_to_json(alert), "value": alert.value}


def alert_from_row(row: RowMapping) -> Alert:
    return Alert(
        fingerprint=row.fingerprint,
        labels=dict(row.labels),
        state=state_from_name(row.state),
        annotations=dict(row.annotations),
        rule=row.rule,
        rule_id=row.rule_id,
        # SQLite turns NaN into NULL on the way in.
        value=math.nan if row.value is None else row.value,
        started_at=row.started_at,
        fired_at=row.fired_at,
        resolved_at=row.resolved_at,
        updated_at=row.updated_at,
        ack=None if row.ack_at is None else Ack(by=row.ack_by, comment=row.ack_comment, at=row.ack_at),
        silenced_by=tuple(row.silenced_by),
        inhibited_by=tuple(row.inhibited_by),
        muted_by=tuple(row.muted_by),
        escalation_level=row.escalation_level,
        generator_url=row.generator_url,
        keep_firing_since=row.keep_firing_since,
    )


class AlertRepository:
    """Writes take an optional connection so that a caller can join them with other writes
    (an outbox row and the state change that caused it) in one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert_many(self, alerts: Iterable[Alert]) -> None:
        rows = list(alerts)
        if rows:
            await self._db.run(lambda connection: self.upsert_many_in(connection, rows))

    @staticmethod
    def upsert_many_in(connection: Connection, alerts: Iterable[Alert]) -> None:
        """upsert_many inside the caller's transaction (Store.write)."""
        execute_many(connection, upsert(connection, t), [_values(alert) for alert in alerts])

    async def get(self, fingerprint: str) -> Alert:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.fingerprint == fingerprint))
        if row is None:
            raise NotFound(f"alert {fingerprint!r} not found")
        return alert_from_row(row)

    async def all(self) -> builtins.list[Alert]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(t.c.fingerprint))).mappings().all()
        return [alert_from_row(row) for row in rows]

    async def delete_many(self, fingerprints: Iterable[str]) -> None:
        keys = list(fingerprints)
        if keys:
            await self._db.run(lambda connection: self.delete_many_in(connection, keys))

    @staticmethod
    def delete_many_in(connection: Connection, fingerprints: Iterable[str]) -> None:
        keys = sorted(set(fingerprints))
        if keys:
            connection.execute(t.delete().where(t.c.fingerprint.in_(keys)))
