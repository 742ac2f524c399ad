from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class ChannelType(enum.Enum):
    EMAIL = "email"
    SLACK = "slack"
    PAGERDUTY = "pagerduty"
    WEBHOOK = "webhook"
    OPSGENIE = "opsgenie"
    VICTOROPS = "victorops"
    PUSHOVER = "pushover"


@dataclass(frozen=True)
class Channel:
    """A notification channel; `config` is the type's JSON configuration, secrets included."""

    name: str
    type: ChannelType
    config: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    # The Alertmanager receiver this channel is one integration of; "" for a receiver of its own.
    receiver: str = ""
    # What owns it: "" the API, else the configuration file it was loaded from.
    source: str = ""
    # The user whose contact method this channel is; "" for nobody's.
    owner: str = ""
    created_at: int = 0
    updated_at: int = 0


class DeliveryStatus(enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """One notification to one channel, as the outbox holds it."""

    id: str
    channel_id: str
    status: DeliveryStatus
    group_key: str = ""
    fingerprints: tuple[str, ...] = ()
    attempts: int = 0
    last_error: str = ""
    idempotency_key: str = ""
    created_at: int = 0
    updated_at: int = 0
    delivered_at: int | None = None
    next_attempt_at: int | None = None
