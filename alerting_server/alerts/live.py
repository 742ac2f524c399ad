"""The live alerts by fingerprint, and what changed since the last commit.

Every stage of a step reads and changes the alerts here; the pipeline commits what they changed in
one transaction, then publishes the events to watchers.
"""

from __future__ import annotations

import dataclasses

from alerting_server.alerts import history
from alerting_server.alerts.outbox import Outgoing
from alerting_server.alerts.watch import EventType
from alerting_server.model import Alert, AlertHistoryEvent, AlertState

RESOLVED_RETENTION = 15 * 60_000
FOREVER = 2**62


def _change(old: Alert | None, new: Alert) -> EventType | None:
    if old is None:
        return EventType.CREATED
    if old.state is not new.state:
        return EventType.RESOLVED if new.state is AlertState.RESOLVED else EventType.STATE_CHANGED
    if old.value != new.value and not (old.value != old.value and new.value != new.value):
        return EventType.VALUE_CHANGED
    if old != new:
        return EventType.UPDATED
    return None


class LiveAlerts:
    def __init__(self, *, resolved_retention_ms: int = RESOLVED_RETENTION) -> None:
        self._retention = resolved_retention_ms
        self.by_fingerprint: dict[str, Alert] = {}
        # Changed or removed since the last commit.
        self.dirty: set[str] = set()
        self.removed: set[str] = set()
        # Changed since the dispatcher last saw them.
        self.undispatched: set[str] = set()
        # Changed since muting was last decided for them.
        self.unmuted: set[str] = set()
        # Started firing since the last step: each may start an escalation.
        self.fired: set[str] = set()
        self.events: list[tuple[EventType, Alert]] = []
        self.history: list[AlertHistoryEvent] = []
        self.outbox: list[Outgoing] = []
        self.next_expiry = FOREVER

    def __len__(self) -> int:
        return len(self.by_fingerprint)

    def get(self, fp: str) -> Alert | None:
        return self.by_fingerprint.get(fp)

    def load(self, alert: Alert) -> None:
        """A committed alert, as read back from the store."""
        self.by_fingerprint[alert.fingerprint] = alert
        self.undispatched.add(alert.fingerprint)
        self._track_expiry(alert)

    def upsert(self, alert: Alert, now: int) -> str:
        old = self.by_fingerprint.get(alert.fingerprint)
        if old is not None:
            # An alert that fires again after it resolved is a new incident: its ack is history.
            again = old.state is AlertState.RESOLVED and alert.state is not AlertState.RESOLVED
            alert = dataclasses.replace(
                alert,
                silenced_by=old.silenced_by,
                inhibited_by=old.inhibited_by,
                muted_by=old.muted_by,
                ack=None if again else old.ack,
                escalation_level=0 if again else old.escalation_level,
            )
        kind = _change(old, alert)
        if kind is not None:
            if kind in (EventType.CREATED, EventType.STATE_CHANGED, EventType.RESOLVED):
                self.history.append(history.state_change(alert, now))
            if alert.state is AlertState.FIRING and (old is None or old.state is not AlertState.FIRING):
                self.fired.add(alert.fingerprint)
            self.by_fingerprint[alert.fingerprint] = alert
            self.removed.discard(alert.fingerprint)
            self.dirty.add(alert.fingerprint)
            self.undispatched.add(alert.fingerprint)
            self.unmuted.add(alert.fingerprint)
            self.events.append((kind, alert))
            self._track_expiry(alert)
        return alert.fingerprint

    def replace(self, alert: Alert, **changes: object) -> Alert:
        new = dataclasses.replace(alert, **changes)  # type: ignore[arg-type]
        self.by_fingerprint[alert.fingerprint] = new
        self.dirty.add(alert.fingerprint)
        return new

    def expire(self, now: int) -> None:
        """External alerts not posted again before their end resolve; resolved ones past the
        retention go."""
        if now < self.next_expiry:
            return
        self.next_expiry = FOREVER
        for alert in list(self.by_fingerprint.values()):
            if (
                alert.state is AlertState.FIRING
                and alert.resolved_at is not None
                and alert.resolved_at <= now
            ):
                self.upsert(dataclasses.replace(alert, state=AlertState.RESOLVED, updated_at=now), now)
            elif (
                alert.state is AlertState.RESOLVED
                and alert.resolved_at is not None
                and alert.resolved_at + self._retention <= now
            ):
                del self.by_fingerprint[alert.fingerprint]
                self.dirty.discard(alert.fingerprint)
                self.removed.add(alert.fingerprint)
                self.events.append((EventType.REMOVED, alert))
                continue
            self._track_expiry(self.by_fingerprint[alert.fingerprint])

    def _track_expiry(self, alert: Alert) -> None:
        """Keeps next_expiry at or before the alert's next change by itself, rather than a walk over
        every alert at every step."""
        deadline = self._expiry(alert)
        if deadline is not None:
            self.next_expiry = min(self.next_expiry, deadline)

    def _expiry(self, alert: Alert) -> int | None:
        """When the alert next changes by itself: an external alert resolves, a resolved one goes."""
        if alert.resolved_at is None:
            return None
        if alert.state is AlertState.FIRING:
            return alert.resolved_at
        if alert.state is AlertState.RESOLVED:
            return alert.resolved_at + self._retention
        return None


class Expiry:
    """The first stage of a step: alerts whose time has come resolve or go."""

    async def run(self, live: LiveAlerts, now: int) -> None:
        live.expire(now)

    def next_wakeup(self, live: LiveAlerts, now: int) -> int | None:
        return live.next_expiry
