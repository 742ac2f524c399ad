"""People and their on-call schedules (PagerDuty's model; alerting_server/oncall computes who is on call)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from alerting_server.model.channel import ChannelType


@dataclass(frozen=True)
class ContactMethod:
    """One way to reach a user: `address` goes where the channel type sends (oncall/contacts.py),
    `config` holds the rest of the channel's configuration; `channel_id` is the channel, once stored."""

    type: ChannelType
    address: str
    config: dict[str, Any] = field(default_factory=dict)
    channel_id: str = ""


@dataclass(frozen=True)
class User:
    """A person. Each contact method is one of our channels (`Channel.owner` is the user's id), so a
    person's notifications go through the same outbox, retries and delivery log as any channel's."""

    name: str
    email: str
    time_zone: str
    contact_methods: tuple[ContactMethod, ...] = ()
    id: str = ""
    created_at: int = 0
    updated_at: int = 0


class RestrictionType(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class Restriction:
    """A window of the day (daily) or of the week (weekly, from `start_day`, 0 = Monday) in which a
    layer covers; `start_time` is milliseconds after local midnight in the schedule's time zone."""

    type: RestrictionType
    start_time: int
    duration: int
    start_day: int | None = None


@dataclass(frozen=True)
class Layer:
    """`handoff_time` is milliseconds after local midnight; None hands off at `start`'s time."""

    name: str
    start: int
    turn_length: int
    users: tuple[str, ...]
    end: int | None = None
    handoff_time: int | None = None
    restrictions: tuple[Restriction, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """`layers` in order: a later layer wins where layers overlap (PagerDuty's higher layer)."""

    name: str
    time_zone: str
    layers: tuple[Layer, ...]
    id: str = ""
    created_at: int = 0
    updated_at: int = 0


@dataclass(frozen=True)
class Override:
    """`user` is on call over [start, end), over every layer."""

    user: str
    start: int
    end: int
    id: str = ""
    schedule_id: str = ""
    created_at: int = 0


@dataclass(frozen=True)
class Shift:
    """One user on call over [start, end)."""

    user: str
    start: int
    end: int


@dataclass(frozen=True)
class OnCall:
    """Who is on call at one moment (empty: a gap), and until when (None: for as far as is computed)."""

    users: tuple[str, ...]
    until: int | None
