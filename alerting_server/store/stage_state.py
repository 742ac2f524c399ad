"""One JSON document per stage (e.g. the alert dispatcher), replaced whole on every write."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.store.database import Database, fetch_one
from alerting_server.store.tables import stage_state as t


class StageStateRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> dict[str, Any] | None:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t.c.data).where(t.c.name == name))
        return None if row is None else dict(row["data"])

    async def put(
        self, name: str, data: dict[str, Any], now: int, connection: AsyncConnection | None = None
    ) -> None:
        """Replaces the document; pass the caller's connection to commit it with what it caused."""
        async with self._db.write(connection) as conn:
            updated = await conn.execute(t.update().where(t.c.name == name).values(data=data, updated_at=now))
            if updated.rowcount == 0:
                await conn.execute(t.insert().values(name=name, data=data, updated_at=now))
