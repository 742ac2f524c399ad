"""The durable store: one engine, its repositories, migrations at start-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alerting_server.model.step import PipelineConfig, PipelineState, StepRecord
from alerting_server.store import migrate
from alerting_server.store.alerts import AlertRepository
from alerting_server.store.channels import ChannelRepository
from alerting_server.store.cluster_view import ClusterView
from alerting_server.store.config_files import ConfigFileRepository
from alerting_server.store.connect import (
    DEFAULT_URL,
    DatabaseUnavailable,
    create_engine,
    describe,
    is_memory,
    outage_message,
    unavailable,
)
from alerting_server.store.crypto import Cipher
from alerting_server.store.database import Database
from alerting_server.store.deliveries import DeliveryRepository
from alerting_server.store.escalation_policies import EscalationPolicyRepository
from alerting_server.store.escalations import EscalationRepository
from alerting_server.store.history import HistoryRepository
from alerting_server.store.inbox import InboxRepository
from alerting_server.store.inhibit_rules import InhibitRuleRepository
from alerting_server.store.leases import LeaseRepository, fence_in
from alerting_server.store.lock import ProcessLock
from alerting_server.store.nflog import NotificationLogRepository
from alerting_server.store.notification_templates import NotificationTemplateRepository
from alerting_server.store.routing import RoutingRepository
from alerting_server.store.rules import RuleRepository
from alerting_server.store.schedules import ScheduleRepository
from alerting_server.store.server_secrets import ServerSecretRepository
from alerting_server.store.silences import SilenceRepository
from alerting_server.store.time_intervals import TimeIntervalRepository
from alerting_server.store.users import UserRepository
from alerting_server.store.watch_log import WatchLogRepository

T = TypeVar("T")


class Store:
    """Open with `await Store.open(url)`, then `await store.migrate()`; `await store.close()` at the end."""

    def __init__(self, engine: AsyncEngine, secrets_key: str = "") -> None:
        self.engine = engine
        self._db = Database(engine)
        cipher = Cipher(secrets_key)
        self.rules = RuleRepository(self._db)
        self.channels = ChannelRepository(self._db, cipher)
        self.server_secrets = ServerSecretRepository(self._db, cipher)
        self.silences = SilenceRepository(self._db)
        self.inhibit_rules = InhibitRuleRepository(self._db)
        self.notification_templates = NotificationTemplateRepository(self._db)
        self.routing = RoutingRepository(self._db)
        self.time_intervals = TimeIntervalRepository(self._db)
        self.escalation_policies = EscalationPolicyRepository(self._db)
        self.users = UserRepository(self._db, self.channels)
        self.schedules = ScheduleRepository(self._db)
        self.alerts = AlertRepository(self._db)
        self.history = HistoryRepository(self._db)
        self.deliveries = DeliveryRepository(self._db)
        self.nflog = NotificationLogRepository(self._db)
        self.escalations = EscalationRepository(self._db)
        self.leases = LeaseRepository(self._db)
        self.cluster = ClusterView(self._db)
        self.inbox = InboxRepository(self._db)
        self.watch_log = WatchLogRepository(self._db)
        self.config_files = ConfigFileRepository(self._db, self.channels)
        self._lock: ProcessLock | None = None

    @classmethod
    async def open(
        cls, url: str = DEFAULT_URL, secrets_key: str = "", *, idle_transaction_ms: int | None = None
    ) -> Store:
        """`sqlite:///path`, `sqlite+aiosqlite:///path`, `postgresql://...` or `postgresql+asyncpg://...`;
        `secrets_key` (crypto.py) seals the secrets stored, or they are stored as given;
        `idle_transaction_ms` as create_engine has it."""
        return cls(create_engine(url, idle_transaction_ms=idle_transaction_ms), secrets_key)

    async def migrate(self) -> None:
        await migrate.upgrade(self.engine)

    async def start(self, now_ms: int) -> None:
        """The server's start on this database: takes a SQLite file for this process alone
        (lock.py), migrates, then checks the secrets key against the database's (SecretsKeyError). A
        database that cannot be reached, migrated or locked raises DatabaseUnavailable naming it,
        without its password."""
        try:
            if self._lock is None:
                self._lock = ProcessLock.acquire(self.engine.url)
            await self.migrate()
            await self.server_secrets.check_key(now_ms)
        except (OSError, SQLAlchemyError) as exc:
            raise unavailable(self.engine.url, exc) from None
        except migrate.UnknownRevision as exc:
            raise DatabaseUnavailable(f"database {describe(self.engine.url)}: {exc}") from None

    async def check(self, timeout_s: float = 2.0) -> str | None:
        """None when the database answers within `timeout_s` and its schema is the revision this
        code ships; otherwise why not, naming the database without its password. The revision is
        read anew each time: another replica, newer, may have migrated the database meanwhile.
        (Not shorter than a busy database's answer: every replica would turn unready at once.)"""
        url = self.engine.url
        if is_memory(url):
            # Inside this process: it cannot go away, nor be migrated by anyone else (and its one
            # shared connection is better left to the work in flight).
            return None
        try:
            async with asyncio.timeout(timeout_s):
                current = await migrate.current_revision(self.engine)
        except TimeoutError:
            return f"database {describe(url)} is unavailable: no answer within {timeout_s:g}s"
        except (OSError, SQLAlchemyError) as exc:
            return outage_message(url, exc)
        head = migrate.head_revision()
        if current != head:
            return f"database {describe(url)}: schema at {current or 'no revision'}, this server needs {head}"
        return None

    async def write(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one write transaction, for writes of several repositories that must
        commit together (their `*_in` methods); see Database.run."""
        return await self._db.run(work)

    async def pipeline_state(self) -> PipelineState:
        return PipelineState(await self.alerts.all(), await self.escalations.all(), await self.nflog.all())

    async def pipeline_config(self, now: int) -> PipelineConfig:
        """Overrides that ended by `now` are left out: escalation resolves schedules from now on."""
        return PipelineConfig(
            await self.routing.get(),
            await self.channels.all(),
            await self.silences.all(),
            await self.inhibit_rules.all(),
            await self.time_intervals.all(),
            await self.config_files.empty_receivers(),
            await self.config_files.resolve_timeout_ms(),
            await self.users.all(),
            await self.schedules.all(),
            await self.schedules.all_overrides(start=now),
        )

    async def prune_history(self, before: int) -> int:
        return await self.history.prune(before)

    async def record_step(self, step: StepRecord) -> None:
        """Everything one step of the alert pipeline decided, in one transaction."""
        outbox = [(delivery, payload.to_data()) for delivery, payload in step.outbox]

        def write(connection: Connection) -> None:
            fence_in(connection, step.fence)
            self.alerts.upsert_many_in(connection, step.alerts)
            self.alerts.delete_many_in(connection, step.removed_alerts)
            self.deliveries.add_many_in(connection, outbox)
            self.nflog.write_in(connection, step.sent, step.forgotten, step.forgotten_sent_before)
            self.escalations.write_in(connection, step.escalations, step.removed_escalations)
            self.history.append_in(connection, step.history)
            self.inbox.delete_in(connection, step.consumed)
            self.watch_log.append_in(connection, step.events, step.at)

        await self.write(write)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction on the async driver, for statements of the caller's own (Store.write
        joins repositories' writes)."""
        async with self._db.write() as connection:
            yield connection

    async def close(self) -> None:
        await self._db.close()
        await self.engine.dispose()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
