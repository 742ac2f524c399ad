"""On-call schedules (their layers as JSON) and their overrides."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import Layer, Override, Restriction, RestrictionType, Schedule
from alerting_server.pagination import Page, PageRequest
from alerting_server.store import escalation_policies, references
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id, resolve_id
from alerting_server.store.references import Known, known_in
from alerting_server.store.renames import follow_rename
from alerting_server.store.tables import schedule_overrides as ot
from alerting_server.store.tables import schedules as t

KIND = "schedules"
OVERRIDES = "overrides"
_ORDER = (t.c.created_at, t.c.id)

Check = Callable[[Known], None]


def _restriction_to_data(r: Restriction) -> dict[str, Any]:
    return {
        "type": r.type.value,
        "start_time": r.start_time,
        "duration": r.duration,
        "start_day": r.start_day,
    }


def _layer_to_data(layer: Layer) -> dict[str, Any]:
    return {
        "name": layer.name,
        "start": layer.start,
        "end": layer.end,
        "turn_length": layer.turn_length,
        "handoff_time": layer.handoff_time,
        "users": list(layer.users),
        "restrictions": [_restriction_to_data(r) for r in layer.restrictions],
    }


def _layer_from_data(data: Mapping[str, Any]) -> Layer:
    return Layer(
        name=data["name"],
        start=data["start"],
        end=data["end"],
        turn_length=data["turn_length"],
        handoff_time=data["handoff_time"],
        users=tuple(data["users"]),
        restrictions=tuple(
            Restriction(RestrictionType(r["type"]), r["start_time"], r["duration"], r["start_day"])
            for r in data["restrictions"]
        ),
    )


def _values(schedule: Schedule) -> dict[str, object]:
    return {
        "id": schedule.id,
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "layers": [_layer_to_data(layer) for layer in schedule.layers],
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
    }


def _schedule(row: RowMapping) -> Schedule:
    return Schedule(
        id=row.id,
        name=row.name,
        time_zone=row.time_zone,
        layers=tuple(_layer_from_data(layer) for layer in row.layers),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _override(row: RowMapping) -> Override:
    return Override(
        id=row.id,
        schedule_id=row.schedule_id,
        user=row.user_id,
        start=row.starts_at,
        end=row.ends_at,
        created_at=row.created_at,
    )


async def schedules_in(connection: AsyncConnection) -> list[Schedule]:
    rows = await connection.execute(sa.select(t).order_by(*_ORDER))
    return [_schedule(row) for row in rows.mappings()]


def _conflict(name: str) -> AlreadyExists:
    return AlreadyExists(f"a schedule named {name!r} already exists")


def _not_found(schedule_id: str) -> NotFound:
    return NotFound(f"schedule {schedule_id!r} not found")


def _overlapping(query: sa.Select[Any], start: int | None, end: int | None) -> sa.Select[Any]:
    if start is not None:
        query = query.where(ot.c.ends_at > start)
    if end is not None:
        query = query.where(ot.c.starts_at < end)
    return query


class ScheduleRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, schedule: Schedule, now: int, check: Check | None = None) -> Schedule:
        """`check` raises when the schedule names a user that does not exist, in the write's transaction."""
        stored = dataclasses.replace(schedule, id=new_id(), created_at=now, updated_at=now)
        try:
            async with self._db.write() as connection:
                if check is not None:
                    check(await known_in(connection))
                await connection.execute(t.insert().values(_values(stored)))
        except IntegrityError:
            raise _conflict(schedule.name) from None
        return stored

    async def get(self, schedule_id: str) -> Schedule:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == schedule_id))
        if row is None:
            raise _not_found(schedule_id)
        return _schedule(row)

    async def resolve(self, ref: str) -> str:
        """The id of the schedule whose id or name is `ref`."""
        return await resolve_id(self._db, t, ref, "schedule")

    async def list(self, page: PageRequest) -> Page[Schedule]:
        async with self._db.read() as connection:
            return await fetch_page(connection, sa.select(t).order_by(*_ORDER), page, KIND, _schedule)

    async def all(self) -> builtins.list[Schedule]:
        async with self._db.read() as connection:
            return await schedules_in(connection)

    async def update(
        self, schedule_id: str, schedule: Schedule, now: int, check: Check | None = None
    ) -> Schedule:
        try:
            async with self._db.write() as connection:
                if check is not None:
                    check(await known_in(connection))
                row = await fetch_one(
                    connection,
                    sa.select(t.c.created_at, t.c.name).where(t.c.id == schedule_id).with_for_update(),
                )
                if row is None:
                    raise _not_found(schedule_id)
                stored = dataclasses.replace(
                    schedule, id=schedule_id, created_at=row.created_at, updated_at=now
                )
                await connection.execute(t.update().where(t.c.id == schedule_id).values(_values(stored)))
                await follow_rename(connection, "schedules", row.name, stored.name, now)
        except IntegrityError:
            raise _conflict(schedule.name) from None
        return stored

    async def calendar_link_epoch(self, schedule_id: str) -> int:
        """How many times the schedule's calendar link was reset; the current link is signed with it."""
        async with self._db.read() as connection:
            epoch = (
                await connection.execute(sa.select(t.c.calendar_link_epoch).where(t.c.id == schedule_id))
            ).scalar_one_or_none()
        if epoch is None:
            raise _not_found(schedule_id)
        return int(epoch)

    async def reset_calendar_link(self, schedule_id: str) -> int:
        """Moves the schedule to a new calendar link (every earlier one stops working); its epoch."""
        async with self._db.write() as connection:
            bumped = await connection.execute(
                t.update()
                .where(t.c.id == schedule_id)
                .values(calendar_link_epoch=t.c.calendar_link_epoch + 1)
                .returning(t.c.calendar_link_epoch)
            )
            epoch = bumped.scalar_one_or_none()
        if epoch is None:
            raise _not_found(schedule_id)
        return int(epoch)

    async def delete(self, schedule_id: str) -> None:
        """Refused (FailedPrecondition) while an escalation level names the schedule; its overrides go
        with it."""
        async with self._db.write() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == schedule_id).with_for_update())
            if row is None:
                raise _not_found(schedule_id)
            policies = await escalation_policies.policies_in(connection)
            uses = references.level_uses(
                {row.id, row.name}, policies, "schedules", "whoever is on call in it"
            )
            if uses:
                raise references.still_used(f"schedule {row.name!r}", uses)
            await connection.execute(ot.delete().where(ot.c.schedule_id == schedule_id))
            await connection.execute(t.delete().where(t.c.id == schedule_id))

    async def add_override(self, override: Override, now: int, check: Check | None = None) -> Override:
        stored = dataclasses.replace(override, id=new_id(), created_at=now)
        async with self._db.write() as connection:
            exists = await connection.execute(
                sa.select(t.c.id).where(t.c.id == override.schedule_id).with_for_update(read=True)
            )
            if exists.scalar_one_or_none() is None:
                raise _not_found(override.schedule_id)
            if check is not None:
                check(await known_in(connection))
            await connection.execute(
                ot.insert().values(
                    id=stored.id,
                    schedule_id=stored.schedule_id,
                    user_id=stored.user,
                    starts_at=stored.start,
                    ends_at=stored.end,
                    created_at=stored.created_at,
                )
            )
        return stored

    async def overrides(
        self, schedule_id: str, start: int | None = None, end: int | None = None
    ) -> builtins.list[Override]:
        """The schedule's overrides over [start, end), by start."""
        query = _overlapping(sa.select(ot).where(ot.c.schedule_id == schedule_id), start, end)
        async with self._db.read() as connection:
            rows = await connection.execute(query.order_by(ot.c.starts_at, ot.c.id))
            return [_override(row) for row in rows.mappings()]

    async def all_overrides(self, start: int | None = None) -> builtins.list[Override]:
        """Every schedule's overrides that end after `start`."""
        async with self._db.read() as connection:
            rows = await connection.execute(
                _overlapping(sa.select(ot), start, None).order_by(ot.c.starts_at, ot.c.id)
            )
            return [_override(row) for row in rows.mappings()]

    async def list_overrides(
        self, schedule_id: str, page: PageRequest, start: int | None = None, end: int | None = None
    ) -> Page[Override]:
        query = _overlapping(sa.select(ot).where(ot.c.schedule_id == schedule_id), start, end)
        async with self._db.read() as connection:
            return await fetch_page(
                connection, query.order_by(ot.c.starts_at, ot.c.id), page, OVERRIDES, _override
            )

    async def delete_override(self, schedule_id: str, override_id: str) -> None:
        async with self._db.write() as connection:
            result = await connection.execute(
                ot.delete().where(ot.c.schedule_id == schedule_id, ot.c.id == override_id)
            )
        if result.rowcount == 0:
            raise NotFound(f"override {override_id!r} of schedule {schedule_id!r} not found")
