"""The outbox as the delivery side sees it: a claimed row, one attempt at it, and where it goes next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alerting_server.model.channel import Delivery, DeliveryStatus


@dataclass(frozen=True)
class Claimed:
    """A row a worker holds the lease of, with what it has to send."""

    delivery: Delivery
    payload: dict[str, Any]


@dataclass(frozen=True)
class Attempt:
    """One try at sending, as delivery_attempts keeps it. `outcome` is the status it led to."""

    attempt: int
    at: int
    outcome: str
    status_code: int | None = None
    error: str = ""
    duration: int | None = None


@dataclass(frozen=True)
class Outcome:
    """Where a delivery goes after an attempt."""

    status: DeliveryStatus
    attempts: int
    last_error: str = ""
    next_attempt_at: int | None = None
    delivered_at: int | None = None
