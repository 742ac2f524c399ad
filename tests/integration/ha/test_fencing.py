"""A replica cut off from the database for three lease TTLs stops its work within the TTL (no evaluation,
no delivery), the others take it over and go on, and when the database comes back it joins again.

Two kinds of cut: connections reset and refused (the database went away), and a database that stops
answering without a word (a network partition), where only the replica's own clock can tell it to stop.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.integration.ha.cluster import LEASE_TTL_S, ReplicaSet, eventually
from tests.integration.ha.evaluation import (
    concurrent_evaluations,
    groups_in_every_partition,
    hand_overs,
    marker_rule,
    marker_samples,
)
from tests.integration.ha.receiver import WebhookReceiver
from tests.integration.ha.workload import AlertStream, hook_channel, import_rules, notified_keys, rule_file

GROUPS = groups_in_every_partition()
INTERVAL_S = 1.0
CUT_S = 3 * LEASE_TTL_S
# Sample timestamps are the evaluation's clock reading in milliseconds: the slack of that rounding.
CLOCK_SLACK_S = 0.05


@pytest.mark.parametrize("partition", ["reset", "silent"])
async def test_a_replica_cut_from_the_database_stops_and_rejoins(tmp_path: Path, partition: str) -> None:
    with WebhookReceiver() as receiver:
        async with ReplicaSet(tmp_path, 3) as replicas:
            receiver.processes = replicas.pids
            await hook_channel(replicas[0].api, receiver.url())
            await import_rules(replicas[0].api, rule_file({g: [marker_rule(g)] for g in GROUPS}))
            # A slow receiver and a stream of alerts across the cut: r1 has deliveries in flight when it
            # loses the database.
            receiver.delay_s = 0.2
            before = AlertStream(replicas, period=0.2, prefix="before")
            before.start()
            await asyncio.sleep(4)
            held = [n for n, (holder, _) in (await replicas.holders(0)).items() if holder == "r1"]
            r1_groups = [
                g for g, ts in (await marker_samples(replicas[1].api)).items() if ts[-1] > time.time() - 2
            ]
            assert held, "r1 held no lease before the cut"
            assert r1_groups, "r1 evaluated no group before the cut"
            # Posted to the replicas that still have the database: r1 cannot take alerts now.
            during = AlertStream(replicas, period=0.2, prefix="during", exclude={"r1"})
            during.start()
            await before.stop()
            cut = time.time()
            if partition == "reset":
                replicas.cut(1)
            else:
                replicas.stall(1)

            async def taken_over() -> bool:
                now = await replicas.holders(0)
                return all(n in now and now[n][0] != "r1" for n in held)

            took = await eventually(taken_over, LEASE_TTL_S + 5, f"r1's leases {held} to be taken over")
            await asyncio.sleep(max(0.0, cut + CUT_S - time.time()))
            await during.stop()
            restored = time.time()
            if partition == "reset":
                replicas.restore(1)
            else:
                replicas.resume(1)

            async def all_notified() -> bool:
                return set(before.accepted + during.accepted) <= set(notified_keys(receiver.requests))

            await eventually(all_notified, 20, "the alerts posted before and during the cut to be notified")

            async def heartbeating() -> bool:
                rows = {r["id"]: r for r in await replicas.cluster(0)}
                return "r1" in rows and int(rows["r1"]["last_heartbeat"]) > restored * 1000

            await eventually(heartbeating, 5, "r1 to heartbeat again after the database came back")

            async def holding() -> bool:
                return any(holder == "r1" for holder, _ in (await replicas.holders(0)).values())

            await eventually(holding, 15, "r1 to hold leases again")
            await asyncio.sleep(2)
            found = {r.name: await marker_samples(r.api) for r in replicas}

        print(f"cut r1 at {cut:.3f} for {CUT_S}s; its leases {held} were taken over after {took:.2f}s")
        for group, seq in hand_overs(found).items():
            print(f"{group}: " + " -> ".join(f"{r}@{t:.3f}" for t, r in seq))
        print(f"before: {before.summary()}; during: {during.summary()}")
        senders = {r.sender for r in receiver.requests}
        assert None not in senders, f"the receiver could not tell which replica sent some requests: {senders}"
        assert any(r.sender == "r1" and r.at < cut for r in receiver.requests), "r1 delivered nothing before"
        assert len(during.accepted) >= 10, f"too few alerts were accepted during the cut: {during.summary()}"
        # Every finding at once: each says something different about what failed.
        problems = []
        if took > LEASE_TTL_S + 2:
            problems.append(f"r1's leases were taken over {took:.2f}s after the cut")
        late = {
            g: late
            for g, ts in found["r1"].items()
            if (late := [t for t in ts if cut + LEASE_TTL_S + CLOCK_SLACK_S < t < restored])
        }
        if late:
            problems.append(f"r1 evaluated more than {LEASE_TTL_S}s after it lost the database: {late}")
        problems += [
            f"evaluated by two replicas at once: {o}" for o in concurrent_evaluations(found, INTERVAL_S)
        ]
        for group in r1_groups:
            if not [t for r in ("r0", "r2") for t in found[r].get(group, []) if cut < t < restored]:
                problems.append(f"nobody evaluated r1's group {group} while r1 was cut off")
        sent_by_r1 = [
            (r.key, round(r.at, 3))
            for r in receiver.requests
            if r.sender == "r1" and cut + LEASE_TTL_S < r.at < restored
        ]
        if sent_by_r1:
            problems.append(f"r1 delivered more than {LEASE_TTL_S}s after it lost the database: {sent_by_r1}")
        assert not problems, "\n".join(problems)
