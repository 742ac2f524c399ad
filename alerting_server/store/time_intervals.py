"""Time intervals (Alertmanager's `time_intervals`): named lists of specs that routes mute or
activate notifications with, by name.

`source` says who owns one: "" the API, else the configuration file it was loaded from; the API
changes and deletes only its own (FailedPrecondition names the file), and a file's load replaces
all of that file's at once (`replace_all`). A time interval the routing tree names is neither
deleted nor renamed (FailedPrecondition naming each route, store/references.py).
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import AlreadyExists, FailedPrecondition, NotFound, PreconditionViolation
from alerting_server.pagination import Page, PageRequest
from alerting_server.store import references, routing
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id, resolve_id
from alerting_server.store.tables import time_intervals as t
from alerting_server.timeintervals import TimeInterval, parse_specs

KIND = "time_intervals"
_ORDER = (t.c.created_at, t.c.id)


def _values(interval: TimeInterval) -> dict[str, object]:
    return {
        "id": interval.id,
        "name": interval.name,
        "intervals": interval.to_json(),
        "source": interval.source,
        "created_at": interval.created_at,
        "updated_at": interval.updated_at,
    }


def _interval(row: RowMapping) -> TimeInterval:
    return TimeInterval(
        id=row.id,
        name=row.name,
        specs=parse_specs(row.intervals),
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _conflict(name: str) -> AlreadyExists:
    return AlreadyExists(f"a time interval named {name!r} already exists")


def _not_found(ref: str) -> NotFound:
    return NotFound(f"time interval {ref!r} not found")


def owned_by_file(interval: TimeInterval, action: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"time interval {interval.name!r} is owned by the configuration file {interval.source}: "
        f"{action} it there",
        [
            PreconditionViolation(
                "configuration_file",
                interval.source,
                f"time interval {interval.name!r} is loaded from {interval.source}",
            )
        ],
    )


async def names_in(connection: AsyncConnection) -> frozenset[str]:
    """Every time interval's name, share-locked until the transaction ends (store/references.py)."""
    rows = await connection.execute(sa.select(t.c.name).with_for_update(read=True))
    return frozenset(rows.scalars())


class TimeIntervalRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, interval: TimeInterval, now: int) -> TimeInterval:
        stored = dataclasses.replace(interval, id=new_id(), created_at=now, updated_at=now)
        try:
            async with self._db.write() as connection:
                await connection.execute(t.insert().values(_values(stored)))
        except IntegrityError:
            raise _conflict(interval.name) from None
        return stored

    async def get(self, interval_id: str) -> TimeInterval:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == interval_id))
        if row is None:
            raise _not_found(interval_id)
        return _interval(row)

    async def get_by_name(self, name: str) -> TimeInterval:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.name == name))
        if row is None:
            raise NotFound(f"no time interval named {name!r}")
        return _interval(row)

    async def resolve(self, ref: str) -> str:
        """The id of the time interval whose id or name is `ref`."""
        return await resolve_id(self._db, t, ref, "time interval")

    async def list(self, page: PageRequest) -> Page[TimeInterval]:
        async with self._db.read() as connection:
            return await fetch_page(connection, sa.select(t).order_by(*_ORDER), page, KIND, _interval)

    async def all(self) -> builtins.list[TimeInterval]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(*_ORDER))).mappings().all()
        return [_interval(row) for row in rows]

    async def update(self, interval_id: str, interval: TimeInterval, now: int) -> TimeInterval:
        """Replaces the name and specs of one the API owns; a rename is refused while routes use the
        old name."""
        try:
            async with self._db.write() as connection:
                row = await fetch_one(connection, sa.select(t).where(t.c.id == interval_id).with_for_update())
                if row is None:
                    raise _not_found(interval_id)
                current = _interval(row)
                if current.source:
                    raise owned_by_file(current, "change")
                if interval.name != current.name:
                    await _refuse_if_used(connection, current)
                stored = dataclasses.replace(
                    interval, id=interval_id, source="", created_at=current.created_at, updated_at=now
                )
                await connection.execute(t.update().where(t.c.id == interval_id).values(_values(stored)))
        except IntegrityError:
            raise _conflict(interval.name) from None
        return stored

    async def delete(self, interval_id: str) -> None:
        """Refused (FailedPrecondition) while a route names it, or when a file owns it."""
        async with self._db.write() as connection:
            # Locked first: a routing tree written meanwhile waits for this delete, or we for it.
            row = await fetch_one(connection, sa.select(t).where(t.c.id == interval_id).with_for_update())
            if row is None:
                raise _not_found(interval_id)
            current = _interval(row)
            if current.source:
                raise owned_by_file(current, "delete")
            await _refuse_if_used(connection, current)
            await connection.execute(t.delete().where(t.c.id == interval_id))

    async def replace_all(self, source: str, intervals: Sequence[TimeInterval], now: int) -> None:
        """The time intervals of the file `source` become exactly `intervals`, in one transaction."""
        async with self._db.write() as connection:
            await replace_all_in(connection, source, intervals, now)


async def replace_all_in(
    connection: AsyncConnection, source: str, intervals: Sequence[TimeInterval], now: int
) -> None:
    """`replace_all` in the caller's transaction, with the file's other objects. Kept: the id and
    created_at of an interval the file had by the same name. A name the API or another file already
    owns is refused (AlreadyExists), and nothing is written."""
    if not source:
        raise ValueError("replace_all is for a configuration file's intervals: source must name the file")
    names = [interval.name for interval in intervals]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AlreadyExists(f"time interval {duplicates[0]!r} is not unique")
    rows = (
        await connection.execute(sa.select(t).where(t.c.name.in_(names) | (t.c.source == source)))
    ).mappings()
    existing = {row.name: row for row in rows}
    for name in names:
        row = existing.get(name)
        if row is not None and row.source != source:
            owner = "the API" if not row.source else f"the configuration file {row.source}"
            raise AlreadyExists(f"a time interval named {name!r} already exists, owned by {owner}")
    gone = [row.id for name, row in existing.items() if name not in names]
    if gone:
        await connection.execute(t.delete().where(t.c.id.in_(gone)))
    for interval in intervals:
        row = existing.get(interval.name)
        stored = dataclasses.replace(
            interval,
            id=row.id if row is not None else new_id(),
            source=source,
            created_at=row.created_at if row is not None else now,
            updated_at=now,
        )
        if row is None:
            await connection.execute(t.insert().values(_values(stored)))
        else:
            await connection.execute(t.update().where(t.c.id == stored.id).values(_values(stored)))


async def _refuse_if_used(connection: AsyncConnection, interval: TimeInterval) -> None:
    tree = await routing.tree_in(connection, lock=True)
    uses = references.time_interval_uses(interval.name, tree)
    if uses:
        raise references.in_use(f"time interval {interval.name!r}", uses, cascade=False)
