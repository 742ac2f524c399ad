"""The notification outbox, as read by the API; the notify stage adds claiming and marking."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from alerting_server.errors import NotFound
from alerting_server.model import Delivery, DeliveryStatus
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.database import Database, fetch_one, fetch_page, new_id
from alerting_server.store.tables import deliveries as t
from alerting_server.store.tables import delivery_alerts as by_alert

KIND = "deliveries"


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        id=row.id,
        channel_id=row.channel_id,
        status=DeliveryStatus(row.status),
        group_key=row.group_key,
        fingerprints=tuple(row.fingerprints),
        attempts=row.attempts,
        last_error=row.last_error,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        updated_at=row.updated_at,
        delivered_at=row.delivered_at,
        next_attempt_at=row.next_attempt_at,
    )


def _not_found(delivery_id: str) -> NotFound:
    return NotFound(f"delivery {delivery_id!r} not found")


class DeliveryRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, delivery: Delivery, payload: dict[str, Any], connection: AsyncConnection | None = None
    ) -> Delivery:
        """Enqueues one notification; pass the caller's connection to commit it with its cause."""
        [stored] = await self.add_many([(delivery, payload)], connection)
        return stored

    async def add_many(
        self, items: list[tuple[Delivery, dict[str, Any]]], connection: AsyncConnection | None = None
    ) -> list[Delivery]:
        """Enqueues notifications in one statement per table; ids are assigned where empty."""
        stored = [d if d.id else dataclasses.replace(d, id=new_id()) for d, _ in items]
        if not stored:
            return []
        rows = [
            {
                "id": d.id,
                "channel_id": d.channel_id,
                "status": d.status.value,
                "group_key": d.group_key,
                "fingerprints": list(d.fingerprints),
                "payload": payload,
                "attempts": d.attempts,
                "last_error": d.last_error,
                "idempotency_key": d.idempotency_key,
                "next_attempt_at": d.next_attempt_at,
                "created_at": d.created_at,
                "updated_at": d.updated_at,
                "delivered_at": d.delivered_at,
            }
            for d, (_, payload) in zip(stored, items, strict=True)
        ]
        links = [
            {"delivery_id": d.id, "fingerprint": fp} for d in stored for fp in sorted(set(d.fingerprints))
        ]
        async with self._db.write(connection) as conn:
            await conn.execute(t.insert(), rows)
            if links:
                await conn.execute(by_alert.insert(), links)
        return stored

    async def get(self, delivery_id: str) -> Delivery:
        async with self._db.read() as connection:
            row = await fetch_one(connection, sa.select(t).where(t.c.id == delivery_id))
        if row is None:
            raise _not_found(delivery_id)
        return _delivery(row)

    async def payload(self, delivery_id: str) -> dict[str, Any]:
        async with self._db.read() as connection:
            payload: dict[str, Any] | None = (
                await connection.execute(sa.select(t.c.payload).where(t.c.id == delivery_id))
            ).scalar_one_or_none()
        if payload is None:
            raise _not_found(delivery_id)
        return payload

    async def list(
        self,
        page: PageRequest,
        channel_id: str | None = None,
        fingerprint: str | None = None,
        status: DeliveryStatus | None = None,
    ) -> Page[Delivery]:
        query = sa.select(t).order_by(t.c.created_at, t.c.id)
        if channel_id:
            query = query.where(t.c.channel_id == channel_id)
        if status is not None:
            query = query.where(t.c.status == status.value)
        if fingerprint:
            of_alert = sa.select(by_alert.c.delivery_id).where(by_alert.c.fingerprint == fingerprint)
            query = query.where(t.c.id.in_(of_alert))
        async with self._db.read() as connection:
            return await fetch_page(connection, query, page, KIND, _delivery)
