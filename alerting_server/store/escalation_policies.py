"""Escalation policies: ordered levels `{after, channels}` and a repeat count."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import EscalationPolicy
from alerting_server.pagination import Page, PageRequest
from alerting_server.store import references, routing, rules
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id, resolve_id
from alerting_server.store.escalations import level_from_data, level_to_data
from alerting_server.store.references import Known, known_in
from alerting_server.store.tables import escalation_policies as t

KIND = "escalation_policies"
_ORDER = (t.c.created_at, t.c.id)


def _values(policy: EscalationPolicy) -> dict[str, object]:
    return {
        "id": policy.id,
        "name": policy.name,
        "levels": [level_to_data(level) for level in policy.levels],
        "repeat": policy.repeat,
        "ack_timeout": policy.ack_timeout,
        "created_at": policy.created_at,
        "updated_at": policy.updated_at,
    }


def _policy(row: RowMapping) -> EscalationPolicy:
    return EscalationPolicy(
        id=row.id,
        name=row.name,
        levels=tuple(level_from_data(level) for level in row.levels),
        repeat=row.repeat,
        ack_timeout=row.ack_timeout,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _conflict(name: str) -> AlreadyExists:
    return AlreadyExists(f"an escalation policy named {name!r} already exists")


def _not_found(policy_id: str) -> NotFound:
    return NotFound(f"escalation policy {policy_id!r} not found")


async def policies_in(connection: AsyncConnection) -> list[EscalationPolicy]:
    """Every policy, locked until the transaction ends."""
    rows = await connection.execute(sa.select(t).order_by(*_ORDER).with_for_update())
    return [_policy(row) for row in rows.mappings()]


async def save_in(connection: AsyncConnection, policy: EscalationPolicy) -> None:
    await connection.execute(t.update().where(t.c.id == policy.id).values(_values(policy)))


Check = Callable[[Known], None]


class EscalationPolicyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, policy: EscalationPolicy, now: int, check: Check | None = None
    ) -> EscalationPolicy:
        """`check` raises when the policy names a channel that does not exist; it runs in the write's
        transaction (store/references.py)."""
        stored = dataclasses.replace(policy, id=new_id(), created_at=now, updated_at=now)
        try:
            async with self._db.write() as connection:
                if check is not None:
                    check(await known_in(connection))
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

    async def update(
        self, policy_id: str, policy: EscalationPolicy, now: int, check: Check | None = None
    ) -> EscalationPolicy:
        try:
            async with self._db.write() as connection:
                if check is not None:
                    check(await known_in(connection))
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

    async def delete(self, policy_id: str, *, cascade: bool = False, now: int = 0) -> None:
        """Refused (FailedPrecondition) while routes or rules use the policy, unless `cascade`
        removes those uses in the same transaction (store/references.py)."""
        async with self._db.write() as connection:
            # Locked first: a writer that adds a reference waits for this delete, or we for it.
            row = await fetch_one(connection, sa.select(t).where(t.c.id == policy_id).with_for_update())
            if row is None:
                raise _not_found(policy_id)
            policy = _policy(row)
            names = {policy.id, policy.name}
            tree = await routing.tree_in(connection, lock=True)
            users = await rules.using_policy_in(connection, names)
            uses = references.policy_uses(names, tree, users)
            if uses and not cascade:
                raise references.in_use(f"escalation policy {policy.name!r}", uses)
            if tree is not None and uses:
                await routing.put_in(connection, references.without_policy(tree, names), now)
            await rules.clear_policy_in(connection, [r.id for r in users], now)
            await connection.execute(t.delete().where(t.c.id == policy_id))
