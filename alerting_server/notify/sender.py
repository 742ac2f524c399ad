"""One attempt at one outbox row: render, send, decide what next, and record it all."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from alerting_server.clock import Clock
from alerting_server.model import Channel, DeliveryStatus
from alerting_server.model.outbox import Attempt, Claimed, Outcome
from alerting_server.notify.factory import sends_resolved
from alerting_server.notify.notifier import DeliveryResult, Notifier
from alerting_server.notify.outcome import RetryPolicy, decide
from alerting_server.notify.render import BadPayload, decode, render

log = logging.getLogger(__name__)


class OutboxWriter(Protocol):
    """Records the attempts at the rows a worker holds (store/deliveries.py)."""

    async def finish(
        self, delivery_id: str, *, token: str, attempt: Attempt | None, outcome: Outcome
    ) -> bool: ...


@runtime_checkable
class AcknowledgingNotifier(Protocol):
    """A receiver with incidents of its own that can be acknowledged (PagerDuty, OpsGenie)."""

    async def acknowledge(self, group_key: str) -> DeliveryResult: ...


@dataclass(frozen=True)
class Sender:
    deliveries: OutboxWriter
    clock: Clock
    token: str
    external_url: str
    policy: RetryPolicy
    rand: Callable[[], float]

    async def send(self, channel: Channel, notifier: Notifier, claimed: Claimed) -> Outcome:
        delivery = claimed.delivery
        started = self.clock.now_ms()
        try:
            result = await self._attempt(channel, notifier, claimed)
        except BadPayload as e:
            result = DeliveryResult(ok=False, retryable=False, reason=str(e))
        if result is None:
            # Nothing this channel sends (resolved-only, and it does not send resolved): done.
            outcome = Outcome(DeliveryStatus.DELIVERED, delivery.attempts, delivered_at=started)
            await self.deliveries.finish(delivery.id, token=self.token, attempt=None, outcome=outcome)
            return outcome
        now = self.clock.now_ms()
        attempts = delivery.attempts + 1
        outcome = decide(
            result,
            attempts=attempts,
            created_at=delivery.created_at,
            now=now,
            policy=self.policy,
            rand=self.rand,
        )
        attempt = Attempt(
            attempt=attempts,
            at=started,
            outcome=outcome.status.value,
            status_code=result.status_code,
            error=result.reason,
            duration=now - started,
        )
        held = await self.deliveries.finish(delivery.id, token=self.token, attempt=attempt, outcome=outcome)
        where = f"delivery {delivery.id} to channel {channel.name!r} ({channel.id})"
        # Reasons are scrubbed of the channel's secrets where they are made (notify.classify).
        if not held:
            log.warning("delivery %s: lease lost while sending; its new holder decides", delivery.id)
        elif outcome.status is DeliveryStatus.DELIVERED and result.reason:
            log.warning("%s delivered, but: %s", where, result.reason)
        elif outcome.status is DeliveryStatus.FAILED:
            log.warning("%s failed: %s", where, outcome.last_error)
        elif outcome.status is DeliveryStatus.RETRYING:
            log.warning("%s: attempt %d failed, retrying: %s", where, attempts, result.reason)
        return outcome

    async def _attempt(self, channel: Channel, notifier: Notifier, claimed: Claimed) -> DeliveryResult | None:
        payload = decode(claimed.payload)
        try:
            if payload.acknowledges:
                if not isinstance(notifier, AcknowledgingNotifier):
                    return None  # Only receivers with incidents of their own have anything to ack.
                return await notifier.acknowledge(payload.group_key)
            message = render(payload, external_url=self.external_url, send_resolved=sends_resolved(channel))
            if message is None:
                return None
            return await notifier.notify(message, idempotency_key=claimed.delivery.idempotency_key)
        except BadPayload:
            raise
        except Exception as e:
            # A bug in an integration must not kill its worker. Only the type is told: an
            # exception's text may quote a URL or a header, and so a secret.
            log.error(
                "delivery %s: %s raised %s", claimed.delivery.id, type(notifier).__name__, type(e).__name__
            )
            return DeliveryResult(ok=False, retryable=True, reason=f"internal error ({type(e).__name__})")
