"""Users; each contact method is a channel the user owns (`channels.owner`), written in the user's
transaction, so that a user never exists without their channels nor a channel outlives its user."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import User
from alerting_server.oncall.contacts import channels as user_channels
from alerting_server.oncall.contacts import contact_method
from alerting_server.pagination import Page, PageRequest
from alerting_server.store import escalation_policies, references, routing
from alerting_server.store.channels import ChannelRepository
from alerting_server.store.database import Database, fetch_one, new_id, resolve_id
from alerting_server.store.renames import follow_rename
from alerting_server.store.schedules import schedules_in
from alerting_server.store.tables import channels as ct
from alerting_server.store.tables import schedule_overrides as ot
from alerting_server.store.tables import schedules as st
from alerting_server.store.tables import users as t

KIND = "users"
_ORDER = (t.c.created_at, t.c.id)


def _not_found(user_id: str) -> NotFound:
    return NotFound(f"user {user_id!r} not found")


class UserRepository:
    def __init__(self, db: Database, channels: ChannelRepository) -> None:
        self._db = db
        self._channels = channels

    def _values(self, user: User) -> dict[str, object]:
        return {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "time_zone": user.time_zone,
            "contact_methods": [m.channel_id for m in user.contact_methods],
            "created_at": user.created_at,
            "updated_at": user.updated_at,
        }

    async def _users(self, connection: AsyncConnection, rows: Sequence[RowMapping]) -> list[User]:
        """The users of `rows` with their contact methods, read from their channels."""
        ids = [row.id for row in rows]
        channel_rows = (
            (await connection.execute(sa.select(ct).where(ct.c.owner.in_(ids)))).mappings().all()
            if ids
            else []
        )
        by_id = {row.id: self._channels.channel(row) for row in channel_rows}
        return [
            User(
                id=row.id,
                name=row.name,
                email=row.email,
                time_zone=row.time_zone,
                contact_methods=tuple(
                    contact_method(by_id[channel_id])
                    for channel_id in row.contact_methods
                    if channel_id in by_id
                ),
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            for row in rows
        ]

    async def _check_names(self, connection: AsyncConnection, user: User) -> None:
        """A contact method's channel name that another channel has is AlreadyExists naming it."""
        names = {c.name: c for c in user_channels(user)}
        taken = await connection.execute(
            sa.select(ct.c.name).where(ct.c.name.in_(list(names)), ct.c.owner != user.id)
        )
        for name in taken.scalars():
            raise AlreadyExists(
                f"a channel named {name!r} already exists: the name of user {user.name!r}'s"
                f" {names[name].type.value} contact method"
            )

    async def _check_unused(self, connection: AsyncConnection, channel_ids: set[str]) -> None:
        """Channels of a user's that are about to go: refused while routes or escalation levels name
        them (FailedPrecondition naming each), as deleting a channel is."""
        if not channel_ids:
            return
        rows = await connection.execute(sa.select(ct.c.id, ct.c.name).where(ct.c.id.in_(channel_ids)))
        named = {row.name: row.id for row in rows}
        tree = await routing.tree_in(connection, lock=True)
        policies = await escalation_policies.policies_in(connection)
        for name, channel_id in sorted(named.items()):
            uses = references.channel_uses({name, channel_id}, tree, policies)
            if uses:
                raise references.still_used(f"channel {name!r} (a contact method)", uses)

    async def create(self, user: User, now: int) -> User:
        user_id = new_id()
        methods = tuple(dataclasses.replace(m, channel_id=new_id()) for m in user.contact_methods)
        stored = dataclasses.replace(
            user, id=user_id, contact_methods=methods, created_at=now, updated_at=now
        )
        try:
            async with self._db.write() as connection:
                await self._check_names(connection, stored)
                for channel in user_channels(stored):
                    row = dataclasses.replace(channel, created_at=now, updated_at=now)
                    await connection.execute(ct.insert().values(self._channels.values(row)))
                await connection.execute(t.insert().values(self._values(stored)))
        except IntegrityError:
            raise AlreadyExists(f"a user named {user.name!r} already exists") from None
        return await self.get(user_id)

    async def get(self, user_id: str) -> User:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == user_id))
            if row is None:
                raise _not_found(user_id)
            return (await self._users(connection, [row]))[0]

    async def resolve(self, ref: str) -> str:
        """The id of the user whose id or name is `ref`."""
        return await resolve_id(self._db, t, ref, "user")

    async def list(self, page: PageRequest) -> Page[User]:
        async with self._db.read() as connection:
            query = sa.select(t).order_by(*_ORDER).limit(page.size + 1).offset(page.offset)
            rows = (await connection.execute(query)).mappings().all()
            items = await self._users(connection, rows[: page.size])
        return Page(items, page.next_token(KIND, len(items), len(rows) > page.size))

    async def all(self) -> builtins.list[User]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(*_ORDER))).mappings().all()
            return await self._users(connection, rows)

    async def update(self, user_id: str, user: User, now: int) -> User:
        """Contact methods that name one of the user's channels keep it; the others are new channels;
        the user's channels no longer named are deleted."""
        try:
            async with self._db.write() as connection:
                row = await fetch_one(connection, sa.select(t).where(t.c.id == user_id).with_for_update())
                if row is None:
                    raise _not_found(user_id)
                old = set(row.contact_methods)
                methods = tuple(
                    m if m.channel_id in old else dataclasses.replace(m, channel_id=new_id())
                    for m in user.contact_methods
                )
                stored = dataclasses.replace(
                    user, id=user_id, contact_methods=methods, created_at=row.created_at, updated_at=now
                )
                await self._check_names(connection, stored)
                kept = {m.channel_id for m in methods}
                gone = old - kept
                await self._check_unused(connection, gone)
                if gone:
                    await connection.execute(ct.delete().where(ct.c.id.in_(gone)))
                for channel in user_channels(stored):
                    if channel.id in old:
                        created = (
                            await connection.execute(sa.select(ct.c.created_at).where(ct.c.id == channel.id))
                        ).scalar_one()
                        values = self._channels.values(
                            dataclasses.replace(channel, created_at=created, updated_at=now)
                        )
                        await connection.execute(ct.update().where(ct.c.id == channel.id).values(values))
                    else:
                        values = self._channels.values(
                            dataclasses.replace(channel, created_at=now, updated_at=now)
                        )
                        await connection.execute(ct.insert().values(values))
                await connection.execute(t.update().where(t.c.id == user_id).values(self._values(stored)))
                await follow_rename(connection, "users", row.name, stored.name, now)
        except IntegrityError:
            raise AlreadyExists(f"a user named {user.name!r} already exists") from None
        return await self.get(user_id)

    async def delete(self, user_id: str) -> None:
        """Refused (FailedPrecondition) while an escalation level, a schedule layer or an override names
        the user; their channels go with them."""
        async with self._db.write() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == user_id).with_for_update())
            if row is None:
                raise _not_found(user_id)
            policies = await escalation_policies.policies_in(connection)
            uses = references.level_uses({row.id, row.name}, policies, "users", "them")
            overrides = await connection.execute(
                sa.select(ot.c.id, st.c.name)
                .join(st, st.c.id == ot.c.schedule_id)
                .where(ot.c.user_id == row.id)
                .order_by(ot.c.starts_at)
            )
            uses += references.schedule_user_uses(
                row.id, await schedules_in(connection), [(o.id, o.name) for o in overrides]
            )
            if uses:
                raise references.still_used(f"user {row.name!r}", uses)
            await self._check_unused(connection, set(row.contact_methods))
            await connection.execute(ct.delete().where(ct.c.owner == row.id))
            await connection.execute(t.delete().where(t.c.id == row.id))
