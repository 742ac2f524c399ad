"""The notification outbox: enqueued by the alert pipeline, claimed and marked by the delivery workers."""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from alerting_server.errors import NotFound
from alerting_server.model import Delivery, DeliveryStatus
from alerting_server.model.outbox import Attempt, Claimed, Outcome
from alerting_server.pagination import Page, PageRequest
from alerting_server.store.database import Database, execute_many, fetch_one, fetch_page, insert, new_id
from alerting_server.store.tables import deliveries as t
from alerting_server.store.tables import delivery_alerts as by_alert
from alerting_server.store.tables import delivery_attempts as attempts_t

KIND = "deliveries"


def list_kind(newest_first: bool) -> str:
    """What a page token of the deliveries list is bound to: an offset of one order means nothing in
    the other."""
    return f"{KIND}-newest" if newest_first else KIND


DUE = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)


# A delivery's end, built once (every notification sent runs it): building and compiling the
# statement again at each call was most of its cost.
_FINISH_UNATTEMPTED = (
    sa.update(t)
    .where(t.c.id == sa.bindparam("b_id"), t.c.claim_token == sa.bindparam("b_token"))
    .values(
        status=sa.bindparam("b_status"),
        attempts=sa.bindparam("b_attempts"),
        last_error=sa.bindparam("b_last_error"),
        next_attempt_at=sa.bindparam("b_next_attempt_at"),
        delivered_at=sa.bindparam("b_delivered_at"),
        claimed_until=None,
        claim_token=None,
    )
)
_FINISH = _FINISH_UNATTEMPTED.values(updated_at=sa.bindparam("b_updated_at"))
_INSERT_ATTEMPT = attempts_t.insert()


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

    async def add(self, delivery: Delivery, payload: dict[str, Any]) -> Delivery:
        """Enqueues one notification."""
        [stored] = await self.add_many([(delivery, payload)])
        return stored

    async def add_many(self, items: list[tuple[Delivery, dict[str, Any]]]) -> list[Delivery]:
        """Enqueues notifications in one statement per table; ids are assigned where empty."""
        if not items:
            return []
        return await self._db.run(lambda connection: self.add_many_in(connection, items))

    @staticmethod
    def add_many_in(connection: Connection, items: list[tuple[Delivery, dict[str, Any]]]) -> list[Delivery]:
        """add_many inside the caller's transaction (Store.write), to commit them with their cause."""
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
        execute_many(connection, insert(t), rows)
        execute_many(connection, insert(by_alert), links)
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
        newest_first: bool = False,
    ) -> Page[Delivery]:
        order = (t.c.created_at.desc(), t.c.id.desc()) if newest_first else (t.c.created_at, t.c.id)
        query = sa.select(t).order_by(*order)
        if channel_id:
            query = query.where(t.c.channel_id == channel_id)
        if status is not None:
            query = query.where(t.c.status == status.value)
        if fingerprint:
            of_alert = sa.select(by_alert.c.delivery_id).where(by_alert.c.fingerprint == fingerprint)
            query = query.where(t.c.id.in_(of_alert))
        async with self._db.read() as connection:
            return await fetch_page(connection, query, page, list_kind(newest_first), _delivery)

    # --- the delivery workers ------------------------------------------------------------

    async def claim(
        self,
        now: int,
        *,
        token: str,
        lease_until: int,
        limit: int,
        room: Mapping[str, int] | None = None,
        default_room: int | None = None,
    ) -> builtins.list[Claimed]:
        """Leases up to `limit` due rows, oldest due first, at most `room[channel]` per channel
        (`default_room` for the others; None: no cap). Channels with no room are not read at all,
        so that a backlog on one channel never hides another's rows.

        On PostgreSQL the rows are locked with SKIP LOCKED, so replicas claiming at the same moment
        take disjoint rows; SQLite serialises writers, which is enough for its one process.
        """
        free_by_channel = dict(room or {})
        # Which rows first (no payloads read for rows a full channel leaves), then those rows.
        query = (
            sa.select(t.c.id, t.c.channel_id)
            .where(t.c.status.in_(DUE), t.c.next_attempt_at <= now)
            .where(sa.or_(t.c.claimed_until.is_(None), t.c.claimed_until <= now))
            .order_by(t.c.next_attempt_at, t.c.created_at)
            .limit(limit)
        )
        full = sorted(channel for channel, free in free_by_channel.items() if free <= 0)
        if full:
            query = query.where(t.c.channel_id.not_in(full))
        if default_room is not None and default_room <= 0:
            query = query.where(t.c.channel_id.in_(sorted(free_by_channel)))

        def work(conn: Connection) -> builtins.list[Claimed]:
            locked = query.with_for_update(skip_locked=True) if conn.dialect.name == "postgresql" else query
            ids: builtins.list[str] = []
            for row_id, channel_id in conn.execute(locked):
                free = free_by_channel.get(channel_id, default_room)
                if free is not None and free <= 0:
                    continue
                if free is not None:
                    free_by_channel[channel_id] = free - 1
                ids.append(row_id)
            if not ids:
                return []
            rows = {row.id: row for row in conn.execute(sa.select(t).where(t.c.id.in_(ids))).mappings()}
            conn.execute(
                sa.update(t).where(t.c.id.in_(ids)).values(claimed_until=lease_until, claim_token=token)
            )
            return [Claimed(_delivery(rows[i]), rows[i].payload) for i in ids]

        return await self._db.run(work)

    async def extend(self, ids: Sequence[str], *, token: str, lease_until: int) -> None:
        """Renews the leases this worker still holds (rows queued behind a slow channel)."""
        if ids:
            query = (
                sa.update(t)
                .where(t.c.id.in_(list(ids)), t.c.claim_token == token)
                .values(claimed_until=lease_until)
            )
            await self._db.run(lambda conn: conn.execute(query))

    async def release(self, ids: Sequence[str], *, token: str) -> None:
        """Gives rows back unsent (on shutdown), so that the next worker need not wait out the lease."""
        if ids:
            query = (
                sa.update(t)
                .where(t.c.id.in_(list(ids)), t.c.claim_token == token)
                .values(claimed_until=None, claim_token=None)
            )
            await self._db.run(lambda conn: conn.execute(query))

    async def release_all(self) -> int:
        """Drops every lease: only for a database one process owns (SQLite), at its start, when any
        lease left is a crashed predecessor's. Returns how many rows were released."""
        query = sa.update(t).where(t.c.claim_token.is_not(None)).values(claimed_until=None, claim_token=None)
        return await self._db.run(lambda conn: int(conn.execute(query).rowcount))

    async def insert_claimed(
        self, delivery: Delivery, payload: dict[str, Any], *, token: str, lease_until: int
    ) -> Claimed:
        """Enqueues a row already leased to the caller, which sends it at once (a test message)."""

        def work(conn: Connection) -> Claimed:
            [stored] = self.add_many_in(conn, [(delivery, payload)])
            conn.execute(
                sa.update(t).where(t.c.id == stored.id).values(claimed_until=lease_until, claim_token=token)
            )
            return Claimed(stored, payload)

        return await self._db.run(work)

    async def finish(
        self, delivery_id: str, *, token: str, attempt: Attempt | None, outcome: Outcome
    ) -> bool:
        """Records the attempt and moves the row on, releasing the lease, in one transaction.

        False when the lease was lost (it expired and another worker took the row): the attempt is
        still recorded, since it happened, but the row is the new holder's to move.
        """
        values = {
            "b_id": delivery_id,
            "b_token": token,
            "b_status": outcome.status.value,
            "b_attempts": outcome.attempts,
            "b_last_error": outcome.last_error,
            "b_next_attempt_at": outcome.next_attempt_at,
            "b_delivered_at": outcome.delivered_at,
        }
        if attempt is not None:
            values["b_updated_at"] = attempt.at

        def work(conn: Connection) -> bool:
            if attempt is None:
                return int(conn.execute(_FINISH_UNATTEMPTED, values).rowcount) == 1
            conn.execute(_INSERT_ATTEMPT, {"delivery_id": delivery_id, **dataclasses.asdict(attempt)})
            return int(conn.execute(_FINISH, values).rowcount) == 1

        return await self._db.run(work)

    async def attempts(self, delivery_id: str) -> builtins.list[Attempt]:
        query = (
            sa.select(attempts_t).where(attempts_t.c.delivery_id == delivery_id).order_by(attempts_t.c.seq)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            Attempt(
                attempt=r.attempt,
                at=r.at,
                outcome=r.outcome,
                status_code=r.status_code,
                error=r.error,
                duration=r.duration,
            )
            for r in rows
        ]
