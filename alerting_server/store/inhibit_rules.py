"""Inhibition rules: created and deleted, never edited (as in Alertmanager's configuration)."""

from __future__ import annotations

import builtins
import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from alerting_server.errors import NotFound
from alerting_server.model import InhibitRule
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id
from alerting_server.store.tables import inhibit_rules as t

KIND = "inhibit_rules"
_ORDER = (t.c.created_at, t.c.id)


def _inhibit_rule(row: RowMapping) -> InhibitRule:
    return InhibitRule(
        id=row.id,
        source_matchers=tuple(row.source_matchers),
        target_matchers=tuple(row.target_matchers),
        equal=tuple(row.equal),
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _not_found(rule_id: str) -> NotFound:
    return NotFound(f"inhibit rule {rule_id!r} not found")


class InhibitRuleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, rule: InhibitRule, now: int) -> InhibitRule:
        stored = dataclasses.replace(rule, id=new_id(), created_at=now, updated_at=now)
        async with self._db.write() as connection:
            await connection.execute(
                t.insert().values(
                    id=stored.id,
                    source_matchers=list(stored.source_matchers),
                    target_matchers=list(stored.target_matchers),
                    equal=list(stored.equal),
                    source=stored.source,
                    created_at=now,
                    updated_at=now,
                )
            )
        return stored

    async def get(self, rule_id: str) -> InhibitRule:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == rule_id))
        if row is None:
            raise _not_found(rule_id)
        return _inhibit_rule(row)

    async def list(self, page: PageRequest) -> Page[InhibitRule]:
        async with self._db.read() as connection:
            return await fetch_page(connection, sa.select(t).order_by(*_ORDER), page, KIND, _inhibit_rule)

    async def all(self) -> builtins.list[InhibitRule]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(*_ORDER))).mappings().all()
        return [_inhibit_rule(row) for row in rows]

    async def delete(self, rule_id: str) -> None:
        async with self._db.write() as connection:
            result = await connection.execute(t.delete().where(t.c.id == rule_id))
        if result.rowcount == 0:
            raise _not_found(rule_id)
