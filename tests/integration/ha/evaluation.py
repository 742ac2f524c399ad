"""Which replica evaluated which rule group, and when, from the replicas' own time-series stores.

Each group has a recording rule `ha_eval_marker{group="<name>"} = vector(1)`. A replica writes the
recorded sample into its own embedded store, at the evaluation's timestamp, only when it evaluates the
group itself: the samples in replica K's store are the evaluations K made.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Any

import httpx

from alerting_server.cluster.membership import partition_of

Json = dict[str, Any]
# replica -> group -> sorted evaluation timestamps (seconds)
Evaluations = dict[str, dict[str, list[float]]]


# cluster.rule_partitions of every replica (the default): leases rules/0 .. rules/15.
RULE_PARTITIONS = 16


def groups_in_every_partition() -> list[str]:
    """Group names, one in each rule partition: whichever partitions a replica holds, it evaluates
    groups of them. Eight names taken as they came lay in eight partitions, and a replica that held
    four of the other eight (one time in 26) evaluated none, failing a test that counts on it."""
    by_partition: dict[int, str] = {}
    for i in itertools.count():
        name = f"ha-g{i}"
        by_partition.setdefault(partition_of(name, RULE_PARTITIONS), name)
        if len(by_partition) == RULE_PARTITIONS:
            return [by_partition[p] for p in range(RULE_PARTITIONS)]
    raise AssertionError("unreachable")


def marker_rule(group: str) -> Json:
    return {"record": "ha_eval_marker", "expr": "vector(1)", "labels": {"group": group}}


async def marker_samples(api: httpx.AsyncClient) -> dict[str, list[float]]:
    """Group -> timestamps (seconds) of the marker samples in this replica's own store."""
    r = await api.get("/api/v1/query", params={"query": "ha_eval_marker[10m]"})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["resultType"] == "matrix", data
    found: dict[str, list[float]] = {}
    for series in data["result"]:
        found.setdefault(series["metric"]["group"], []).extend(
            float(t) for t, v in series["values"] if v == "1"
        )
    return {g: sorted(ts) for g, ts in found.items()}


def union(a: dict[str, list[float]], b: dict[str, list[float]]) -> dict[str, list[float]]:
    """Two reads of one replica's evaluations together (before and after a kill lost its unsynced end)."""
    return {g: sorted(set(a.get(g, [])) | set(b.get(g, []))) for g in set(a) | set(b)}


def concurrent_evaluations(evaluations: Evaluations, interval_s: float) -> list[str]:
    """The groups two replicas evaluated at once, one line per group and pair of replicas.

    "At once": two evaluations of replica A at most 1.5 intervals apart mean A held the group over
    that span; an evaluation of replica B within it (ends included: both at one slot) means both did.
    A clean hand-over (A's last evaluation, then B's first) never puts B's evaluation between two of
    A's; a replica that kept evaluating after another took the group over always does.
    """
    found: dict[tuple[str, str, str], dict[str, set[float]]] = {}
    groups = sorted({g for per in evaluations.values() for g in per})
    for group in groups:
        per = {replica: ts[group] for replica, ts in evaluations.items() if ts.get(group)}
        for a, a_times in per.items():
            for b, b_times in per.items():
                if a == b:
                    continue
                for t1, t2 in itertools.pairwise(a_times):
                    if t2 - t1 > 1.5 * interval_s:
                        continue
                    lo, hi = bisect.bisect_left(b_times, t1), bisect.bisect_right(b_times, t2)
                    if lo < hi:
                        key = (group, min(a, b), max(a, b))
                        times = found.setdefault(key, {a: set(), b: set()})
                        times[a].update((t1, t2))
                        times[b].update(b_times[lo:hi])
    return [
        f"{group}: {a} and {b} both evaluated it: {a} at {_seconds(times[a])}, {b} at {_seconds(times[b])}"
        for (group, a, b), times in found.items()
    ]


def _seconds(times: set[float]) -> list[str]:
    return [f"{t:.3f}" for t in sorted(times)]


def longest_gaps(evaluations: Evaluations, since: float, until: float) -> dict[str, tuple[float, float]]:
    """Group -> (length, start) of its longest stretch without any replica's evaluation in [since, until]."""
    groups = sorted({g for per in evaluations.values() for g in per})
    gaps = {}
    for group in groups:
        times = sorted(t for per in evaluations.values() for t in per.get(group, []) if since <= t <= until)
        points = [since, *times, until]
        length, start = max((b - a, a) for a, b in itertools.pairwise(points))
        gaps[group] = (length, start)
    return gaps


def hand_overs(evaluations: Evaluations) -> dict[str, list[tuple[float, str]]]:
    """Group -> (time, replica) of each change of evaluating replica, for the test's printout."""
    groups = sorted({g for per in evaluations.values() for g in per})
    changes: dict[str, list[tuple[float, str]]] = {}
    for group in groups:
        merged = sorted((t, r) for r, per in evaluations.items() for t in per.get(group, []))
        out: list[tuple[float, str]] = []
        for t, r in merged:
            if not out or out[-1][1] != r:
                out.append((t, r))
        changes[group] = out
    return changes
