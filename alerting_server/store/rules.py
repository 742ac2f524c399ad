"""Alerting and recording rules."""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import enum
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import Rule, RuleHealth, RuleType
from alerting_server.model.rule import RuleHealthRow, definition
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id, resolve_id
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
                position = await _next_position(connection, rule.group)
                await connection.execute(t.insert().values(_values(stored, position)))
        except IntegrityError:
            raise _conflict(rule) from None
        return stored

    async def get(self, rule_id: str) -> Rule:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == rule_id))
        if row is None:
            raise _not_found(rule_id)
        return _rule(row)

    async def resolve(self, ref: str) -> str:
        """The id of the rule whose id or name is `ref`; a name several groups or severities share is
        refused with the candidates."""
        return await resolve_id(
            self._db, t, ref, "rule", lambda row: f"{row.id} (group {row.group_name!r}, {row.severity})"
        )

    async def list(self, page: PageRequest) -> Page[Rule]:
        async with self._db.read() as connection:
            return await fetch_page(connection, sa.select(t).order_by(*_ORDER), page, KIND, _rule)

    async def all(self) -> builtins.list[Rule]:
        """Every rule, group by group, each group's rules in their order."""
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(*_ORDER))).mappings().all()
        return _grouped(rows)

    async def in_groups(self, groups: Iterable[str]) -> builtins.list[Rule]:
        """The rules of these groups, in the order all() gives them."""
        async with self._db.read() as connection:
            return _grouped(await _in_groups(connection, groups))

    async def update(self, rule_id: str, rule: Rule, now: int, check: Check | None = None) -> Rule:
        """Replaces the definition. Health starts over: it described the previous definition. The same
        definition again changes nothing, not even updated_at."""
        try:
            async with self._db.write() as connection:
                if check is not None:
                    check(await known_in(connection))
                row = await fetch_one(connection, sa.select(t).where(t.c.id == rule_id))
                if row is None:
                    raise _not_found(rule_id)
                before = _rule(row)
                if _same_definition(before, rule):
                    return before
                position = row.position
                if rule.group != before.group:
                    position = await _next_position(connection, rule.group)
                stored = _redefined(before, rule, now)
                await connection.execute(
                    t.update().where(t.c.id == rule_id).values(_values(stored, position))
                )
        except IntegrityError:
            raise _conflict(rule) from None
        return stored

    async def delete(self, rule_id: str) -> None:
        async with self._db.write() as connection:
            result = await connection.execute(t.delete().where(t.c.id == rule_id))
        if result.rowcount == 0:
            raise _not_found(rule_id)

    async def replace_groups(self, rules: builtins.list[Rule], now: int) -> builtins.list[ReplacedRule]:
        """Prometheus rule-file import: every group named by `rules` becomes exactly `rules`, in their order.

        A stored rule of the same group and name stays the same rule (its id and created_at; its
        updated_at and health too when its definition is the same), as Prometheus keeps a rule across a
        reload; the other rules of those groups are deleted. One transaction: on a conflict within
        `rules` nothing changes.
        """
        groups = {rule.group for rule in rules}
        if not groups:
            return []
        duplicate = _first_duplicate(rules)
        if duplicate is not None:
            raise _conflict(duplicate)
        try:
            async with self._db.write() as connection:
                rows = await _in_groups(connection, groups)
                before = [_rule(row) for row in rows]
                was_at = {row.id: row.position for row in rows}
                out = [
                    _replaced(old, rule, now) for old, rule in zip(_match(before, rules), rules, strict=True)
                ]
                kept = {r.rule.id for r in out}
                gone = [r.id for r in before if r.id not in kept]
                for begin in range(0, len(gone), _IN_CHUNK):
                    await connection.execute(t.delete().where(t.c.id.in_(gone[begin : begin + _IN_CHUNK])))
                inserts: builtins.list[dict[str, object]] = []
                redefined: builtins.list[dict[str, object]] = []
                moved: builtins.list[dict[str, object]] = []
                # Positions in the order of the file: the order of each group's rules, and of the groups
                # among the rules of one created_at.
                for position, r in enumerate(out):
                    if r.applied is Applied.CREATED:
                        inserts.append(_values(r.rule, position))
                    elif r.applied is Applied.UPDATED:
                        values = _values(r.rule, position)
                        redefined.append({"rule_id": values.pop("id"), **values})
                    elif was_at[r.rule.id] != position:
                        # Unchanged but moved within its group: its health stays, it describes the same rule.
                        moved.append({"rule_id": r.rule.id, "position": position})
                by_id = t.update().where(t.c.id == sa.bindparam("rule_id"))
                for batch in (redefined, moved):
                    if batch:
                        await connection.execute(by_id, batch)
                if inserts:
                    await connection.execute(t.insert(), inserts)
        except IntegrityError:
            # A rule created in one of the groups meanwhile.
            raise AlreadyExists("the rules conflict with existing rules") from None
        return out

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


