"""A rule group is evaluated by one replica at a time, across a kill and a restart, and a dead replica's
groups go on being evaluated by the others: read from each replica's own record of its evaluations."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.integration.ha.cluster import LEASE_TTL_S, ReplicaSet
from tests.integration.ha.evaluation import (
    Evaluations,
    concurrent_evaluations,
    groups_in_every_partition,
    hand_overs,
    longest_gaps,
    marker_rule,
    marker_samples,
    union,
)
from tests.integration.ha.workload import import_rules, rule_file

GROUPS = groups_in_every_partition()
INTERVAL_S = 1.0
# Lease TTL, two seconds for the taker to notice, one interval to the next evaluation slot.
LONGEST_PAUSE_S = LEASE_TTL_S + 2 + INTERVAL_S


async def evaluations(replicas: ReplicaSet) -> Evaluations:
    return {r.name: await marker_samples(r.api) for r in replicas.alive}


async def test_no_group_is_evaluated_by_two_replicas_at_once(tmp_path: Path) -> None:
    async with ReplicaSet(tmp_path, 3) as replicas:
        await import_rules(replicas[0].api, rule_file({g: [marker_rule(g)] for g in GROUPS}))
        await asyncio.sleep(5)
        started = time.time()
        before_kill = await evaluations(replicas)
        killed = await replicas.kill(1)
        await asyncio.sleep(4)
        await replicas.start(1)
        restarted = time.time()
        await asyncio.sleep(6)
        ended = time.time()
        found = await evaluations(replicas)

    # The killed replica's store lost what it had not synced yet: what it answered before the kill counts too.
    found["r1"] = union(found["r1"], before_kill["r1"])
    changes = hand_overs(found)
    print(f"killed r1 at {killed:.3f}, started again at {restarted:.3f}")
    for group, seq in changes.items():
        print(f"{group}: " + " -> ".join(f"{r}@{t:.3f}" for t, r in seq))

    assert set(GROUPS) <= {g for per in found.values() for g in per}, f"groups never evaluated: {found}"
    assert any(before_kill["r1"].values()), f"r1 evaluated nothing before its kill: {before_kill}"
    assert any(found["r1"].get(g, [0])[-1] > restarted for g in GROUPS), (
        f"r1 evaluated no group after it was started again at {restarted:.3f}: {changes}"
    )
    overlaps = concurrent_evaluations(found, INTERVAL_S)
    assert not overlaps, "groups evaluated by two replicas at once:\n" + "\n".join(overlaps)
    gaps = {
        g: gap
        for g, gap in longest_gaps(found, started, ended - INTERVAL_S).items()
        if gap[0] > LONGEST_PAUSE_S
    }
    assert not gaps, f"groups not evaluated for longer than {LONGEST_PAUSE_S}s (length, from): {gaps}"
