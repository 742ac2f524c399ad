from __future__ import annotations

from dataclasses import dataclass

MAX_REPEAT = 9


@dataclass(frozen=True)
class EscalationLevel:
    """Whom a level notifies: channels, users (their contact methods) and schedules (whoever is on
    call when the level is reached), each by id or name."""

    after: int
    channels: tuple[str, ...]
    users: tuple[str, ...] = ()
    schedules: tuple[str, ...] = ()

    @property
    def targets(self) -> int:
        return len(self.channels) + len(self.users) + len(self.schedules)


@dataclass(frozen=True)
class EscalationPolicy:
    name: str
    levels: tuple[EscalationLevel, ...]
    repeat: int = 0
    ack_timeout: int | None = None
    id: str = ""
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True)
class Escalation:
    """`policy` is the snapshot taken when the alert fired. `base` is when the climb started, moved
    later by every pause (acknowledged or muted), so that a resumed climb picks up where it stopped.
    `run` counts restarts (acknowledgement timeouts); it keeps the steps of two runs apart."""

    fingerprint: str
    policy: EscalationPolicy
    fired_at: int
    base: int
    next_step: int = 0
    paused_at: int | None = None
    run: int = 0
    updated_at: int = 0
    # The channels of the people the climb paged (users, whoever was on call): an acknowledgement
    # acknowledges their PagerDuty incidents too.
    paged: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.next_step >= len(self.policy.levels) * (self.policy.repeat + 1)

    @property
    def group_key(self) -> str:
        """Groups one alert's escalation notifications, as a receiver sees them (PagerDuty's incident)."""
        return f"escalation/{self.policy.id or self.policy.name}/{self.fingerprint}"
