"""Every replica reads the watch log in revision order and hands its events to the local WatchAlerts
subscribers (and keeps the alerts as of the latest revision it read: WatchHub.view), woken by NOTIFY
and polling meanwhile, so that a subscriber on any replica sees every change made on any replica in
one order, and resumes by revision on another."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from alerting_server.alerts.watch import AlertEvent, EventType, WatchHub
from alerting_server.model import Alert
from alerting_server.store.watch_log import WatchLogRepository
from alerting_server.tasks import cancel, wait_set

log = logging.getLogger(__name__)

BATCH = 2000
# How many events the log keeps (the pipeline's owner prunes it): resumable on any replica within them.
KEEP = 100_000


class WatchFollower:
    def __init__(self, watch_log: WatchLogRepository, hub: WatchHub, poll_ms: int, retained: int) -> None:
        self._log = watch_log
        self._hub = hub
        self._poll_s = poll_ms / 1000
        self._retained = retained
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Pulsed after every read of the log, for callers that wait for it to pass a point.
        self._pulse = asyncio.Event()
        # Told the events read from the log that this replica had not seen (the alert pipeline).
        self.on_events: Callable[[Sequence[AlertEvent]], None] | None = None

    async def start(self) -> None:
        latest, alerts, oldest = await self._log.snapshot()
        recent = await self._log.since(max(latest - self._retained, oldest - 1, 0), self._retained)
        floor = max(oldest - 1, 0)
        self._hub.follow(latest, alerts, floor, [_event(e.revision, e.type, e.alert) for e in recent])
        self._task = asyncio.create_task(self._run(), name="watch-follower")

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def catch_up(self) -> None:
        """Reads the log up to what is committed now."""
        async with self._lock:
            while True:
                events = await self._log.since(self._hub.revision, BATCH)
                if events:
                    read = self._hub.publish_logged(_event(e.revision, e.type, e.alert) for e in events)
                    if self.on_events is not None and read:
                        self.on_events(read)
                if len(events) < BATCH:
                    break
        self._pulse.set()
        self._pulse = asyncio.Event()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reading the watch log failed: %s", exc)
            await wait_set(self._wake, self._poll_s)


def _event(revision: int, kind: str, alert: Alert) -> AlertEvent:
    return AlertEvent(EventType(kind), alert, revision)
