"""Silences. Expiring one keeps the row (Alertmanager keeps expired silences visible)."""

from __future__ import annotations

import builtins
import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from alerting_server.errors import FailedPrecondition, NotFound
from alerting_server.model import Silence, SilenceState
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id
from alerting_server.store.tables import silences as t

KIND = "silences"
_ORDER = (t.c.created_at, t.c.id)


def _values(silence: Silence) -> dict[str, object]:
    return {
        "id": silence.id,
        "matchers": list(silence.matchers),
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "created_by": silence.created_by,
        "comment": silence.comment,
        "created_at": silence.created_at,
        "updated_at": silence.updated_at,
    }


def _silence(row: RowMapping) -> Silence:
    return Silence(
        id=row.id,
        matchers=tuple(row.matchers),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_by=row.created_by,
        comment=row.comment,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _in_state(state: SilenceState, now: int) -> sa.ColumnElement[bool]:
    """The SQL form of Silence.state(now) == state."""
    if state is SilenceState.EXPIRED:
        return t.c.ends_at <= now
    if state is SilenceState.PENDING:
        return sa.and_(t.c.starts_at > now, t.c.ends_at > now)
    return sa.and_(t.c.starts_at <= now, t.c.ends_at > now)


def _ended(silence: Silence, now: int) -> Silence:
    """The silence ended at `now`; a pending one also starts then, so that it never ends before it starts."""
    return dataclasses.replace(silence, starts_at=min(silence.starts_at, now), ends_at=now, updated_at=now)


def _not_found(silence_id: str) -> NotFound:
    return NotFound(f"silence {silence_id!r} not found")


class SilenceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, silence: Silence, now: int) -> Silence:
        stored = dataclasses.replace(silence, id=new_id(), created_at=now, updated_at=now)
        async with self._db.write() as connection:
            await connection.execute(t.insert().values(_values(stored)))
        return stored

    async def get(self, silence_id: str) -> Silence:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == silence_id))
        if row is None:
            raise _not_found(silence_id)
        return _silence(row)

    async def list(self, page: PageRequest, state: SilenceState | None, now: int) -> Page[Silence]:
        query = sa.select(t).order_by(*_ORDER)
        if state is not None:
            query = query.where(_in_state(state, now))
        async with self._db.read() as connection:
            return await fetch_page(connection, query, page, KIND, _silence)

    async def all(self) -> builtins.list[Silence]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(*_ORDER))).mappings().all()
        return [_silence(row) for row in rows]

    async def expire(self, silence_id: str, now: int) -> Silence:
        """Ends the silence now. A pending one also starts now, so that it never ends before it starts."""
        async with self._db.write() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == silence_id))
            if row is None:
                raise _not_found(silence_id)
            silence = _silence(row)
            if silence.state(now) is SilenceState.EXPIRED:
                raise FailedPrecondition(f"silence {silence_id!r} has already expired")
            expired = _ended(silence, now)
            await connection.execute(t.update().where(t.c.id == silence_id).values(_values(expired)))
        return expired

    async def update(self, silence_id: str, silence: Silence, now: int) -> Silence:
        """Alertmanager's update: in place while the silence has not expired and its matchers stay the
        same; otherwise, in the same transaction, the old one expires and `silence` is stored anew."""
        async with self._db.write() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == silence_id))
            if row is None:
                raise _not_found(silence_id)
            old = _silence(row)
            expired = old.state(now) is SilenceState.EXPIRED
            if not expired and old.matchers == silence.matchers:
                updated = dataclasses.replace(silence, id=old.id, created_at=old.created_at, updated_at=now)
                await connection.execute(t.update().where(t.c.id == silence_id).values(_values(updated)))
                return updated
            if not expired:
                ended = _ended(old, now)
                await connection.execute(t.update().where(t.c.id == silence_id).values(_values(ended)))
            stored = dataclasses.replace(silence, id=new_id(), created_at=now, updated_at=now)
            await connection.execute(t.insert().values(_values(stored)))
            return stored
