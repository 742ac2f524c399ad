"""The key of acknowledgement links: configured, or generated once and kept in the store, so that
links in notifications already sent keep working after a restart (and on every replica)."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from alerting_server.store import Store
from alerting_server.store.tables import server_secrets as t

ACK_LINKS = "ack_links"


async def ack_link_secret(store: Store, configured: str, now: int) -> bytes:
    if configured:
        return configured.encode()
    stored = await _read(store)
    if stored is not None:
        return stored
    try:
        async with store.transaction() as connection:
            await connection.execute(
                t.insert().values(name=ACK_LINKS, value=secrets.token_hex(32), created_at=now)
            )
    except IntegrityError:
        pass  # Another replica generated it first: theirs is the one.
    stored = await _read(store)
    assert stored is not None
    return stored


async def _read(store: Store) -> bytes | None:
    async with store.engine.begin() as connection:
        value = (
            await connection.execute(sa.select(t.c.value).where(t.c.name == ACK_LINKS))
        ).scalar_one_or_none()
    return None if value is None else str(value).encode()
