"""WatchAlerts fan-out: every alert change gets a monotonic revision and goes to each subscriber.

Publishing never waits: a subscriber whose buffer is full is cut off (RESOURCE_EXHAUSTED) and may
resume from its last revision while that is still retained. Resuming from a revision older than
the retained window is FAILED_PRECONDITION, so a client never silently misses a change. An event is
encoded once per format (the API's message, its SSE text) and shared by every subscriber.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from alerting_server.alerts.limits import DEFAULT_MAX_WATCHERS
from alerting_server.errors import FailedPrecondition, ResourceExhausted
from alerting_server.model import Alert

DEFAULT_RETAINED_EVENTS = 10_000
DEFAULT_SUBSCRIBER_BUFFER = 1_000


class EventType(enum.Enum):
    SNAPSHOT = "snapshot"
    CREATED = "created"
    STATE_CHANGED = "state_changed"
    VALUE_CHANGED = "value_changed"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    REMOVED = "removed"
    UPDATED = "updated"


@dataclass(frozen=True)
class AlertEvent:
    type: EventType
    alert: Alert
    revision: int
    # Its encodings by format, made by the first subscriber that needs one and shared by the others.
    encoded: dict[str, object] = field(default_factory=dict, compare=False, hash=False, repr=False)


class Subscription:
    """One subscriber's bounded buffer."""

    def __init__(self, buffer: int) -> None:
        self._buffer = buffer
        self._events: deque[AlertEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        self.delivered = 0
        # Called once when the subscriber falls behind while its consumer is not waiting for an event
        # (it is busy or stuck sending the last one): the consumer can end its stream at once.
        self.on_overflow: Callable[[], None] | None = None

    def push(self, event: AlertEvent) -> None:
        if len(self._events) >= self._buffer:
            if not self.overflowed:
                self.overflowed = True
                if self._waiter is None and self.on_overflow is not None:
                    self.on_overflow()
        else:
            self._events.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def cut_off(self) -> ResourceExhausted:
        """The error that ends this subscriber's stream; what it had not taken yet is dropped."""
        self._events.clear()
        return ResourceExhausted(
            f"watcher fell more than {self._buffer} events behind; "
            f"resume with since_revision={self.delivered}"
        )

    async def next(self) -> AlertEvent:
        """The next event; what was buffered still comes, then ResourceExhausted if it fell behind."""
        while not self._events:
            if self.overflowed:
                raise self.cut_off()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        event = self._events.popleft()
        self.delivered = event.revision
        return event


def _started(alert: Alert) -> tuple[int, str]:
    return alert.started_at, alert.fingerprint


class WatchHub:
    def __init__(
        self,
        retained: int = DEFAULT_RETAINED_EVENTS,
        subscriber_buffer: int = DEFAULT_SUBSCRIBER_BUFFER,
        max_subscribers: int = DEFAULT_MAX_WATCHERS,
    ) -> None:
        self.revision = 0
        self._log: deque[AlertEvent] = deque(maxlen=retained)
        # The latest revision no longer retained: a resume from before it cannot be served.
        self._floor = 0
        # Several replicas: the alerts as of `revision`, kept from the events (follow()).
        self.view: dict[str, Alert] | None = None
        self._buffer = subscriber_buffer
        self._max_subscribers = max_subscribers
        self._subscribers: set[Subscription] = set()

    def publish(self, changes: Iterable[tuple[EventType, Alert]]) -> None:
        for kind, alert in changes:
            self._publish(AlertEvent(kind, alert, self.revision + 1))

    def _publish(self, event: AlertEvent) -> None:
        self.revision = event.revision
        if len(self._log) == self._log.maxlen:
            self._floor = self._log[0].revision
        self._log.append(event)
        if self.view is not None:
            if event.type is EventType.REMOVED:
                self.view.pop(event.alert.fingerprint, None)
            else:
                self.view[event.alert.fingerprint] = event.alert
        for sub in list(self._subscribers):
            sub.push(event)
            if sub.overflowed:
                self._subscribers.discard(sub)

    # --- several replicas: the global order of the watch log -------------------------------------

    def follow(
        self, revision: int, alerts: Iterable[Alert], floor: int, recent: Iterable[AlertEvent]
    ) -> None:
        """Starts from the watch log: the alerts as of `revision`, the events before it still retained
        (all after `floor`), and from then on only publish_logged()."""
        self.revision = revision
        self.view = {a.fingerprint: a for a in alerts}
        self._log.clear()
        self._log.extend(e for e in recent if e.revision <= revision)
        kept = len(self._log)
        self._floor = self._log[0].revision - 1 if kept == self._log.maxlen else floor

    def publish_logged(self, events: Iterable[AlertEvent]) -> list[AlertEvent]:
        """Events of the watch log, with their revisions, in order; those already seen are skipped.
        Returns the ones published."""
        published = []
        for event in events:
            if event.revision > self.revision:
                self._publish(event)
                published.append(event)
        return published

    def subscribe(
        self, since_revision: int, current: Callable[[], Iterable[Alert]]
    ) -> tuple[list[AlertEvent], Subscription]:
        """What to send first (a snapshot, or the retained events after `since_revision`) and the live feed.

        Both are taken at one point in the event loop, so nothing falls between them.
        """
        if since_revision < 0:
            raise FailedPrecondition("since_revision must not be negative")
        if len(self._subscribers) >= self._max_subscribers:
            raise ResourceExhausted(
                f"{len(self._subscribers)} watchers are open, the most this server takes "
                "(limits.max_watchers); try again when one has closed"
            )
        if since_revision == 0:
            alerts = current() if self.view is None else sorted(self.view.values(), key=_started)
            first = [AlertEvent(EventType.SNAPSHOT, a, self.revision) for a in alerts]
        else:
            if since_revision > self.revision:
                raise FailedPrecondition(f"revision {since_revision} is ahead of the latest, {self.revision}")
            if since_revision < self._floor:
                raise FailedPrecondition(
                    f"revision {since_revision} is no longer retained (oldest retained: {self._floor + 1}); "
                    "watch again from 0 for a snapshot"
                )
            first = [e for e in self._log if e.revision > since_revision]
        sub = Subscription(self._buffer)
        self._subscribers.add(sub)
        return first, sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)
