"""The replicas that serve the API as one system, and the leases each holds, as GetCluster shows them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LeaseInfo:
    """A lease as its holder has it: the epoch it was granted at and when it ends unless renewed."""

    name: str
    epoch: int
    expires_at: int


@dataclass(frozen=True)
class ReplicaInfo:
    """One replica: where it is reached, when it started (its own clock) and last said it was alive
    (the database's clock), and the leases it holds, by name."""

    id: str
    address: str
    http_address: str
    started_at: int
    last_heartbeat: int
    leases: tuple[LeaseInfo, ...] = ()