class Applied(enum.Enum):
    """What replace_groups did to one rule of the file."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclasses.dataclass(frozen=True)
class ReplacedRule:
    rule: Rule
    applied: Applied


async def _next_position(connection: AsyncConnection, group: str) -> int:
    """The position after the last rule of `group`: a rule added to a group runs after the others."""
    last = (
        await connection.execute(sa.select(sa.func.max(t.c.position)).where(t.c.group_name == group))
    ).scalar()
    return 0 if last is None else int(last) + 1


async def _in_groups(connection: AsyncConnection, groups: Iterable[str]) -> builtins.list[RowMapping]:
    names = sorted(set(groups))
    out: builtins.list[RowMapping] = []
    for begin in range(0, len(names), _IN_CHUNK):
        chunk = names[begin : begin + _IN_CHUNK]
        query = sa.select(t).where(t.c.group_name.in_(chunk)).order_by(*_ORDER)
        out.extend((await connection.execute(query)).mappings().all())
    return out


def _grouped(rows: Sequence[RowMapping]) -> builtins.list[Rule]:
    """The rules of `rows` (in _ORDER) group by group, a group where its first rule is: within a group
    rules run, and are exported, in the order of their position (a rule file's order)."""
    groups: dict[str, builtins.list[RowMapping]] = {}
    for row in rows:
        groups.setdefault(row.group_name, []).append(row)
    return [
        _rule(row)
        for members in groups.values()
        for row in sorted(members, key=lambda r: (r.position, r.created_at, r.id))
    ]


def _same_definition(stored: Rule, rule: Rule) -> bool:
    return definition(stored) == definition(dataclasses.replace(rule, id=stored.id))


def _redefined(stored: Rule, rule: Rule, now: int) -> Rule:
    return dataclasses.replace(
        rule,
        id=stored.id,
        created_at=stored.created_at,
        updated_at=now,
        health=RuleHealth.UNKNOWN,
        last_evaluation=None,
        last_error="",
        last_evaluation_duration=None,
    )


def _replaced(stored: Rule | None, rule: Rule, now: int) -> ReplacedRule:
    if stored is None:
        return ReplacedRule(
            dataclasses.replace(rule, id=new_id(), created_at=now, updated_at=now), Applied.CREATED
        )
    if _same_definition(stored, rule):
        return ReplacedRule(stored, Applied.UNCHANGED)
    return ReplacedRule(_redefined(stored, rule, now), Applied.UPDATED)


def _match(stored: Sequence[Rule], rules: Sequence[Rule]) -> builtins.list[Rule | None]:
    """The stored rule each of `rules` replaces, or None. Rules are the same by group and name; as
    Prometheus allows several alerting rules of one name in a group, the one of the same severity
    (our key, unique in both) goes first, the others pair up in their order of appearance."""
    by_key = {(r.group, r.name, r.severity): r for r in stored}
    out: builtins.list[Rule | None] = [by_key.get((r.group, r.name, r.severity)) for r in rules]
    taken = {r.id for r in out if r is not None}
    left: dict[tuple[str, str], deque[Rule]] = defaultdict(deque)
    for r in stored:
        if r.id not in taken:
            left[r.group, r.name].append(r)
    for i, rule in enumerate(rules):
        candidates = left.get((rule.group, rule.name))
        if out[i] is None and candidates:
            out[i] = candidates.popleft()
    return out


def _first_duplicate(rules: Iterable[Rule]) -> Rule | None:
    seen: set[tuple[str, str, str]] = set()
    for rule in rules:
        key = (rule.group, rule.name, rule.severity)
        if key in seen:
            return rule
        seen.add(key)
    return None


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
