"""The cluster as the database has it: replicas by id, each with the leases it holds by name, an
ended lease still under its holder."""

from __future__ import annotations

from typing import Any

from alerting_server.model.cluster import LeaseInfo, ReplicaInfo
from alerting_server.store import Store
from alerting_server.store.cluster_view import lease_order
from alerting_server.store.tables import cluster_leases, cluster_replicas

NOW = 1_700_000_000_000


def replica(id: str, started_at: int, last_heartbeat: int) -> dict[str, Any]:
    return {
        "id": id,
        "address": f"{id}.internal:50051",
        "http_address": f"{id}.internal:8080",
        "started_at": started_at,
        "last_heartbeat": last_heartbeat,
    }


def lease(name: str, holder: str | None, epoch: int, expires_at: int) -> dict[str, Any]:
    return {"name": name, "holder": holder, "epoch": epoch, "expires_at": expires_at, "acquired_at": NOW}


async def insert(store: Store, replicas: list[dict[str, Any]], leases: list[dict[str, Any]]) -> None:
    async with store.transaction() as connection:
        if replicas:
            await connection.execute(cluster_replicas.insert(), replicas)
        if leases:
            await connection.execute(cluster_leases.insert(), leases)


async def test_no_replica_is_an_empty_cluster(store: Store) -> None:
    assert await store.cluster.replicas() == []


async def test_replicas_by_id_with_the_leases_each_holds_by_name(store: Store) -> None:
    await insert(
        store,
        [replica("b", NOW - 5000, NOW - 100), replica("a", NOW - 9000, NOW - 200), replica("c", NOW, NOW)],
        [
            lease("rules/10", "a", 3, NOW + 2000),
            lease("pipeline", "b", 7, NOW + 2500),
            lease("rules/2", "a", 1, NOW + 2000),
            lease("rules/1", "b", 2, NOW + 2400),
            lease("rules/0", "a", 5, NOW + 2000),
        ],
    )

    assert await store.cluster.replicas() == [
        ReplicaInfo(
            "a",
            "a.internal:50051",
            "a.internal:8080",
            NOW - 9000,
            NOW - 200,
            (
                LeaseInfo("rules/0", 5, NOW + 2000),
                LeaseInfo("rules/2", 1, NOW + 2000),
                LeaseInfo("rules/10", 3, NOW + 2000),
            ),
        ),
        ReplicaInfo(
            "b",
            "b.internal:50051",
            "b.internal:8080",
            NOW - 5000,
            NOW - 100,
            (LeaseInfo("pipeline", 7, NOW + 2500), LeaseInfo("rules/1", 2, NOW + 2400)),
        ),
        ReplicaInfo("c", "c.internal:50051", "c.internal:8080", NOW, NOW, ()),
    ]


async def test_an_ended_lease_stays_under_its_holder_and_a_given_back_one_under_nobody(store: Store) -> None:
    # "gone" stopped beating and its row was forgotten: its lease has no replica to be shown under.
    await insert(
        store,
        [replica("a", NOW - 9000, NOW - 60_000)],
        [
            lease("pipeline", "a", 4, NOW - 57_000),
            lease("rules/0", None, 2, 0),
            lease("rules/1", "gone", 9, NOW - 1000),
        ],
    )

    [a] = await store.cluster.replicas()
    assert a.leases == (LeaseInfo("pipeline", 4, NOW - 57_000),)


def test_lease_names_compare_their_numbers_as_numbers() -> None:
    names = ["rules/10", "rules/9", "pipeline", "rules/0", "rules/1"]
    assert sorted(names, key=lease_order) == ["pipeline", "rules/0", "rules/1", "rules/9", "rules/10"]
