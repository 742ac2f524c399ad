"""Notification template files: Alertmanager's `templates:`, read after its default templates in
`position` order, so that a later file may redefine what an earlier one (or a default) defines."""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.store.database import Database
from alerting_server.store.tables import notification_templates as t


@dataclass(frozen=True)
class NotificationTemplate:
    name: str
    text: str
    source: str
    position: int
    updated_at: int


class NotificationTemplateRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self) -> builtins.list[NotificationTemplate]:
        """Every template file, in the order they are read."""
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(t).order_by(t.c.position, t.c.name))).mappings().all()
        return [
            NotificationTemplate(
                name=row.name,
                text=row.text,
                source=row.source,
                position=row.position,
                updated_at=row.updated_at,
            )
            for row in rows
        ]

    async def replace_all(
        self, source: str, files: Sequence[tuple[str, str]], *, now: int | None = None
    ) -> None:
        """The files of `source` become `files` (name, text), read in that order after the files of
        other sources; one transaction. A name another source holds is taken over."""
        at = int(time.time() * 1000) if now is None else now
        async with self._db.write() as connection:
            await replace_all_in(connection, source, files, at)


async def replace_all_in(
    connection: AsyncConnection, source: str, files: Sequence[tuple[str, str]], now: int
) -> None:
    """`replace_all` in the caller's transaction (a configuration file's load)."""
    names = [name for name, _ in files]
    if len(set(names)) != len(names):
        raise ValueError("template file names must be unique")
    await connection.execute(t.delete().where(t.c.source == source))
    if names:
        await connection.execute(t.delete().where(t.c.name.in_(names)))
    start = (await connection.execute(sa.select(sa.func.max(t.c.position)))).scalar()
    base = 0 if start is None else int(start) + 1
    for i, (name, text) in enumerate(files):
        await connection.execute(
            t.insert().values(name=name, text=text, source=source, position=base + i, updated_at=now)
        )
