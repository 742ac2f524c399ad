"""Alerting and recording rules."""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import Rule, RuleHealth, RuleType
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id
from alerting_server.store.references import Known, known_in
from alerting_server.store.tables import rules as t

KIND = "rules"
_ORDER = (t.c.created_at, t.c.position, t.c.id)
# Group names per IN (...) list: well under the bound-parameter limits of SQLite and PostgreSQL.
_IN_CHUNK = 500
_HEALTH_CHUNK = 2000
_HEALTH_CHUNK_PAUSE_S = 0.05

Check = Callable[[Known], None]


def _values(rule: Rule, position: int = 0) -> dict[str, object]:
    return {
        "id": rule.id,
        "group_name": rule.group,
        "name": rule.name,
        "severity": rule.severity,
        "type": rule.type.value,
        "query": rule.query,
        "duration": rule.duration,
        "keep_firing_for": rule.keep_firing_for,
        "labels": dict(rule.labels),
        "annotations": dict(rule.annotations),
        "interval": rule.interval,
        "datasource": rule.datasource,
        "escalation_policy_id": rule.escalation_policy_id,
        "health": rule.health.value,
        "last_evaluation": rule.last_evaluation,
        "last_error": rule.last_error,
        "last_evaluation_duration": rule.last_evaluation_duration,
        "position": position,
        "created_at": rule.created_at,
        "updated_at": rule.updated_at,
    }


