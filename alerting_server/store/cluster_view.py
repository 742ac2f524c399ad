"""What the cluster looks like from the database: the replicas' heartbeat rows and the leases each
holds, read in one statement so that both come from one snapshot.

A lease that ended is still shown under its holder, with its expiry, until another replica takes it:
that is how a replica that stopped renewing shows. A lease given back (no holder), or held by a replica
whose heartbeat row is gone, belongs to no replica shown and is left out.
"""

from __future__ import annotations

import dataclasses
import re

import sqlalchemy as sa

from alerting_server.model.cluster import LeaseInfo, ReplicaInfo
from alerting_server.store.database import Database
from alerting_server.store.tables import cluster_leases as leases
from alerting_server.store.tables import cluster_replicas as replicas

_DIGITS = re.compile(r"(\d+)")


def lease_order(name: str) -> tuple[str | int, ...]:
    """Names with their numbers compared as numbers: rules/2 before rules/10."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(name)))


class ClusterView:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def replicas(self) -> list[ReplicaInfo]:
        """Every replica with a heartbeat row, by id, each with the leases it holds by name."""
        query = sa.select(
            replicas,
            leases.c.name.label("lease"),
            leases.c.epoch,
            leases.c.expires_at,
        ).select_from(replicas.outerjoin(leases, leases.c.holder == replicas.c.id))
        async with self._db.read() as connection:
            rows = (await connection.execute(query)).all()
        found: dict[str, ReplicaInfo] = {}
        held: dict[str, list[LeaseInfo]] = {}
        for row in rows:
            found[row.id] = ReplicaInfo(
                row.id, row.address, row.http_address, row.started_at, row.last_heartbeat
            )
            if row.lease is not None:
                held.setdefault(row.id, []).append(LeaseInfo(row.lease, row.epoch, row.expires_at))
        # Sorted here: the database's collation may order ids otherwise.
        return [
            dataclasses.replace(
                replica,
                leases=tuple(sorted(held.get(replica.id, ()), key=lambda lease: lease_order(lease.name))),
            )
            for replica in sorted(found.values(), key=lambda replica: replica.id)
        ]
