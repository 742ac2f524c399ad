"""Notification channels; `config` is stored as given, secrets included (redaction is the API's job)."""

from __future__ import annotations

import builtins
import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import Channel, ChannelType
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id, resolve_id
from alerting_server.store.tables import channels as t

KIND = "channels"
_ORDER = (t.c.created_at, t.c.id)


def _values(channel: Channel) -> dict[str, object]:
    return {
        "id": channel.id,
        "name": channel.name,
        "type": channel.type.value,
        "config": dict(channel.config),
        "created_at": channel.created_at,
        "updated_at": channel.updated_at,
    }


def _channel(row: RowMapping) -> Channel:
    return Channel(
        id=row.id,
        name=row.name,
        type=ChannelType(row.type),
        config=dict(row.config),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _conflict(name: str) -> AlreadyExists:
    return AlreadyExists(f"a channel named {name!r} already exists")


class ChannelRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, channel: Channel, now: int) -> Channel:
        stored = dataclasses.replace(channel, id=new_id(), created_at=now, updated_at=now)
        try:
            async with self._db.write() as connection:
                await connection.execute(t.insert().values(_values(stored)))
        except IntegrityError:
            raise _conflict(channel.name) from None
        return stored

    async def get(self, channel_id: str) -> Channel:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == channel_id))
        if row is None:
            raise NotFound(f"channel {channel_id!r} not found")
        return _channel(row)

    async def resolve(self, ref: str) -> str:
        """The id of the channel whose id or name is `ref`."""
        return await resolve_id(self._db, t, ref, "channel")

    async def get_by_name(self, name: str) -> Channel:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.name == name))
        if row is None:
            raise NotFound(f"no channel named {name!r}")
        return _channel(row)

    async def list(self, page: PageRequest) -> Page[Channel]:
        async with self._db.read() as connection:
            return await fetch_page(connection, sa.select(t).order_by(*_ORDER), page, KIND, _channel)

    async def all(self) -> builtins.list[Channel]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(*_ORDER))).mappings().all()
        return [_channel(row) for row in rows]

    async def update(self, channel_id: str, channel: Channel, now: int) -> Channel:
        try:
            async with self._db.write() as connection:
                created_at = (
                    await connection.execute(sa.select(t.c.created_at).where(t.c.id == channel_id))
                ).scalar_one_or_none()
                if created_at is None:
                    raise NotFound(f"channel {channel_id!r} not found")
                stored = dataclasses.replace(channel, id=channel_id, created_at=created_at, updated_at=now)
                await connection.execute(t.update().where(t.c.id == channel_id).values(_values(stored)))
        except IntegrityError:
            raise _conflict(channel.name) from None
        return stored

    async def delete(self, channel_id: str) -> None:
        async with self._db.write() as connection:
            result = await connection.execute(t.delete().where(t.c.id == channel_id))
        if result.rowcount == 0:
            raise NotFound(f"channel {channel_id!r} not found")
