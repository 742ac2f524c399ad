"""ClusterService: the replicas that serve the API as one system and the leases each holds.

The servicer shows what a view gives it: on PostgreSQL the heartbeat and lease rows every replica
writes (store/cluster_view.py); on SQLite, where one process is the whole system, `lone_replica`
describes that process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from alerting.v1 import cluster_service_pb2, cluster_service_pb2_grpc
from alerting_server.api.convert import ts_to_pb
from alerting_server.clock import Clock
from alerting_server.model.cluster import ReplicaInfo

Context = Any

ClusterView = Callable[[], Awaitable[list[ReplicaInfo]]]


def lone_replica(
    replica: str, addresses: Callable[[], tuple[str, str]], started_at: int, clock: Clock
) -> ClusterView:
    """The view of a server that is the whole system: itself, alive now, holding no lease (there is
    no work to share). `addresses` gives its gRPC and HTTP addresses when asked, since they are known
    only once both ports are bound."""

    async def view() -> list[ReplicaInfo]:
        address, http_address = addresses()
        return [ReplicaInfo(replica, address, http_address, started_at, clock.now_ms())]

    return view


def replica_to_pb(replica: ReplicaInfo, this_replica: str) -> cluster_service_pb2.Replica:
    return cluster_service_pb2.Replica(
        id=replica.id,
        address=replica.address,
        http_address=replica.http_address,
        started_at=ts_to_pb(replica.started_at),
        last_heartbeat=ts_to_pb(replica.last_heartbeat),
        leases=[
            cluster_service_pb2.Lease(
                name=lease.name, epoch=lease.epoch, expires_at=ts_to_pb(lease.expires_at)
            )
            for lease in replica.leases
        ],
        this_replica=replica.id == this_replica,
    )


class ClusterServicer(cluster_service_pb2_grpc.ClusterServiceServicer):
    def __init__(self, view: ClusterView, this_replica: str) -> None:
        self._view = view
        self._this_replica = this_replica

    async def GetCluster(
        self, request: cluster_service_pb2.GetClusterRequest, context: Context
    ) -> cluster_service_pb2.GetClusterResponse:
        replicas = await self._view()
        return cluster_service_pb2.GetClusterResponse(
            replicas=[replica_to_pb(replica, self._this_replica) for replica in replicas]
        )
