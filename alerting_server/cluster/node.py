"""One replica among several on PostgreSQL: its membership and leases, the notifications that wake it,
the watch log it follows, and the configuration it follows; what the alert pipeline and the rule
manager ask of the cluster goes through here.

The work under leases: each alert pipeline partition lease `pipeline/<k>` makes this replica the owner
of that partition's alerts (it applies their inbox items, decides their grouping, muting, escalation and
acks, and writes their changes to the watch log); each rule partition lease makes it evaluate that
partition's rule groups. Gaining a lease starts that work from
the committed state; losing one stops it before anything else happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Sequence
from typing import Protocol

from alerting_server.alerts.watch import AlertEvent
from alerting_server.cluster.follower import WatchFollower
from alerting_server.cluster.membership import Membership, partition_of, pipeline_lease, rule_lease
from alerting_server.cluster.notifications import Notifications, asyncpg_dsn
from alerting_server.model.fence import Fence
from alerting_server.model.inbox import InboxItem, InboxKind, InboxPayloads
from alerting_server.store import Store
from alerting_server.tasks import cancel, wait_set

log = logging.getLogger(__name__)


class Pipeline(Protocol):
    async def own(self, partitions: Collection[int]) -> None: ...

    async def reload(self) -> None: ...

    def wake(self) -> None: ...

    def heard(self, events: Sequence[AlertEvent]) -> None: ...


class Rules(Protocol):
    async def own(self, partitions: Collection[int]) -> None: ...

    async def reload(self, groups: Collection[str] | None = None) -> None: ...


class ClusterNode:
    def __init__(
        self,
        store: Store,
        follower: WatchFollower,
        *,
        replica: str,
        started_at: int,
        ttl_ms: int,
        partitions: int,
        poll_ms: int,
        pipeline_partitions: int = 16,
    ) -> None:
        self._store = store
        self.replica = replica
        self.partitions = partitions
        self.pipeline_partitions = pipeline_partitions
        self.ttl_ms = ttl_ms
        self._started_at = started_at
        self._poll_s = poll_ms / 1000
        self.follower = follower
        self.membership: Membership | None = None
        self.notifications = Notifications(asyncpg_dsn(store.engine.url))
        self._pipeline: Pipeline | None = None
        self._rules: Rules | None = None
        self._owned: set[int] = set()
        self._pipeline_owned: set[int] = set()
        self._consumed = asyncio.Event()
        self._config_changed = asyncio.Event()
        self._config_tables: set[str] = set()
        self._config_revision = 0
        self._tasks: list[asyncio.Task[None]] = []

    def attach(
        self, pipeline: Pipeline, rules: Rules, wake_deliveries: Callable[[Collection[str] | None], None]
    ) -> None:
        self._pipeline = pipeline
        self._rules = rules
        self.follower.on_events = pipeline.heard
        self.notifications.on("alerting_watch", lambda _: self.follower.wake())
        self.notifications.on("alerting_consumed", lambda _: self.pulse_consumed())
        self.notifications.on("alerting_inbox", lambda _: pipeline.wake())
        # The channels of the rows added ('' when too many to name, or after a reconnect: any).
        self.notifications.on(
            "alerting_outbox", lambda channels: wake_deliveries(channels.split(",") if channels else None)
        )
        self.notifications.on("alerting_config", self._heard_config)

    # --- lifecycle -------------------------------------------------------------------------

    async def follow(self) -> None:
        """Follows the watch log and the configuration (before the API serves)."""
        await self.follower.start()
        self._config_revision = await self._store.leases.config_revision()
        await self.notifications.start()
        self._tasks = [
            asyncio.create_task(self._follow_config(), name="cluster-config"),
            asyncio.create_task(self._poll(), name="cluster-poll"),
        ]

    async def join(self, address: str, http_address: str) -> None:
        """Says it is alive and takes its share of the leases (a lone replica: all of them)."""
        self.membership = Membership(
            self._store.leases,
            self.replica,
            address=address,
            http_address=http_address,
            started_at=self._started_at,
            ttl_ms=self.ttl_ms,
            partitions=self.partitions,
            pipeline_partitions=self.pipeline_partitions,
            on_gained=self._gained,
            on_lost=self._lost,
        )
        await self.membership.start()

    async def stop(self) -> None:
        """Stops the work under its leases and gives them back, so that the others take over at once."""
        if self.membership is not None:
            await self.membership.stop()
        await cancel(*self._tasks)
        await self.notifications.stop()
        await self.follower.stop()

    # --- leases ----------------------------------------------------------------------------

    def _attached(self) -> tuple[Pipeline, Rules]:
        if self._pipeline is None or self._rules is None:
            raise RuntimeError("attach() before start()")
        return self._pipeline, self._rules

    async def _gained(self, names: Collection[str]) -> None:
        pipeline, rules = self._attached()
        shares = _partitions(names, "pipeline/")
        if shares:
            self._pipeline_owned |= shares
            log.info("this replica owns alert pipeline partitions %s", sorted(self._pipeline_owned))
            await pipeline.own(set(self._pipeline_owned))
        partitions = _partitions(names, "rules/")
        if partitions:
            # The rules start from the latest committed alerts: read what is committed first.
            with contextlib.suppress(Exception):
                await self.follower.catch_up()
            self._owned |= partitions
            await rules.own(set(self._owned))

    async def _lost(self, names: Collection[str]) -> None:
        pipeline, rules = self._attached()
        partitions = _partitions(names, "rules/")
        if partitions & self._owned:
            self._owned -= partitions
            await rules.own(set(self._owned))
        shares = _partitions(names, "pipeline/")
        if shares & self._pipeline_owned:
            self._pipeline_owned -= shares
            log.info("this replica owns alert pipeline partitions %s", sorted(self._pipeline_owned))
            await pipeline.own(set(self._pipeline_owned))

    def pipeline_fence(self, partitions: Collection[int]) -> Fence | None:
        """The fence of a step's commit over these pipeline partitions, or None when one is not held."""
        if self.membership is None:
            return None
        return self.membership.fence([pipeline_lease(p) for p in sorted(partitions)])

    def pipeline_partition_count(self) -> int:
        return self.pipeline_partitions

    def partition_of(self, group: str) -> int:
        return partition_of(group, self.partitions)

    def rule_fence(self, groups: Collection[str]) -> Fence | None:
        """The fence of rule alerts of these groups, or None when a partition of them is not held."""
        if self.membership is None:
            return None
        return self.membership.fence(sorted({rule_lease(self.partition_of(g)) for g in groups}))

    # --- the inbox -------------------------------------------------------------------------

    def pulse_consumed(self) -> None:
        """Inbox items were applied (told by NOTIFY, or by this replica's own pipeline)."""
        self._consumed.set()
        self._consumed = asyncio.Event()

    async def wait_applied(self, ids: Sequence[int], timeout_s: float) -> bool:
        """Waits until the pipeline's owner applied these inbox items and this replica read the changes
        (so that its reads show them); False when that took longer than `timeout_s` (they stay stored,
        and are applied when an owner takes the pipeline)."""
        deadline = time.monotonic() + timeout_s
        while True:
            pulse = self._consumed
            if not await self._store.inbox.pending(ids):
                await self.follower.catch_up()
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            await wait_set(pulse, min(left, self._poll_s))

    # --- following the configuration -------------------------------------------------------

    def _heard_config(self, table: str) -> None:
        # An empty payload (a reconnect) means: anything may have changed.
        self._config_tables.add(table or "*")
        self._config_changed.set()

    async def _poll(self) -> None:
        """The fallback of every notification: configuration counter, inbox, applied items."""
        pipeline, _ = self._attached()
        while True:
            await asyncio.sleep(self._poll_s)
            pipeline.wake()
            self.pulse_consumed()
            self.follower.wake()
            try:
                revision = await self._store.leases.config_revision()
            except Exception as exc:
                log.debug("reading the configuration counter failed: %s", exc)
                continue
            if revision != self._config_revision:
                self._heard_config("")

    async def _follow_config(self) -> None:
        pipeline, rules = self._attached()
        while True:
            await self._config_changed.wait()
            self._config_changed.clear()
            tables, self._config_tables = self._config_tables, set()
            try:
                self._config_revision = await self._store.leases.config_revision()
                if tables & {"rules", "*"}:
                    await rules.reload()
                if tables - {"rules"}:
                    await pipeline.reload()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("following a configuration change failed; trying again")
                self._config_tables |= tables
                await asyncio.sleep(self._poll_s)
                self._config_changed.set()

    # --- the watch log ---------------------------------------------------------------------

    def published(self) -> None:
        """This replica's pipeline committed changes to the watch log: read them now."""
        self.follower.wake()

    async def catch_up(self) -> None:
        await self.follower.catch_up()

    # --- the inbox -------------------------------------------------------------------------

    async def add_to_inbox(
        self, kind: InboxKind, payloads: InboxPayloads, now: int, fence: Fence | None = None
    ) -> list[int]:
        return await self._store.inbox.add(kind, payloads, now, fence)

    async def take_inbox(self, partitions: Collection[int], limit: int) -> list[InboxItem]:
        return await self._store.inbox.take(partitions, limit)

    async def prune_watch_log(self, keep: int) -> int:
        return await self._store.watch_log.prune(keep)


def _partitions(names: Collection[str], prefix: str) -> set[int]:
    return {int(n.removeprefix(prefix)) for n in names if n.startswith(prefix)}
