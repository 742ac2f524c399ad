"""Escalation state, one row per escalating alert; written with the outbox rows of its steps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from alerting_server.model import Escalation, EscalationLevel, EscalationPolicy
from alerting_server.store.database import Database, execute_many, upsert
from alerting_server.store.tables import escalations as t


def level_to_data(level: EscalationLevel) -> dict[str, Any]:
    """A level as JSON; users and schedules only when it has some (the shape of levels before them)."""
    data: dict[str, Any] = {"after": level.after, "channels": list(level.channels)}
    if level.users:
        data["users"] = list(level.users)
    if level.schedules:
        data["schedules"] = list(level.schedules)
    return data


def level_from_data(data: Mapping[str, Any]) -> EscalationLevel:
    return EscalationLevel(
        after=int(data["after"]),
        channels=tuple(data["channels"]),
        users=tuple(data.get("users", ())),
        schedules=tuple(data.get("schedules", ())),
    )


def policy_to_data(policy: EscalationPolicy) -> dict[str, object]:
    return {
        "id": policy.id,
        "name": policy.name,
        "levels": [level_to_data(level) for level in policy.levels],
        "repeat": policy.repeat,
        "ack_timeout": policy.ack_timeout,
    }


def policy_from_data(data: Mapping[str, Any]) -> EscalationPolicy:
    return EscalationPolicy(
        id=str(data["id"]),
        name=str(data["name"]),
        levels=tuple(level_from_data(level) for level in data["levels"]),
        repeat=int(data["repeat"]),
        ack_timeout=None if data["ack_timeout"] is None else int(data["ack_timeout"]),
    )


def _values(esc: Escalation) -> dict[str, object]:
    return {
        "fingerprint": esc.fingerprint,
        "policy": policy_to_data(esc.policy),
        "fired_at": esc.fired_at,
        "base": esc.base,
        "next_step": esc.next_step,
        "paused_at": esc.paused_at,
        "run": esc.run,
        "updated_at": esc.updated_at,
        "paged": list(esc.paged),
    }


def _escalation(row: RowMapping) -> Escalation:
    return Escalation(
        fingerprint=row.fingerprint,
        policy=policy_from_data(row.policy),
        fired_at=row.fired_at,
        base=row.base,
        next_step=row.next_step,
        paused_at=row.paused_at,
        run=row.run,
        updated_at=row.updated_at,
        paged=tuple(row.paged),
    )


class EscalationRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[Escalation]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(t.c.fingerprint))).mappings().all()
        return [_escalation(row) for row in rows]

    @staticmethod
    def write_in(connection: Connection, changed: Iterable[Escalation], removed: Iterable[str]) -> None:
        """In the caller's transaction: the one that also holds the outbox rows of these steps."""
        rows = [_values(esc) for esc in changed]
        execute_many(connection, upsert(connection, t), rows)
        gone = sorted(set(removed))
        if gone:
            connection.execute(t.delete().where(t.c.fingerprint.in_(gone)))
