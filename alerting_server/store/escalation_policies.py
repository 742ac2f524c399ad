"""Escalation policies: ordered levels `{after, channels}` and a repeat count."""

from __future__ import annotations

import builtins
import dataclasses
from typing import TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import EscalationLevel, EscalationPolicy
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id, resolve_id
from alerting_server.store.tables import escalation_policies as t

KIND = "escalation_policies"
_ORDER = (t.c.created_at, t.c.id)


class LevelJSON(TypedDict):
    after: int
    channels: list[str]


def _values(policy: EscalationPolicy) -> dict[str, object]:
    levels: list[LevelJSON] = [
        {"after": level.after, "channels": list(level.channels)} for level in policy.levels
    ]
    return {
        "id": policy.id,
        "name": policy.name,
        "levels": levels,
        "repeat": policy.repeat,
        "ack_timeout": policy.ack_timeout,
        "created_at": policy.created_at,
        "updated_at": policy.updated_at,
    }


def _policy(row: RowMapping) -> EscalationPolicy:
    levels: list[LevelJSON] = row.levels
    return EscalationPolicy(
        id=row.id,
        name=row.name,
        levels=tuple(EscalationLevel(level["after"], tuple(level["channels"])) for level in levels),
        repeat=row.repeat,
        ack_timeout=row.ack_timeout,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _conflict(name: str) -> AlreadyExists:
    return AlreadyExists(f"an escalation policy named {name!r} already exists")


def _not_found(policy_id: str) -> NotFound:
    return NotFound(f"escalation policy {policy_id!r} not found")


class EscalationPolicyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, policy: EscalationPolicy, now: int) -> EscalationPolicy:
        stored = dataclasses.replace(policy, id=new_id(), created_at=now, updated_at=now)
        try:
            async with self._db.write() as connection:
                await connection.execute(t.insert().values(_values(stored)))
        except IntegrityError:
            raise _conflict(policy.name) from None
        return stored

    async def get(self, policy_id: str) -> EscalationPolicy:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == policy_id))
        if row is None:
            raise _not_found(policy_id)
        return _policy(row)

    async def resolve(self, ref: str) -> str:
        """The id of the escalation policy whose id or name is `ref`."""
        return await resolve_id(self._db, t, ref, "escalation policy")

    async def get_by_name(self, name: str) -> EscalationPolicy:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.name == name))
        if row is None:
            raise NotFound(f"no escalation policy named {name!r}")
        return _policy(row)

    async def list(self, page: PageRequest) -> Page[EscalationPolicy]:
        async with self._db.read() as connection:
            return await fetch_page(connection, sa.select(t).order_by(*_ORDER), page, KIND, _policy)

    async def all(self) -> builtins.list[EscalationPolicy]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(*_ORDER))).mappings().all()
        return [_policy(row) for row in rows]

    async def update(self, policy_id: str, policy: EscalationPolicy, now: int) -> EscalationPolicy:
        try:
            async with self._db.write() as connection:
                created_at = (
                    await connection.execute(sa.select(t.c.created_at).where(t.c.id == policy_id))
                ).scalar_one_or_none()
                if created_at is None:
                    raise _not_found(policy_id)
                stored = dataclasses.replace(policy, id=policy_id, created_at=created_at, updated_at=now)
                await connection.execute(t.update().where(t.c.id == policy_id).values(_values(stored)))
        except IntegrityError:
            raise _conflict(policy.name) from None
        return stored

    async def delete(self, policy_id: str) -> None:
        async with self._db.write() as connection:
            result = await connection.execute(t.delete().where(t.c.id == policy_id))
        if result.rowcount == 0:
            raise _not_found(policy_id)
