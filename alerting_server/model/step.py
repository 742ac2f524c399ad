"""What one step of the alert pipeline decided: the store commits it in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alerting_server.model.alert import Alert, AlertHistoryEvent
from alerting_server.model.channel import Channel, Delivery
from alerting_server.model.escalation import Escalation
from alerting_server.model.fence import Fence
from alerting_server.model.notification import NotificationPayload
from alerting_server.model.routing import InhibitRule, Route
from alerting_server.model.schedule import Override, Schedule, User
from alerting_server.model.silence import Silence
from alerting_server.timeintervals import TimeInterval


@dataclass(frozen=True)
class NotificationLogRow:
    """What a group last sent to a receiver (Alertmanager's notification log)."""

    group_id: str
    receiver: str
    firing: tuple[str, ...]
    resolved: tuple[str, ...]
    sent_at: int


@dataclass(frozen=True)
class PipelineState:
    """What the pipeline committed: it starts again from here after a restart or a failed step."""

    alerts: Sequence[Alert]
    escalations: Sequence[Escalation]
    sent: Sequence[NotificationLogRow]


@dataclass(frozen=True)
class PipelineConfig:
    """What routes and mutes alerts; read again whenever one of them changes."""

    route: Route | None
    channels: Sequence[Channel]
    silences: Sequence[Silence]
    inhibit_rules: Sequence[InhibitRule]
    # By name, as routes name them (mute_time_intervals, active_time_intervals).
    time_intervals: Sequence[TimeInterval] = ()
    # Receivers of the loaded configuration file that have no integration (they route nowhere).
    empty_receivers: frozenset[str] = frozenset()
    # How long a posted alert without endsAt stays firing: a loaded file's global.resolve_timeout.
    resolve_timeout_ms: int | None = None
    # Whom escalation levels page: users, and the schedules that say who is on call (their overrides).
    users: Sequence[User] = ()
    schedules: Sequence[Schedule] = ()
    overrides: Sequence[Override] = ()


@dataclass(frozen=True)
class StepRecord:
    alerts: Sequence[Alert] = ()
    removed_alerts: Sequence[str] = ()
    # Written with the state that caused them: at-least-once delivery starts here.
    outbox: Sequence[tuple[Delivery, NotificationPayload]] = ()
    # The notification log in the same transaction: a restart neither loses nor resends a notification.
    sent: Sequence[NotificationLogRow] = ()
    forgotten: Sequence[tuple[str, str]] = ()
    # Forgotten keys go only where last sent at or before this (None: at any time): an entry another
    # process logged since this one read it (a partition's new owner, say) is not deleted.
    forgotten_sent_before: int | None = None
    escalations: Sequence[Escalation] = ()
    removed_escalations: Sequence[str] = ()
    history: Sequence[AlertHistoryEvent] = ()
    # Several replicas: the inbox items the step applied (deleted with its commit), the step's alert
    # changes for the global watch order, and the pipeline partition leases it is made under.
    consumed: Sequence[int] = ()
    events: Sequence[tuple[str, Alert]] = ()
    fence: Fence | None = None
    at: int = 0

    def __bool__(self) -> bool:
        return any(
            (
                self.alerts,
                self.removed_alerts,
                self.outbox,
                self.sent,
                self.forgotten,
                self.escalations,
                self.removed_escalations,
                self.history,
                self.consumed,
                self.events,
            )
        )
