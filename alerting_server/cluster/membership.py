"""This replica's heartbeat and leases.

Every third of the lease TTL a replica renews its heartbeat and the leases it holds, then takes or gives
back rule partitions and alert pipeline partitions so that each live replica holds about its fair share
of each. A lease it could not renew is lost: its work stops (on_lost), and a write under it is refused
at once, here (fence) and by the database. The work's changes (on_gained, on_lost) run one after
another in their order, beside the renewals rather than in them: starting the work of a lease taken
over reads a partition's state, which can outlast the TTL, and renewals held up behind it would let
every lease run out and be taken again, over and over. Locally a lease counts only until
0.8 of the TTL after the start of its last successful renewal, by the monotonic clock, watched on its
own (a database that stops answering fails no call); the database, which ends it no earlier, refuses
every write under it after that anyway (store/leases.py, the fence).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
import time
import zlib
from collections.abc import Awaitable, Callable, Collection

from alerting_server.model.fence import Fence
from alerting_server.store.leases import LeaseRepository
from alerting_server.tasks import cancel, wait_set

log = logging.getLogger(__name__)

# Locally a lease counts for this part of the TTL after the start of its last renewal: the work stops
# with a margin before the database ends the lease (and lets another replica take it).
VALIDITY = 0.8
# Heartbeat rows of replicas silent this long are dropped (their leases ended long before).
FORGET_AFTER_MS = 24 * 3600 * 1000


def rule_lease(partition: int) -> str:
    return f"rules/{partition}"


def pipeline_lease(partition: int) -> str:
    return f"pipeline/{partition}"


def partition_of(group: str, partitions: int) -> int:
    """The rule partition of a group: the same on every replica."""
    return zlib.crc32(group.encode()) % partitions


Listener = Callable[[Collection[str]], Awaitable[None]]


class Membership:
    def __init__(
        self,
        leases: LeaseRepository,
        replica: str,
        *,
        address: str,
        http_address: str,
        started_at: int,
        ttl_ms: int,
        partitions: int,
        pipeline_partitions: int,
        on_gained: Listener,
        on_lost: Listener,
    ) -> None:
        self._leases = leases
        self.replica = replica
        self._address = address
        self._http_address = http_address
        self._started_at = started_at
        self.ttl_ms = ttl_ms
        # Each kind of partitioned work: its leases, balanced on their own.
        self._kinds = (
            [rule_lease(p) for p in range(partitions)],
            [pipeline_lease(p) for p in range(pipeline_partitions)],
        )
        self._on_gained = on_gained
        self._on_lost = on_lost
        self.held: dict[str, int] = {}
        self._valid_until = 0.0
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        # How many times the leases ran out locally (a round that saw it happen keeps nothing).
        self._expired = 0
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        # The latest change of the work under the leases; each runs after the one before it.
        self._work: asyncio.Task[None] | None = None

    @property
    def period_s(self) -> float:
        return self.ttl_ms / 3000

    def fence(self, names: Collection[str]) -> Fence | None:
        """The fence of a write under these leases, or None when one of them is not held now."""
        if time.monotonic() >= self._valid_until or any(n not in self.held for n in names):
            return None
        return Fence(self.replica, {n: self.held[n] for n in names})

    def holds(self, name: str) -> bool:
        return name in self.held and time.monotonic() < self._valid_until

    async def start(self) -> None:
        """One round at once (a lone replica starts with every lease, and its work has started when this
        returns), then every third of the TTL."""
        await self.round()
        self._task = asyncio.create_task(self._run(), name="cluster-membership")
        self._watchdog = asyncio.create_task(self._watch(), name="cluster-lease-watch")
        await self._settled()

    async def stop(self) -> None:
        """Stops the work under every lease, then gives the leases back so that others take over now."""
        await cancel(self._task, self._watchdog)
        self._task = self._watchdog = None
        async with self._lock:
            held, self.held = dict(self.held), {}
            await self._then(lambda: self._on_lost(set(held)))
            try:
                await self._leases.release(self.replica, held)
                await self._leases.leave(self.replica)
            except Exception:
                log.exception("could not give back the leases; other replicas take them when they end")

    def wake(self) -> None:
        """Leases changed elsewhere (a replica joined or left): rebalance now, not at the next round."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            await wait_set(self._wake, self.period_s)
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("cluster membership round failed")

    async def _watch(self) -> None:
        """Stops the work the moment the leases run out locally, even while a round waits on a database
        that does not answer (a partition resets no connection: no call fails, none returns)."""
        while True:
            await asyncio.sleep(min(self.period_s / 5, 0.1))
            if self.held and time.monotonic() >= self._valid_until:
                await self._expire()

    async def _expire(self) -> None:
        lost, self.held = set(self.held), {}
        self._expired += 1
        log.warning("leases ran out without renewal, work under them stops: %s", sorted(lost))
        await self._then(lambda: self._on_lost(lost))

    def _then(self, change: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Runs a change of the work after the changes before it, in its own task: the renewals go on
        meanwhile. Awaiting the task waits for it (and for those before it)."""
        previous = self._work

        async def run() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            try:
                await change()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("changing the work under this replica's leases failed")

        self._work = asyncio.create_task(run(), name="cluster-lease-work")
        return self._work

    async def _settled(self) -> None:
        """Waits for the changes of the work so far."""
        if self._work is not None:
            await asyncio.wait([self._work])

    async def round(self) -> None:
        async with self._lock:
            started = time.monotonic()
            expired = self._expired
            try:
                # Bounded: a call stuck past the TTL proves nothing any more.
                async with asyncio.timeout(self.ttl_ms / 1000):
                    db_now = await self._leases.heartbeat(
                        self.replica, self._address, self._http_address, self._started_at
                    )
                    renewed = await self._leases.renew(self.replica, self.held, self.ttl_ms)
            except Exception as exc:
                log.warning("cannot renew this replica's leases: %s", exc or type(exc).__name__)
                if self.held and time.monotonic() >= self._valid_until:
                    await self._expire()
                return
            if expired != self._expired or (self.held and time.monotonic() >= self._valid_until):
                # The work already stopped while this round waited: what it renewed goes back, and
                # the next round takes leases as a newcomer does.
                if self.held:
                    await self._expire()
                await self._leases.release(self.replica, renewed)
                return
            self._valid_until = started + self.ttl_ms * VALIDITY / 1000
            lost_names = set(self.held) - set(renewed)
            self.held = renewed
            if lost_names:
                log.warning("leases lost: %s", sorted(lost_names))
                self._then(lambda: self._on_lost(lost_names))
            await self._balance(db_now)

    async def _balance(self, db_now: int) -> None:
        live = await self._leases.live_replicas(self.ttl_ms)
        if self.replica not in live:
            live.append(self.replica)
        gained: dict[str, int] = {}
        busy: set[str] | None = None
        for names in self._kinds:
            share = math.ceil(len(names) / len(live))
            mine = sorted(n for n in self.held if n in names)
            if len(mine) > share:
                extra = {n: self.held.pop(n) for n in mine[share:]}
                self._then(functools.partial(self._give_back, extra))
                log.info("gave back %d of %s for a share of %d", len(extra), names[0], share)
            elif len(mine) < share:
                # Free: never held, given back, or ended (a dead replica's); acquire() checks again.
                if busy is None:
                    busy = {
                        r.name
                        for r in await self._leases.all()
                        if r.holder is not None and r.expires_at > db_now
                    }
                candidates = [n for n in names if n not in busy]
                random.shuffle(candidates)
                got = await self._leases.acquire(self.replica, candidates[: share - len(mine)], self.ttl_ms)
                gained.update(got)
        if gained:
            self.held.update(gained)
            log.info("took leases %s", sorted(gained))
            self._then(functools.partial(self._start_work, gained))
        if random.random() < 0.01:
            await self._leases.forget_dead(FORGET_AFTER_MS)

    async def _give_back(self, leases: dict[str, int]) -> None:
        """The work under these leases (no longer held) stops, then they go back to be taken."""
        await self._on_lost(set(leases))
        await self._leases.release(self.replica, leases)

    async def _start_work(self, gained: dict[str, int]) -> None:
        try:
            await self._on_gained(set(gained))
        except Exception:
            # The work could not start (the database went away meanwhile, say): a lease held without
            # its work would stop it everywhere, so it goes back (unless lost or taken again since).
            log.exception("starting the work of leases %s failed; giving them back", sorted(gained))
            mine = {n: e for n, e in gained.items() if self.held.get(n) == e}
            for name in mine:
                del self.held[name]
            await self._give_back(mine)
