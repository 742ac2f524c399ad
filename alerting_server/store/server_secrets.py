"""Secrets the server generates for itself, kept sealed by the store's Cipher, and the check that
the configured secrets key is the one the database was written with."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from alerting_server.store.crypto import PREFIX, Cipher
from alerting_server.store.database import Database
from alerting_server.store.tables import server_secrets as t

# A known text sealed under the key at its first use: a wrong key fails on it at start-up, before
# any channel secret is needed.
KEY_CHECK = "secrets_key_check"
_KEY_CHECK_TEXT = "alerting secrets key"


class ServerSecretRepository:
    def __init__(self, db: Database, cipher: Cipher) -> None:
        self._db = db
        self._cipher = cipher

    async def get_or_create(self, name: str, generate: Callable[[], str], now: int) -> str:
        """The secret `name`, generated and stored at the first call on any replica."""
        stored = await self._read(name)
        if stored is None:
            try:
                async with self._db.write() as connection:
                    value = self._cipher.seal(generate())
                    await connection.execute(t.insert().values(name=name, value=value, created_at=now))
            except IntegrityError:
                pass  # Another replica generated it first: theirs is the one.
            stored = await self._read(name)
            assert stored is not None
        elif self._cipher.enabled and not stored.startswith(PREFIX):
            # Written before a key was configured: sealed now, as any later write would.
            await self._reseal(name, stored)
        return self._cipher.open(stored)

    async def check_key(self, now: int) -> None:
        """SecretsKeyError unless the configured key (or its absence) fits what the database holds."""
        stored = await self._read(KEY_CHECK)
        if stored is not None:
            self._cipher.open(stored)
        elif self._cipher.enabled:
            await self.get_or_create(KEY_CHECK, lambda: _KEY_CHECK_TEXT, now)

    async def _reseal(self, name: str, plain: str) -> None:
        async with self._db.write() as connection:
            await connection.execute(
                t.update().where(t.c.name == name, t.c.value == plain).values(value=self._cipher.seal(plain))
            )

    async def _read(self, name: str) -> str | None:
        async with self._db.read() as connection:
            value = (
                await connection.execute(sa.select(t.c.value).where(t.c.name == name))
            ).scalar_one_or_none()
        return None if value is None else str(value)
