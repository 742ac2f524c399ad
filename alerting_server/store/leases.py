"""Replicas and their leases, on PostgreSQL: the heartbeat, taking, renewing and giving back leases, and
the fence a write under leases carries.

Times are the database's clock (alerting_now_ms()), so that replicas whose clocks differ still agree
on when a lease ends. A lease changes holder only when it has ended or was given back, and its epoch
then grows by one: a write fenced with an older epoch is refused by the database (alerting_fence).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from alerting_server.model.fence import Fence, LeaseLost
from alerting_server.store.database import Database

# SQLSTATE alerting_fence raises with.
LEASE_LOST = "AL001"


def fence_in(connection: Connection, fence: Fence | None) -> None:
    """First statement of a fenced write transaction: raises LeaseLost unless every lease is still held."""
    if fence is None:
        return
    names = sorted(fence.leases)
    try:
        connection.execute(
            sa.text("SELECT alerting_fence(CAST(:names AS text[]), :holder, CAST(:epochs AS bigint[]))"),
            {"names": names, "holder": fence.holder, "epochs": [fence.leases[n] for n in names]},
        )
    except DBAPIError as exc:
        if is_lease_lost(exc):
            raise LeaseLost(str(exc.orig).rpartition(">: ")[2].strip()) from None
        raise


def bound_lock_waits(connection: Connection, ttl_ms: int) -> None:
    """The statements of this transaction wait at most a quarter of the lease TTL for a row lock
    (then raise): the leases' own statements run in the membership round, where a wait that no
    write ends (one stuck on a dead replica's connection) would hold up every later renewal."""
    connection.execute(sa.text(f"SET LOCAL lock_timeout = {max(1, ttl_ms // 4)}"))


def is_lease_lost(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return code == LEASE_LOST


@dataclass(frozen=True)
class LeaseRow:
    name: str
    holder: str | None
    epoch: int
    expires_at: int


class LeaseRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def heartbeat(self, replica: str, address: str, http_address: str, started_at: int) -> int:
        """Says this replica is alive; returns the database's time (epoch ms)."""
        statement = sa.text(
            "INSERT INTO cluster_replicas (id, address, http_address, started_at, last_heartbeat) "
            "VALUES (:id, :address, :http, :started, alerting_now_ms()) "
            "ON CONFLICT (id) DO UPDATE SET address = excluded.address, "
            "http_address = excluded.http_address, "
            "started_at = excluded.started_at, last_heartbeat = excluded.last_heartbeat "
            "RETURNING last_heartbeat"
        )
        params = {"id": replica, "address": address, "http": http_address, "started": started_at}
        return await self._db.run(lambda c: int(c.execute(statement, params).scalar_one()))

    async def live_replicas(self, within_ms: int) -> list[str]:
        """The replicas whose last heartbeat is at most `within_ms` old, by id."""
        statement = sa.text(
            "SELECT id FROM cluster_replicas WHERE last_heartbeat > alerting_now_ms() - :within ORDER BY id"
        )
        async with self._db.read() as c:
            return [row[0] for row in await c.execute(statement, {"within": within_ms})]

    async def leave(self, replica: str) -> None:
        """This replica stops: its heartbeat row goes (its leases were given back before)."""
        statement = sa.text("DELETE FROM cluster_replicas WHERE id = :id")
        await self._db.run(lambda c: c.execute(statement, {"id": replica}))

    async def forget_dead(self, older_than_ms: int) -> int:
        """Drops the heartbeat rows of replicas silent for longer than `older_than_ms`."""
        statement = sa.text("DELETE FROM cluster_replicas WHERE last_heartbeat < alerting_now_ms() - :older")
        return await self._db.run(lambda c: int(c.execute(statement, {"older": older_than_ms}).rowcount))

    async def all(self) -> list[LeaseRow]:
        async with self._db.read() as c:
            rows = await c.execute(sa.text("SELECT name, holder, epoch, expires_at FROM cluster_leases"))
            return [LeaseRow(r.name, r.holder, r.epoch, r.expires_at) for r in rows]

    async def renew(self, holder: str, held: Mapping[str, int], ttl_ms: int) -> dict[str, int]:
        """Extends the leases still held (same epoch, not ended); returns those, by name. A lease that
        ended is not renewed even when nobody took it: its work may already have stopped."""
        if not held:
            return {}
        names = sorted(held)
        statement = sa.text(
            "UPDATE cluster_leases AS l SET expires_at = alerting_now_ms() + :ttl "
            "FROM unnest(CAST(:names AS text[]), CAST(:epochs AS bigint[])) AS w(name, epoch) "
            "WHERE l.name = w.name AND l.epoch = w.epoch AND l.holder = :holder "
            "AND l.expires_at > alerting_now_ms() RETURNING l.name, l.epoch"
        )
        params = {"names": names, "epochs": [held[n] for n in names], "holder": holder, "ttl": ttl_ms}
        return await self._epochs(statement, params, ttl_ms)

    async def acquire(self, holder: str, names: Collection[str], ttl_ms: int) -> dict[str, int]:
        """Takes each named lease that is free (never held, given back, or ended); returns those taken
        with their new epochs. A lease whose row a write under it still locks (alerting_fence) is left
        for a later round rather than waited for: that write's replica may be cut off mid-transaction,
        and a round that waits for it waits with this replica's own renewals behind it."""
        if not names:
            return {}
        statement = sa.text(
            "WITH free AS ("
            " SELECT name FROM cluster_leases WHERE name = ANY(CAST(:names AS text[]))"
            " AND (holder IS NULL OR expires_at <= alerting_now_ms()) FOR UPDATE SKIP LOCKED"
            "), taken AS ("
            " UPDATE cluster_leases AS l SET holder = :holder, epoch = l.epoch + 1,"
            " expires_at = alerting_now_ms() + :ttl, acquired_at = alerting_now_ms()"
            " FROM free WHERE l.name = free.name RETURNING l.name, l.epoch"
            "), added AS ("
            " INSERT INTO cluster_leases (name, holder, epoch, expires_at, acquired_at)"
            " SELECT n, :holder, 1, alerting_now_ms() + :ttl, alerting_now_ms()"
            " FROM unnest(CAST(:names AS text[])) AS n"
            " WHERE NOT EXISTS (SELECT 1 FROM cluster_leases WHERE name = n)"
            " ON CONFLICT (name) DO NOTHING RETURNING name, epoch"
            ") SELECT name, epoch FROM taken UNION ALL SELECT name, epoch FROM added"
        )
        params = {"holder": holder, "names": sorted(names), "ttl": ttl_ms}
        return await self._epochs(statement, params, ttl_ms)

    async def _epochs(
        self, statement: sa.TextClause, params: dict[str, object], ttl_ms: int
    ) -> dict[str, int]:
        """The leases a statement of the membership round took or renewed, with their epochs; its lock
        waits bounded (bound_lock_waits)."""

        def run(c: Connection) -> dict[str, int]:
            bound_lock_waits(c, ttl_ms)
            return {r.name: r.epoch for r in c.execute(statement, params)}

        return await self._db.run(run)

    async def release(self, holder: str, held: Mapping[str, int]) -> None:
        """Gives leases back at once, so that another replica need not wait for them to end."""
        if not held:
            return
        names = sorted(held)
        statement = sa.text(
            "UPDATE cluster_leases AS l SET holder = NULL, expires_at = 0 "
            "FROM unnest(CAST(:names AS text[]), CAST(:epochs AS bigint[])) AS w(name, epoch) "
            "WHERE l.name = w.name AND l.epoch = w.epoch AND l.holder = :holder"
        )
        params = {"names": names, "epochs": [held[n] for n in names], "holder": holder}
        await self._db.run(lambda c: c.execute(statement, params))

    async def config_revision(self) -> int:
        """The configuration counter (grows with every configuration write)."""
        async with self._db.read() as c:
            value = await c.execute(sa.text("SELECT value FROM cluster_counters WHERE name = 'config'"))
            return int(value.scalar_one_or_none() or 0)
