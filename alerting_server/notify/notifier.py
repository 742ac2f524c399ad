"""What every integration is: render a message, send it, and say whether a failure is worth retrying."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alerting_server.notify.message import Message


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one attempt. `reason` is safe to show and to log: it never holds a secret."""

    ok: bool
    retryable: bool = False
    status_code: int | None = None
    retry_after_ms: int | None = None
    reason: str = ""


DELIVERED = DeliveryResult(ok=True)


class Notifier(Protocol):
    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        """One attempt. Failures of the receiver or the network are returned, not raised."""
        ...
