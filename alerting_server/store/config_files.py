"""Configuration files the server loads (kind "alertmanager"): applying one replaces, in one
transaction, everything it owns (`source` = the file's path, or an import's name) and keeps what the
API created; the row in config_files remembers the last load and the last attempt."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import FailedPrecondition, PreconditionViolation
from alerting_server.model import Channel, InhibitRule, Route
from alerting_server.store import notification_templates as templates_store
from alerting_server.store import routing
from alerting_server.store import time_intervals as time_intervals_store
from alerting_server.store.channels import ChannelRepository
from alerting_server.store.database import Database, fetch_one, new_id, upsert
from alerting_server.store.tables import (
    channels,
    config_files,
    inhibit_rules,
    notification_templates,
    time_intervals,
)
from alerting_server.store.tables import routing as routing_table
from alerting_server.timeintervals import parse_time_interval

# The advisory lock key of applying a configuration file (PostgreSQL).
_APPLY_LOCK = 0x616D636F6E66  # "amconf"


@dataclass(frozen=True)
class TimeIntervalRow:
    name: str
    intervals: list[dict[str, Any]]
    source: str = ""


@dataclass(frozen=True)
class TemplateFile:
    name: str
    text: str


@dataclass(frozen=True)
class ConfigFile:
    """One applied file, as it is to be stored."""

    kind: str
    # The file's absolute path, or the name of an import: what owns its objects.
    source: str
    original: str
    sha256: str
    settings: dict[str, Any]
    channels: Sequence[Channel]
    route: Route
    inhibit_rules: Sequence[InhibitRule]
    time_intervals: Sequence[TimeIntervalRow]
    templates: Sequence[TemplateFile]


@dataclass(frozen=True)
class ConfigFileState:
    """The row of config_files: the file last loaded, and the last attempt."""

    kind: str
    path: str
    original: str
    sha256: str
    settings: dict[str, Any]
    loaded_at: int | None
    attempted_at: int
    error: str


@dataclass(frozen=True)
class Applied:
    """What one apply changed, by channel name."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    inhibit_rules: int = 0
    time_intervals: int = 0
    templates: int = 0


def _state(row: RowMapping) -> ConfigFileState:
    return ConfigFileState(
        kind=row.kind,
        path=row.path,
        original=row.original,
        sha256=row.sha256,
        settings=dict(row.settings),
        loaded_at=row.loaded_at,
        attempted_at=row.attempted_at,
        error=row.error,
    )


