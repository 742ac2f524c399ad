"""One channel's workers: a bounded queue, its own concurrency and rate limit, so that one slow or
dead channel only ever delays itself."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable

from alerting_server.clock import Clock
from alerting_server.model import Channel
from alerting_server.model.outbox import Claimed
from alerting_server.notify.limits import ChannelLimits, TokenBucket
from alerting_server.notify.notifier import Notifier
from alerting_server.notify.sender import Sender
from alerting_server.tasks import cancel

log = logging.getLogger(__name__)


def queue_capacity(limits: ChannelLimits) -> int:
    """Enough rows for ~5 s at the channel's rate and a few per sender; held rows are leased, so the
    queue stays small and the rest of a backlog waits in the outbox, where a restart finds it."""
    return max(limits.concurrency * 4, min(math.ceil(limits.per_second * 5), 256))


class ChannelWorker:
    def __init__(
        self,
        channel: Channel,
        notifier: Notifier,
        limits: ChannelLimits,
        sender: Sender,
        clock: Clock,
        done: Callable[[ChannelWorker, str], None],
        leased: Callable[[], bool] = lambda: True,
    ) -> None:
        self.channel = channel
        self.notifier = notifier
        self.limits = limits
        self.capacity = queue_capacity(limits)
        # The room at which the worker is topped up: the service claims for it when its room comes
        # back to this, and new rows for it wait for that while it has less.
        self.refill_at = self.capacity // 2
        self._sender = sender
        self._clock = clock
        self._done = done
        self._leased = leased
        self._bucket = TokenBucket(limits.per_second, limits.burst)
        self._queue: asyncio.Queue[Claimed] = asyncio.Queue()
        self._busy = 0
        self._tasks: list[asyncio.Task[None]] = []

    def room(self) -> int:
        return self.capacity - self._queue.qsize() - self._busy

    def offer(self, claimed: Claimed) -> None:
        self._queue.put_nowait(claimed)

    def reconfigure(self, channel: Channel, notifier: Notifier) -> None:
        """A changed channel: later sends use the new config; sends in flight finish with the old."""
        self.channel = channel
        self.notifier = notifier

    def start(self) -> None:
        name = f"deliveries-{self.channel.name}"
        self._tasks = [asyncio.create_task(self._run(), name=name) for _ in range(self.limits.concurrency)]

    async def stop(self) -> None:
        """Cancels the senders; what they held is still leased to us until the service releases it."""
        await cancel(*self._tasks)
        self._tasks = []

    async def _run(self) -> None:
        while True:
            claimed = await self._queue.get()
            self._busy += 1
            try:
                wait_ms = self._bucket.reserve(self._clock.now_ms())
                if wait_ms:
                    await asyncio.sleep(wait_ms / 1000)
                if self._leased():
                    await self._sender.send(self.channel, self.notifier, claimed)
                else:
                    # Our lease on the row may have ended (the database was away): another replica
                    # may send it; sending too would be a duplicate outside the window we promise.
                    log.warning("delivery %s not sent: its lease could not be renewed", claimed.delivery.id)
            except asyncio.CancelledError:
                # Stopped mid-send: the row stays ours until stop() hands it back.
                self._busy -= 1
                raise
            except Exception:
                # The store failed to record; the lease runs out and the row is sent again.
                log.exception("delivery %s: could not record the attempt", claimed.delivery.id)
            self._busy -= 1
            self._done(self, claimed.delivery.id)
