"""Notification channels; `config` is stored as given, its secrets sealed by the store's Cipher
(redaction is the API's job)."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from alerting_server.errors import AlreadyExists, FailedPrecondition, NotFound, PreconditionViolation
from alerting_server.model import Channel, ChannelType
from alerting_server.pagination import Page, PageRequest
from alerting_server.store import escalation_policies, references, routing
from alerting_server.store.crypto import Cipher
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id, resolve_id
from alerting_server.store.renames import follow_rename
from alerting_server.store.tables import channels as t
from alerting_server.store.tables import users
from alerting_server.validation.channels import secret_fields

KIND = "channels"
_ORDER = (t.c.created_at, t.c.id)


def _secrets(type: ChannelType, config: dict[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """`config` with `change` applied to each secret (validation/channels.py says which are)."""
    out = dict(config)
    for name in secret_fields(type):
        if isinstance(out.get(name), str):
            out[name] = change(out[name])
    headers = out.get("headers")
    if isinstance(headers, dict):
        out["headers"] = {k: change(v) if isinstance(v, str) else v for k, v in headers.items()}
    return out


def _conflict(name: str) -> AlreadyExists:
    return AlreadyExists(f"a channel named {name!r} already exists")


class ChannelRepository:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db = db
        self._cipher = cipher

    def values(self, channel: Channel) -> dict[str, object]:
        """The channel's row, its secrets sealed."""
        return {
            "id": channel.id,
            "name": channel.name,
            "type": channel.type.value,
            "config": _secrets(channel.type, dict(channel.config), self._cipher.seal),
            "receiver": channel.receiver,
            "source": channel.source,
            "owner": channel.owner,
            "created_at": channel.created_at,
            "updated_at": channel.updated_at,
        }

    def channel(self, row: RowMapping) -> Channel:
        """The channel of a row, its secrets opened."""
        type = ChannelType(row.type)
        return Channel(
            id=row.id,
            name=row.name,
            type=type,
            config=_secrets(type, dict(row.config), self._cipher.open),
            receiver=row.receiver,
            source=row.source,
            owner=row.owner,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def create(self, channel: Channel, now: int) -> Channel:
        stored = dataclasses.replace(channel, id=new_id(), created_at=now, updated_at=now)
        try:
            async with self._db.write() as connection:
                await connection.execute(t.insert().values(self.values(stored)))
        except IntegrityError:
            raise _conflict(channel.name) from None
        return stored

    async def create_named_after(self, channel: Channel, base: str, now: int) -> Channel:
        """Creates `channel` under `base`, or `base-2`, `base-3`, ... the first name no channel has."""
        for _ in range(3):  # a concurrent create may take the name found free: look again
            async with self._db.read() as connection:
                taken = set(
                    (
                        await connection.execute(
                            sa.select(t.c.name).where(
                                sa.or_(t.c.name == base, t.c.name.startswith(f"{base}-", autoescape=True))
                            )
                        )
                    ).scalars()
                )
            candidates = (base if i == 1 else f"{base}-{i}" for i in range(1, len(taken) + 2))
            name = next(n for n in candidates if n not in taken)
            try:
                return await self.create(dataclasses.replace(channel, name=name), now)
            except AlreadyExists:
                continue
        raise _conflict(base)

    async def get(self, channel_id: str) -> Channel:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == channel_id))
        if row is None:
            raise NotFound(f"channel {channel_id!r} not found")
        return self.channel(row)

    async def resolve(self, ref: str) -> str:
        """The id of the channel whose id or name is `ref`."""
        return await resolve_id(self._db, t, ref, "channel")

    async def get_by_name(self, name: str) -> Channel:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.name == name))
        if row is None:
            raise NotFound(f"no channel named {name!r}")
        return self.channel(row)

    async def list(self, page: PageRequest) -> Page[Channel]:
        async with self._db.read() as connection:
            return await fetch_page(connection, sa.select(t).order_by(*_ORDER), page, KIND, self.channel)

    async def all(self) -> builtins.list[Channel]:
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(*_ORDER))).mappings().all()
        return [self.channel(row) for row in rows]

    async def update(self, channel_id: str, channel: Channel, now: int) -> Channel:
        try:
            async with self._db.write() as connection:
                row = await fetch_one(
                    connection,
                    sa.select(t.c.created_at, t.c.name).where(t.c.id == channel_id).with_for_update(),
                )
                if row is None:
                    raise NotFound(f"channel {channel_id!r} not found")
                stored = dataclasses.replace(
                    channel, id=channel_id, created_at=row.created_at, updated_at=now
                )
                await connection.execute(t.update().where(t.c.id == channel_id).values(self.values(stored)))
                await follow_rename(connection, "channels", row.name, stored.name, now)
        except IntegrityError:
            raise _conflict(channel.name) from None
        return stored

    async def delete(self, channel_id: str, *, cascade: bool = False, now: int = 0) -> None:
        """Refused (FailedPrecondition) while routes or escalation levels use the channel, unless
        `cascade` removes those uses in the same transaction (store/references.py)."""
        async with self._db.write() as connection:
            # Locked first: a writer that adds a reference waits for this delete, or we for it.
            row = await fetch_one(connection, sa.select(t).where(t.c.id == channel_id).with_for_update())
            if row is None:
                raise NotFound(f"channel {channel_id!r} not found")
            what = f"channel {row.name!r}"
            if row.owner:
                owner = (
                    await connection.execute(sa.select(users.c.name).where(users.c.id == row.owner))
                ).scalar_one_or_none()
                raise FailedPrecondition(
                    f"{what} is a contact method of user {owner or row.owner!r}: change or delete the user",
                    [PreconditionViolation("user", f"users/{row.owner}.contact_methods", "it is theirs")],
                )
            names = {row.id, row.name}
            if row.receiver:
                others = await connection.execute(
                    sa.select(sa.func.count()).where(t.c.receiver == row.receiver, t.c.id != row.id)
                )
                if others.scalar_one() == 0:
                    # The receiver's last integration: what names the receiver names it.
                    names.add(row.receiver)
            tree = await routing.tree_in(connection, lock=True)
            policies = await escalation_policies.policies_in(connection)
            uses = references.channel_uses(names, tree, policies)
            if uses and not cascade:
                raise references.in_use(what, uses)
            changed = [(p, references.policy_without_channel(p, names)) for p in policies]
            blockers = [
                PreconditionViolation(
                    "escalation_policy",
                    f"escalation_policies/{p.id}.levels",
                    f"it is the only channel of escalation policy {p.name!r}",
                )
                for p, new in changed
                if new is None
            ]
            if tree is not None and tree.receiver in names:
                blockers.insert(
                    0,
                    PreconditionViolation(
                        "route", "routing.receiver", "the root route sends to it and must keep a receiver"
                    ),
                )
            if blockers:
                raise references.cannot_cascade(what, blockers)
            if tree is not None and uses:
                await routing.put_in(connection, references.without_receiver(tree, names), now)
            for old, new in changed:
                if new is not None and new != old:
                    await escalation_policies.save_in(connection, dataclasses.replace(new, updated_at=now))
            await connection.execute(t.delete().where(t.c.id == channel_id))
