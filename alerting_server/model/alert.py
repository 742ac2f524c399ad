from __future__ import annotations

import enum
from dataclasses import dataclass, field


class AlertState(enum.IntEnum):
    """Ordered as Prometheus orders them: inactive < pending < firing; resolved ends an alert."""

    INACTIVE = 0
    PENDING = 1
    FIRING = 2
    RESOLVED = 3


@dataclass(frozen=True)
class Ack:
    by: str
    comment: str
    at: int


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    labels: dict[str, str]
    state: AlertState
    annotations: dict[str, str] = field(default_factory=dict)
    rule: str = ""
    rule_id: str = ""
    value: float = 0.0
    started_at: int = 0
    fired_at: int | None = None
    resolved_at: int | None = None
    updated_at: int = 0
    ack: Ack | None = None
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    # Time intervals muting the notifications of a route the alert is grouped on, as of the group's
    # latest flush (Alertmanager's mutedBy).
    muted_by: tuple[str, ...] = ()
    escalation_level: int = 0
    generator_url: str = ""
    # A rule alert whose series is gone but which keeps firing for the rule's keep_firing_for:
    # the first evaluation without the series (epoch ms). Kept so that a restart does not start
    # that period over; not part of the public API.
    keep_firing_since: int | None = None

    @property
    def acknowledged(self) -> bool:
        return self.ack is not None


@dataclass(frozen=True)
class PostedAlert:
    """An alert as Prometheus posts it to Alertmanager; times are epoch ms or None."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: int | None = None
    ends_at: int | None = None
    generator_url: str = ""


class HistoryEventType(enum.Enum):
    STATE_CHANGE = "state_change"
    NOTIFICATION = "notification"
    ESCALATION = "escalation"
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    SILENCED = "silenced"
    UNSILENCED = "unsilenced"
    INHIBITED = "inhibited"
    UNINHIBITED = "uninhibited"
    # Muted by the time intervals of its routes (Alertmanager's mutedBy), and no longer.
    MUTED = "muted"
    UNMUTED = "unmuted"


@dataclass(frozen=True)
class AlertHistoryEvent:
    fingerprint: str
    type: HistoryEventType
    at: int
    id: str = ""
    state: AlertState | None = None
    value: float | None = None
    channel: str = ""
    outcome: str = ""
    attempts: int = 0
    level: int = 0
    by: str = ""
    comment: str = ""
    message: str = ""