def _rule(row: RowMapping) -> Rule:
    return Rule(
        id=row.id,
        name=row.name,
        query=row.query,
        type=RuleType(row.type),
        duration=row.duration,
        keep_firing_for=row.keep_firing_for,
        severity=row.severity,
        labels=dict(row.labels),
        annotations=dict(row.annotations),
        group=row.group_name,
        interval=row.interval,
        datasource=row.datasource,
        escalation_policy_id=row.escalation_policy_id,
        health=RuleHealth(row.health),
        last_evaluation=row.last_evaluation,
        last_error=row.last_error,
        last_evaluation_duration=row.last_evaluation_duration,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _conflict(rule: Rule) -> AlreadyExists:
    return AlreadyExists(
        f"a rule named {rule.name!r} with severity {rule.severity!r} already exists in group {rule.group!r}"
    )


def _not_found(rule_id: str) -> NotFound:
    return NotFound(f"rule {rule_id!r} not found")


class RuleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, rule: Rule, now: int, check: Check | None = None) -> Rule:
        """`check` raises when the rule names an escalation policy that does not exist; it runs in the
        write's transaction (store/references.py)."""
        stored = dataclasses.replace(rule, id=new_id(), created_at=now, updated_at=now)
        try:
            async with self._db.write() as connection:
                if check is not None:
                    check(await known_in(connection))
                await connection.execute(t.insert().values(_values(stored)))
        except IntegrityError:
            raise _conflict(rule) from None
        return stored

    async def get(self, rule_id: str) -> Rule:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == rule_id))
        if row is None:
            raise _not_found(rule_id)
        return _rule(row)

    async def list(self, page: PageRequest) -> Page[Rule]:
        async with self._db.read() as connection:
            return await fetch_page(connection, sa.select(t).order_by(*_ORDER), page, KIND, _rule)

    async def all(self) -> builtins.list[Rule]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(*_ORDER))).mappings().all()
        return [_rule(row) for row in rows]

    async def in_groups(self, groups: Iterable[str]) -> builtins.list[Rule]:
        """The rules of these groups, in the order all() gives them."""
        names = sorted(set(groups))
        out: builtins.list[Rule] = []
        async with self._db.read() as connection:
            for begin in range(0, len(names), _IN_CHUNK):
                chunk = names[begin : begin + _IN_CHUNK]
                query = sa.select(t).where(t.c.group_name.in_(chunk)).order_by(*_ORDER)
                out.extend(_rule(row) for row in (await connection.execute(query)).mappings().all())
        return out

    async def update(self, rule_id: str, rule: Rule, now: int, check: Check | None = None) -> Rule:
        """Replaces the definition. Health starts over: it described the previous definition."""
        try:
            async with self._db.write() as connection:
                if check is not None:
                    check(await known_in(connection))
                row = await fetch_one(
                    connection, sa.select(t.c.created_at, t.c.position).where(t.c.id == rule_id)
                )
                if row is None:
                    raise _not_found(rule_id)
                stored = dataclasses.replace(
                    rule,
                    id=rule_id,
                    created_at=row.created_at,
                    updated_at=now,
                    health=RuleHealth.UNKNOWN,
                    last_evaluation=None,
                    last_error="",
                    last_evaluation_duration=None,
                )
                await connection.execute(
                    t.update().where(t.c.id == rule_id).values(_values(stored, row.position))
                )
        except IntegrityError:
            raise _conflict(rule) from None
        return stored

    async def delete(self, rule_id: str) -> None:
        async with self._db.write() as connection:
            result = await connection.execute(t.delete().where(t.c.id == rule_id))
        if result.rowcount == 0:
            raise _not_found(rule_id)

    async def replace_groups(self, rules: builtins.list[Rule], now: int) -> builtins.list[Rule]:
        """Prometheus rule-file import: every group named by `rules` becomes exactly `rules`.

        One transaction: on a conflict within `rules` nothing changes.
        """
        stored = [dataclasses.replace(rule, id=new_id(), created_at=now, updated_at=now) for rule in rules]
        groups = sorted({rule.group for rule in rules})
        if not groups:
            return []
        try:
            async with self._db.write() as connection:
                await connection.execute(t.delete().where(t.c.group_name.in_(groups)))
                await connection.execute(
                    t.insert(), [_values(rule, position) for position, rule in enumerate(stored)]
                )
        except IntegrityError:
            raise AlreadyExists(_duplicate_message(rules)) from None
        return stored

    async def set_health(
        self,
        rule_id: str,
        health: RuleHealth,
        last_evaluation: int | None,
        last_error: str,
        last_evaluation_duration: int | None,
    ) -> None:
        async with self._db.write() as connection:
            result = await connection.execute(
                t.update()
                .where(t.c.id == rule_id)
                .values(
                    health=health.value,
                    last_evaluation=last_evaluation,
                    last_error=last_error,
                    last_evaluation_duration=last_evaluation_duration,
                )
            )
        if result.rowcount == 0:
            raise _not_found(rule_id)

    async def set_health_many(self, rows: Iterable[RuleHealthRow]) -> None:
        """Many rules' health, in transactions of at most _HEALTH_CHUNK rows so that no other writer
        waits long for the lock (health is advisory: a crash between two of them loses nothing that
        the next evaluation does not write again); rules deleted meanwhile are skipped."""
        params = [
            {
                "rule_id": r.rule_id,
                "health": r.health.value,
                "last_evaluation": r.last_evaluation,
                "last_error": r.last_error,
                "last_evaluation_duration": r.last_evaluation_duration,
            }
            for r in rows
        ]
        if not params:
            return
        statement = (
            t.update()
            .where(t.c.id == sa.bindparam("rule_id"))
            .values(
                health=sa.bindparam("health"),
                last_evaluation=sa.bindparam("last_evaluation"),
                last_error=sa.bindparam("last_error"),
                last_evaluation_duration=sa.bindparam("last_evaluation_duration"),
            )
        )
        for begin in range(0, len(params), _HEALTH_CHUNK):
            if begin:
                # A writer waiting for SQLite's lock polls for it: between two chunks, leave it time to
                # get in, or back-to-back transactions starve it past its busy timeout.
                await asyncio.sleep(_HEALTH_CHUNK_PAUSE_S)
            async with self._db.write() as connection:
                await connection.execute(statement, params[begin : begin + _HEALTH_CHUNK])


@dataclasses.dataclass(frozen=True)
class RuleHealthRow:
    rule_id: str
    health: RuleHealth
    last_evaluation: int | None
    last_error: str
    last_evaluation_duration: int | None


def _duplicate_message(rules: list[Rule]) -> str:
    seen: set[tuple[str, str, str]] = set()
    for rule in rules:
        key = (rule.group, rule.name, rule.severity)
        if key in seen:
            return _conflict(rule).message
        seen.add(key)
    return "the rules conflict with existing rules"


async def using_policy_in(connection: AsyncConnection, names: Iterable[str]) -> list[Rule]:
    """The rules that escalate with the policy of these names (its id, its name), locked until the
    transaction ends."""
    query = sa.select(t).where(t.c.escalation_policy_id.in_(list(names))).order_by(*_ORDER)
    return [_rule(row) for row in (await connection.execute(query.with_for_update())).mappings()]


async def clear_policy_in(connection: AsyncConnection, rule_ids: list[str], now: int) -> None:
    if rule_ids:
        await connection.execute(
            t.update().where(t.c.id.in_(rule_ids)).values(escalation_policy_id="", updated_at=now)
        )