class ConfigFileRepository:
    def __init__(self, db: Database, channel_repository: ChannelRepository) -> None:
        self._db = db
        # Its sealing of secrets, for the channels written here.
        self._channels = channel_repository

    async def get(self, kind: str) -> ConfigFileState | None:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(config_files).where(config_files.c.kind == kind))
        return None if row is None else _state(row)

    async def empty_receivers(self) -> frozenset[str]:
        """The receivers with no integration of every loaded file (settings.empty_receivers)."""
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(config_files.c.settings))).scalars()
            return frozenset(
                name for settings in rows for name in (settings or {}).get("empty_receivers", ())
            )

    async def resolve_timeout_ms(self) -> int | None:
        """The loaded file's global.resolve_timeout; None when no file is loaded."""
        async with self._db.read() as connection:
            rows = (await connection.execute(sa.select(config_files.c.settings))).scalars()
            found = [s["resolve_timeout"] for s in rows if isinstance((s or {}).get("resolve_timeout"), int)]
        return found[0] if found else None

    async def failed(self, kind: str, path: str, error: str, now: int) -> None:
        """An attempt that changed nothing: its time and error are kept beside the last good load."""
        async with self._db.write() as connection:
            row = await fetch_one(
                connection, sa.select(config_files.c.kind).where(config_files.c.kind == kind)
            )
            if row is None:
                await connection.execute(
                    config_files.insert().values(
                        kind=kind,
                        path=path,
                        original="",
                        sha256="",
                        settings={},
                        loaded_at=None,
                        attempted_at=now,
                        error=error,
                    )
                )
            else:
                await connection.execute(
                    config_files.update()
                    .where(config_files.c.kind == kind)
                    .values(attempted_at=now, error=error)
                )

    async def apply(self, file: ConfigFile, now: int) -> Applied:
        """Replaces what `file.source` owns with the file's objects, in one transaction. A channel
        keeps its id when its name is unchanged (outbox rows and history point at it). A name taken by
        an object another owner holds is refused (FailedPrecondition naming it), and nothing changes."""
        async with self._db.write() as connection:
            if connection.dialect.name == "postgresql":
                # Replicas starting together apply the same file: one after the other, not racing
                # for the same channel names (SQLite has one writer anyway).
                await connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPLY_LOCK})
            # What the configuration loaded before owns is replaced too (another file, an import).
            previous = await fetch_one(
                connection, sa.select(config_files.c.path).where(config_files.c.kind == file.kind)
            )
            sources = {file.source} | ({previous.path} if previous is not None and previous.path else set())
            applied = await self._channels_in(connection, file, sources, now)
            await self._check_names(connection, file, sources)
            await self._inhibit_rules_in(connection, file, sources, now)
            await connection.execute(
                upsert(connection, routing_table),
                {
                    "id": 1,
                    "tree": routing.route_to_json(file.route),
                    "source": file.source,
                    "updated_at": now,
                },
            )
            # What an earlier file (another path) owned goes; the file's own are replaced by name.
            earlier = sources - {file.source}
            await connection.execute(time_intervals.delete().where(time_intervals.c.source.in_(earlier)))
            await time_intervals_store.replace_all_in(
                connection,
                file.source,
                [parse_time_interval(i.name, i.intervals) for i in file.time_intervals],
                now,
            )
            await connection.execute(
                notification_templates.delete().where(notification_templates.c.source.in_(earlier))
            )
            await templates_store.replace_all_in(
                connection, file.source, [(f.name, f.text) for f in file.templates], now
            )
            await connection.execute(upsert(connection, config_files), self._row(file, now))
        return dataclasses.replace(
            applied,
            inhibit_rules=len(file.inhibit_rules),
            time_intervals=len(file.time_intervals),
            templates=len(file.templates),
        )

    @staticmethod
    async def _inhibit_rules_in(
        connection: AsyncConnection, file: ConfigFile, sources: set[str], now: int
    ) -> None:
        """The file's inhibit rules; one the file had before, unchanged, keeps its id and created_at."""
        rows = (
            await connection.execute(sa.select(inhibit_rules).where(inhibit_rules.c.source.in_(sources)))
        ).mappings()
        before: dict[tuple[tuple[str, ...], ...], list[RowMapping]] = {}
        for row in rows:
            key = (tuple(row.source_matchers), tuple(row.target_matchers), tuple(row.equal))
            before.setdefault(key, []).append(row)
        await connection.execute(inhibit_rules.delete().where(inhibit_rules.c.source.in_(sources)))
        for rule in file.inhibit_rules:
            same = before.get((rule.source_matchers, rule.target_matchers, rule.equal))
            kept = same.pop(0) if same else None
            await connection.execute(
                inhibit_rules.insert().values(
                    id=kept.id if kept is not None else new_id(),
                    source_matchers=list(rule.source_matchers),
                    target_matchers=list(rule.target_matchers),
                    equal=list(rule.equal),
                    source=file.source,
                    created_at=kept.created_at if kept is not None else now,
                    updated_at=now,
                )
            )

    @staticmethod
    def _row(file: ConfigFile, now: int) -> dict[str, Any]:
        return {
            "kind": file.kind,
            "path": file.source,
            "original": file.original,
            "sha256": file.sha256,
            "settings": file.settings,
            "loaded_at": now,
            "attempted_at": now,
            "error": "",
        }

    async def _channels_in(
        self, connection: AsyncConnection, file: ConfigFile, sources: set[str], now: int
    ) -> Applied:
        rows = (await connection.execute(sa.select(channels))).mappings().all()
        owned = {row.name: row for row in rows if row.source in sources}
        others = {row.name: row for row in rows if row.source not in sources}
        taken = [
            PreconditionViolation(
                "channel",
                f"channels/{others[c.name].id}",
                f"channel {c.name!r} exists and is owned by {others[c.name].source or 'the API'}",
            )
            for c in file.channels
            if c.name in others
        ]
        if taken:
            raise FailedPrecondition(
                "the file's channels take names in use: "
                + "; ".join(v.description for v in taken)
                + ". Rename the receiver or the channel",
                taken,
            )
        applied = Applied()
        wanted = {c.name for c in file.channels}
        for name, row in owned.items():
            if name not in wanted:
                await connection.execute(channels.delete().where(channels.c.id == row.id))
                applied.deleted.append(name)
        for channel in file.channels:
            current = owned.get(channel.name)
            if current is None:
                stored = dataclasses.replace(channel, id=new_id(), created_at=now, updated_at=now)
                await connection.execute(channels.insert().values(self._channels.values(stored)))
                applied.created.append(channel.name)
                continue
            row = current
            stored = dataclasses.replace(channel, id=row.id, created_at=row.created_at, updated_at=now)
            values = self._channels.values(stored)
            before = self._channels.channel(row)
            if (before.type, before.config, before.receiver, before.source) != (
                channel.type,
                channel.config,
                channel.receiver,
                channel.source,
            ):
                await connection.execute(channels.update().where(channels.c.id == row.id).values(values))
                applied.updated.append(channel.name)
        return applied

    @staticmethod
    async def _check_names(connection: AsyncConnection, file: ConfigFile, sources: set[str]) -> None:
        rows = (await connection.execute(sa.select(time_intervals.c.name, time_intervals.c.source))).all()
        taken = [
            PreconditionViolation(
                "time_interval",
                f"time_intervals/{name}",
                f"time interval {name!r} is owned by {source or 'the API'}",
            )
            for name, source in rows
            if source not in sources and name in {i.name for i in file.time_intervals}
        ]
        rows = (
            await connection.execute(
                sa.select(notification_templates.c.name, notification_templates.c.source)
            )
        ).all()
        taken += [
            PreconditionViolation(
                "template", f"templates/{name}", f"template file {name!r} is owned by {source or 'the API'}"
            )
            for name, source in rows
            if source not in sources and name in {t.name for t in file.templates}
        ]
        if taken:
            raise FailedPrecondition(
                "the file's objects take names in use: " + "; ".join(v.description for v in taken), taken
            )
