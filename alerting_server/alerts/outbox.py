"""Outbox rows as the stages produce them, before the pipeline commits them."""

from __future__ import annotations

import hashlib
import uuid

from alerting_server.model import Channel, Delivery, DeliveryStatus, NotificationPayload

Outgoing = tuple[Delivery, NotificationPayload]


def idempotency_key(*parts: object) -> str:
    """Stable across a crash and retry of the step that made the row, distinct between rows."""
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()[:32]


def pending_delivery(
    channel: Channel, group_key: str, fingerprints: tuple[str, ...], key: str, now: int
) -> Delivery:
    return Delivery(
        # Assigned here so that the history rows of this notification can name it.
        id=str(uuid.uuid4()),
        channel_id=channel.id,
        status=DeliveryStatus.PENDING,
        group_key=group_key,
        fingerprints=fingerprints,
        idempotency_key=key,
        created_at=now,
        updated_at=now,
        next_attempt_at=now,
    )
