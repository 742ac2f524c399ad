"""The alert pipeline divided into leased partitions over three replicas: each replica owns a share of
them; alerts posted to any replica, in groups of different partitions, are each notified once; an
acknowledgement made on any replica is applied by the owner of its alert's partition; and the owner of
a partition SIGKILLed in the middle of a group_wait is succeeded by a replica that goes on with the
group's timer where it stood: the notification is sent once, at the end of the first wait; an
escalation goes on likewise: the next level at its time, the level reached not paged again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from alerting_server.pipeline.pipeline import alert_partition
from tests.integration.ha.cluster import PIPELINE_LEASES, PIPELINE_PARTITIONS, ReplicaSet, eventually
from tests.integration.ha.receiver import WebhookReceiver
from tests.integration.ha.workload import ROUTING, hook_channel, notified_keys, post_alerts

# What every route groups by in ROUTING: the labels whose values give an alert's partition.
GROUPED_BY = frozenset({"alertname", "ha_key"})


def partition(key: str) -> int:
    labels = {"alertname": "HaPosted", "ha_key": key}
    return alert_partition(labels, GROUPED_BY, PIPELINE_PARTITIONS)


def keys_of_every_partition() -> dict[int, str]:
    """One ha_key in each pipeline partition."""
    found: dict[int, str] = {}
    n = 0
    while len(found) < PIPELINE_PARTITIONS:
        found.setdefault(partition(f"k{n}"), f"k{n}")
        n += 1
    return found


async def spread(replicas: ReplicaSet) -> dict[str, str]:
    """Once every pipeline partition is held and each replica holds some: lease -> holder."""
    holders: dict[str, tuple[str, int]] = {}

    async def shared_out() -> bool:
        nonlocal holders
        holders = await replicas.holders(0)
        owners = {holders[name][0] for name in PIPELINE_LEASES if name in holders}
        return set(PIPELINE_LEASES) <= set(holders) and owners == {r.name for r in replicas}

    await eventually(shared_out, 15, "the pipeline partitions to be shared out among the replicas")
    return {name: holders[name][0] for name in PIPELINE_LEASES}


async def alert_of(api: httpx.AsyncClient, key: str) -> dict[str, Any] | None:
    r = await api.get("/alerts", params={"filter": f'{{ha_key="{key}"}}'})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["alerts"]
    return found[0] if found else None


async def test_partitions_are_spread_alerts_notified_once_and_acks_applied_by_the_owner(
    tmp_path: Path,
) -> None:
    with WebhookReceiver() as receiver:
        async with ReplicaSet(tmp_path, 3) as replicas:
            receiver.processes = replicas.pids
            await hook_channel(replicas[0].api, receiver.url())
            owners = await spread(replicas)
            print({r.name: sorted(n for n, o in owners.items() if o == r.name) for r in replicas})
            keys = keys_of_every_partition()
            # Each alert to a replica that does not own its partition, so that its owner applies it.
            for i, (k, key) in enumerate(sorted(keys.items())):
                poster = next(
                    r
                    for r in (replicas[(i + j) % 3] for j in range(3))
                    if owners[PIPELINE_LEASES[k]] != r.name
                )
                r = await post_alerts(poster.api, {"alertname": "HaPosted", "ha_key": key})
                assert r.status_code == 200, r.text

            async def all_notified() -> bool:
                return set(keys.values()) <= set(notified_keys(receiver.requests))

            await eventually(all_notified, 20, "every alert notified")
            await asyncio.sleep(3)  # a duplicate, if any, would come within a few group intervals
            counts = {key: len(found) for key, found in notified_keys(receiver.requests).items()}
            assert counts == dict.fromkeys(keys.values(), 1)

            # An acknowledgement on a replica that does not own the alert's partition.
            key = keys[0]
            owner = owners[PIPELINE_LEASES[0]]
            other = next(r for r in replicas if r.name != owner)
            alert = await alert_of(other.api, key)
            assert alert is not None
            r = await other.api.post(
                f"/alerts/{alert['fingerprint']}/ack", json={"by": "ana", "comment": "on it"}
            )
            assert r.status_code == 200, r.text
            assert r.json()["acknowledged"] is True, r.text
            for replica in replicas:

                async def acknowledged(api: httpx.AsyncClient = replica.api) -> bool:
                    found = await alert_of(api, key)
                    return found is not None and bool(found["acknowledged"])

                await eventually(acknowledged, 5, f"the acknowledgement on {replica.name}")
            # The owner's pipeline decided it: it is in the alert's history, written by its step.
            history = await replicas[0].api.get(f"/alerts/{alert['fingerprint']}/history")
            assert history.status_code == 200, history.text
            assert "ana" in history.text


GROUP_WAIT_S = 10


async def test_a_killed_owners_group_wait_goes_on_where_it_stood(tmp_path: Path) -> None:
    routing = {**ROUTING, "group_wait": f"{GROUP_WAIT_S}s"}
    with WebhookReceiver() as receiver:
        async with ReplicaSet(tmp_path, 3) as replicas:
            receiver.processes = replicas.pids
            await hook_channel(replicas[0].api, receiver.url(), routing)
            owners = await spread(replicas)
            key = keys_of_every_partition()[3]
            owner = next(r for r in replicas if r.name == owners[PIPELINE_LEASES[3]])
            poster = next(r for r in replicas if r is not owner)
            r = await post_alerts(poster.api, {"alertname": "HaPosted", "ha_key": key})
            assert r.status_code == 200, r.text
            alert = await alert_of(poster.api, key)
            assert alert is not None, "the post was answered before its owner applied it"
            started = int(alert["started_at"]) / 1000  # epoch ms
            # Its owner's group is waiting now: the owner dies a moment into the wait.
            await asyncio.sleep(1)
            killed = time.time()
            await replicas.kill(owner.index)
            assert killed < started + GROUP_WAIT_S - 5, "the kill came too late to tell a resumed wait"

            async def notified() -> bool:
                return key in notified_keys(receiver.requests)

            await eventually(notified, 2 * GROUP_WAIT_S + 10, "the alert's notification")
            await asyncio.sleep(3)  # a second notification, if any, would come within a few seconds
            [sent] = notified_keys(receiver.requests)[key]
            assert sent.sender != owner.name
            # Not before the wait was over, and not after a wait begun again from the takeover (which
            # ends no earlier than killed + GROUP_WAIT_S): the successor went on with the first wait.
            assert started + GROUP_WAIT_S - 0.5 <= sent.at < killed + GROUP_WAIT_S, (
                f"started {started}, killed {killed}, notified {sent.at}"
            )


# Long enough for the first level to be paged and its owner killed well before the second is due,
# on a loaded 2-core machine (10 s left 4 s for that, which a loaded CI run once outlasted).
ESCALATE_AFTER_S = 20


async def test_a_killed_owners_escalation_goes_on_where_it_stood(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver:
        async with ReplicaSet(tmp_path, 3) as replicas:
            receiver.processes = replicas.pids
            api = replicas[0].api
            await hook_channel(api, receiver.url())
            for name in ("first", "second"):
                r = await api.post(
                    "/channels",
                    json={"name": name, "type": "webhook", "config": {"url": receiver.url(f"/{name}")}},
                )
                assert r.status_code == 201, r.text
            levels = [
                {"after": "0s", "channels": ["first"]},
                {"after": f"{ESCALATE_AFTER_S}s", "channels": ["second"]},
            ]
            r = await api.post("/escalation-policies", json={"name": "climb", "levels": levels})
            assert r.status_code == 201, r.text
            r = await api.put("/routing", json={**ROUTING, "escalation_policy_id": r.json()["id"]})
            assert r.status_code == 200, r.text
            owners = await spread(replicas)
            key = keys_of_every_partition()[5]
            owner = next(r for r in replicas if r.name == owners[PIPELINE_LEASES[5]])
            poster = next(r for r in replicas if r is not owner)
            r = await post_alerts(poster.api, {"alertname": "HaPosted", "ha_key": key})
            assert r.status_code == 200, r.text

            async def first_level() -> bool:
                return key in notified_keys(receiver.requests, "/first")

            await eventually(first_level, ESCALATE_AFTER_S - 6, "the first escalation level")
            alert = await alert_of(poster.api, key)
            assert alert is not None
            started = int(alert["started_at"]) / 1000  # epoch ms
            await asyncio.sleep(1)
            killed = time.time()
            await replicas.kill(owner.index)
            assert killed < started + ESCALATE_AFTER_S - 5, "the kill came too late to tell a resumed timer"

            async def second_level() -> bool:
                return key in notified_keys(receiver.requests, "/second")

            await eventually(second_level, 2 * ESCALATE_AFTER_S + 10, "the second escalation level")
            await asyncio.sleep(3)  # a repeat, if any, would come within a few seconds
            [second] = notified_keys(receiver.requests, "/second")[key]
            assert second.sender != owner.name
            # Due at the alert's start plus its `after`, as the killed owner had it: not a timer begun
            # again at the takeover (which ends no earlier than killed + ESCALATE_AFTER_S).
            assert started + ESCALATE_AFTER_S - 0.5 <= second.at < killed + ESCALATE_AFTER_S, (
                f"started {started}, killed {killed}, escalated {second.at}"
            )
            # The level reached before the kill is not paged again by the successor.
            assert len(notified_keys(receiver.requests, "/first")[key]) == 1
            assert len(notified_keys(receiver.requests)[key]) == 1
            found = await alert_of(poster.api, key)
            assert found is not None
            assert found["escalation_level"] == 1
