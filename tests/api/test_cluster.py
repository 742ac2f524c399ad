"""ClusterService over gRPC and through the REST gateway: the replicas a view gives, the one that
answered marked, times as epoch milliseconds, and the read scope it needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

import grpc
import httpx
import pytest
from grpc import aio

from alerting.v1 import cluster_service_pb2, cluster_service_pb2_grpc
from alerting_server.api.cluster import ClusterServicer, lone_replica
from alerting_server.api.interceptors import AuthInterceptor, ErrorInterceptor
from alerting_server.auth import Authenticator, Token
from alerting_server.model.cluster import LeaseInfo, ReplicaInfo
from gateway import create_app
from gateway.local import LocalServer

NOW = 1_696_789_234_567
READER = "reader-token-0123456789"
WRITER = "writer-token-0123456789"
REPLICAS = [
    ReplicaInfo(
        "alerting-0",
        "10.0.0.1:50051",
        "10.0.0.1:8080",
        NOW - 60_000,
        NOW - 400,
        (LeaseInfo("pipeline", 3, NOW + 2600), LeaseInfo("rules/0", 1, NOW + 2600)),
    ),
    # Its lease ended: it stopped renewing, and nobody took the lease yet.
    ReplicaInfo(
        "alerting-1",
        "10.0.0.2:50051",
        "10.0.0.2:8080",
        NOW - 30_000,
        NOW - 9000,
        (LeaseInfo("rules/1", 2, NOW - 6000),),
    ),
]


class FixedClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


async def cluster_view() -> list[ReplicaInfo]:
    return REPLICAS


@dataclass
class Served:
    target: str
    local: LocalServer


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """The servicer behind a gRPC port and behind a LocalServer, with the server's interceptors and
    tokens on."""
    tokens = (Token("r", READER, "read"), Token("w", WRITER, "write"))
    interceptors = [ErrorInterceptor(), AuthInterceptor(Authenticator(tokens))]
    servicer = ClusterServicer(cluster_view, "alerting-1")
    server = aio.server(interceptors=interceptors)
    local = LocalServer(interceptors)
    for target in (server, cast(aio.Server, local)):
        cluster_service_pb2_grpc.add_ClusterServiceServicer_to_server(servicer, target)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield Served(f"127.0.0.1:{port}", local)
    await server.stop(None)


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


async def test_get_cluster_over_grpc(served: Served) -> None:
    async with aio.insecure_channel(served.target) as channel:
        stub = cluster_service_pb2_grpc.ClusterServiceStub(channel)
        response = await stub.GetCluster(cluster_service_pb2.GetClusterRequest(), metadata=bearer(READER))

    first, second = response.replicas
    assert (first.id, first.address, first.http_address) == ("alerting-0", "10.0.0.1:50051", "10.0.0.1:8080")
    assert (first.started_at.ToMilliseconds(), first.last_heartbeat.ToMilliseconds()) == (
        NOW - 60_000,
        NOW - 400,
    )
    assert [(lease.name, lease.epoch, lease.expires_at.ToMilliseconds()) for lease in first.leases] == [
        ("pipeline", 3, NOW + 2600),
        ("rules/0", 1, NOW + 2600),
    ]
    assert (first.this_replica, second.this_replica) == (False, True)


async def test_get_cluster_needs_a_token_and_read_scope_is_enough(served: Served) -> None:
    async with aio.insecure_channel(served.target) as channel:
        stub = cluster_service_pb2_grpc.ClusterServiceStub(channel)
        with pytest.raises(aio.AioRpcError) as refused:
            await stub.GetCluster(cluster_service_pb2.GetClusterRequest())
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(aio.AioRpcError) as wrong:
            await stub.GetCluster(cluster_service_pb2.GetClusterRequest(), metadata=bearer("not-a-token"))
        assert wrong.value.code() == grpc.StatusCode.UNAUTHENTICATED
        for token in (READER, WRITER):
            response = await stub.GetCluster(cluster_service_pb2.GetClusterRequest(), metadata=bearer(token))
            assert len(response.replicas) == 2


@pytest.fixture(params=["grpc", "local"])
async def http(served: Served, request: pytest.FixtureRequest) -> AsyncIterator[httpx.AsyncClient]:
    """The REST gateway in front of the servicer: over gRPC, and in this process as the server wires it."""
    async with aio.insecure_channel(served.target) as channel:
        local = served.local if request.param == "local" else None
        app = create_app(served.target, channel=channel, local=local)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


async def test_get_cluster_over_rest_is_the_json_shape_of_the_contract(http: httpx.AsyncClient) -> None:
    answer = await http.get("/cluster", headers={"Authorization": f"Bearer {READER}"})
    assert answer.status_code == 200
    assert answer.json() == {
        "replicas": [
            {
                "id": "alerting-0",
                "address": "10.0.0.1:50051",
                "http_address": "10.0.0.1:8080",
                "started_at": NOW - 60_000,
                "last_heartbeat": NOW - 400,
                "leases": [
                    {"name": "pipeline", "epoch": 3, "expires_at": NOW + 2600},
                    {"name": "rules/0", "epoch": 1, "expires_at": NOW + 2600},
                ],
                "this_replica": False,
            },
            {
                "id": "alerting-1",
                "address": "10.0.0.2:50051",
                "http_address": "10.0.0.2:8080",
                "started_at": NOW - 30_000,
                "last_heartbeat": NOW - 9000,
                "leases": [{"name": "rules/1", "epoch": 2, "expires_at": NOW - 6000}],
                "this_replica": True,
            },
        ]
    }


async def test_get_cluster_over_rest_without_a_token_is_401(http: httpx.AsyncClient) -> None:
    answer = await http.get("/cluster")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "UNAUTHENTICATED"


async def test_a_lone_replica_is_itself_alive_now_at_the_addresses_bound_last() -> None:
    clock = FixedClock(NOW)
    bound = {"grpc": "", "http": ""}
    view = lone_replica("solo", lambda: (bound["grpc"], bound["http"]), NOW - 5000, clock)
    bound.update(grpc="127.0.0.1:50051", http="127.0.0.1:8080")
    clock.now = NOW + 1000

    assert await view() == [ReplicaInfo("solo", "127.0.0.1:50051", "127.0.0.1:8080", NOW - 5000, NOW + 1000)]
    response = await ClusterServicer(view, "solo").GetCluster(cluster_service_pb2.GetClusterRequest(), None)
    [replica] = response.replicas
    assert replica.this_replica
    assert list(replica.leases) == []


async def test_the_openapi_document_describes_get_cluster(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    operation = document["paths"]["/cluster"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/alerting.v1.GetClusterResponse"
    }
    replica = document["components"]["schemas"]["alerting.v1.Replica"]["properties"]
    assert (replica["last_heartbeat"]["type"], replica["this_replica"]["type"]) == ("integer", "boolean")
    assert replica["leases"]["items"] == {"$ref": "#/components/schemas/alerting.v1.Lease"}
