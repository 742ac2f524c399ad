from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    """A node of the notification policy tree; None and empty mean "inherit from the parent"."""

    receiver: str = ""
    group_by: tuple[str, ...] | None = None
    group_wait: int | None = None
    group_interval: int | None = None
    repeat_interval: int | None = None
    matchers: tuple[str, ...] = ()
    continue_: bool = False
    escalation_policy_id: str = ""
    routes: tuple[Route, ...] = ()
    # Names of time intervals: no notification while one of the first holds, or none of the second.
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()


@dataclass(frozen=True)
class InhibitRule:
    source_matchers: tuple[str, ...]
    target_matchers: tuple[str, ...]
    equal: tuple[str, ...] = ()
    id: str = ""
    source: str = ""
    created_at: int = 0
    updated_at: int = 0
