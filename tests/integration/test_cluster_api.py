"""GET /cluster of real servers: one on SQLite shows itself alone; two on one PostgreSQL database each
show both, with the leases they shared out, and mark themselves as the one that answered."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from alerting.client import AsyncAlertingClient
from alerting_server.app import AlertingApp
from alerting_server.config import Config
from tests.pg import temporary_database


def config(tmp_path: Path, database_url: str, **cluster: Any) -> Config:
    return Config(
        grpc_listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        database_url=database_url,
        data_dir=str(tmp_path / "data"),
        **cluster,
    )


async def get_cluster(app: AlertingApp) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{app.addresses.http}", timeout=10) as http:
        answer = await http.get("/cluster")
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


async def test_a_server_on_sqlite_shows_itself_alone(tmp_path: Path) -> None:
    before = int(time.time() * 1000)
    app = AlertingApp(config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"))
    await app.start()
    try:
        [replica] = (await get_cluster(app))["replicas"]
        async with AsyncAlertingClient(app.addresses.grpc) as client:
            [over_grpc] = await client.get_cluster()
    finally:
        await app.stop()

    assert replica["id"].startswith("replica-")
    assert socket.gethostname() not in replica["id"]
    assert (replica["address"], replica["http_address"]) == (app.addresses.grpc, app.addresses.http)
    assert before <= replica["started_at"] <= replica["last_heartbeat"]
    assert (replica["leases"], replica["this_replica"]) == ([], True)
    assert (over_grpc.id, over_grpc.this_replica) == (replica["id"], True)


async def started(tmp_path: Path, url: str, replica: str) -> AlertingApp:
    app = AlertingApp(
        config(
            tmp_path / replica,
            url,
            cluster_replica_id=replica,
            cluster_advertise_address=f"{replica}.internal:50051",
            cluster_rule_partitions=4,
            cluster_pipeline_partitions=2,
            cluster_poll_interval_ms=200,
        )
    )
    try:
        await app.start()
    except BaseException:
        await app.stop()
        raise
    return app


LEASES = ["pipeline/0", "pipeline/1", "rules/0", "rules/1", "rules/2", "rules/3"]


def lease_names(cluster: dict[str, Any]) -> list[str]:
    return sorted(lease["name"] for replica in cluster["replicas"] for lease in replica["leases"])


async def shared_out(app: AlertingApp, within: float = 15.0) -> dict[str, Any]:
    """The cluster once both replicas hold leases and every lease is held (one given back by the
    first replica for the second is held by nobody for a moment)."""
    deadline = time.monotonic() + within
    while True:
        cluster = await get_cluster(app)
        replicas = cluster["replicas"]
        if len(replicas) == 2 and all(r["leases"] for r in replicas) and lease_names(cluster) == LEASES:
            return cluster
        if time.monotonic() > deadline:
            raise AssertionError(f"the leases were not shared out: {cluster}")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def two_replicas(tmp_path: Path, url: str) -> AsyncIterator[tuple[AlertingApp, AlertingApp]]:
    a = await started(tmp_path, url, "alerting-a")
    try:
        b = await started(tmp_path, url, "alerting-b")
        try:
            yield a, b
        finally:
            await b.stop()
    finally:
        await a.stop()


async def test_replicas_on_one_postgresql_each_show_both_and_the_leases_they_share(tmp_path: Path) -> None:
    async with temporary_database() as url, two_replicas(tmp_path, url) as (a, b):
        from_a = await shared_out(a)
        from_b = await get_cluster(b)
        async with a.store.engine.connect() as connection:
            idle = await connection.scalar(sa.text("SHOW idle_in_transaction_session_timeout"))

    # A transaction the replica leaves idle for the lease TTL (3 s by default) is ended by the database.
    assert idle == "3s"
    assert [r["id"] for r in from_a["replicas"]] == ["alerting-a", "alerting-b"]
    assert [r["this_replica"] for r in from_a["replicas"]] == [True, False]
    assert [r["this_replica"] for r in from_b["replicas"]] == [False, True]
    first = from_a["replicas"][0]
    assert (first["address"], first["http_address"]) == ("alerting-a.internal:50051", a.addresses.http)
    assert first["started_at"] <= first["last_heartbeat"]
    for replica in from_a["replicas"]:
        assert all(
            lease["epoch"] >= 1 and lease["expires_at"] > first["started_at"] for lease in replica["leases"]
        )
