"""Two replicas of three SIGKILLed, one after the other, while rule groups fire and alerts are posted to
every replica: nothing is lost, a duplicate only repeats the idempotency key of the notification it
duplicates, and the dead replica's leases go to the living within the lease TTL and two seconds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.integration.ha.cluster import LEASE_TTL_S, ReplicaSet, eventually
from tests.integration.ha.receiver import WebhookReceiver
from tests.integration.ha.workload import (
    AlertStream,
    firing_rule,
    hook_channel,
    import_rules,
    notified_keys,
    rule_file,
)

GROUPS = [f"ha-g{i}" for i in range(8)]
TAKEOVER_S = LEASE_TTL_S + 2


async def kill_and_watch_takeover(replicas: ReplicaSet, observer: int) -> tuple[str, float]:
    """Kills the replica that owns the first alert pipeline partition (pipeline/0, which prunes the watch
    log too); returns its name and how long until live replicas held every lease it had held, by GET
    /cluster every 100 ms."""
    before = await replicas.holders(observer)
    owner = before.get("pipeline/0")
    assert owner is not None, f"nobody holds the lease of pipeline partition 0: {before}"
    victim = next(r for r in replicas if r.name == owner[0])
    held = {name: epoch for name, (holder, epoch) in before.items() if holder == victim.name}
    killed = time.monotonic()
    await replicas.kill(victim.index)
    live = {r.name for r in replicas.alive}
    watcher = next(r.index for r in replicas.alive)
    latest: dict[str, tuple[str, int]] = {}

    async def taken_over() -> bool:
        nonlocal latest
        latest = await replicas.holders(watcher)
        return all(name in latest and latest[name][0] in live for name in held)

    try:
        await eventually(taken_over, TAKEOVER_S + 5, f"live replicas to take {victim.name}'s leases")
    except AssertionError:
        raise AssertionError(f"{victim.name} held {held}; after its kill the leases are {latest}") from None
    took = time.monotonic() - killed
    print(f"killed {victim.name} holding {sorted(held)}: taken over after {took:.2f}s")
    return victim.name, took


async def test_two_kills_under_load_lose_no_alert(tmp_path: Path) -> None:
    with WebhookReceiver() as receiver:
        async with ReplicaSet(tmp_path, 3, "rules:\n  min_interval: 200ms\n") as replicas:
            receiver.processes = replicas.pids
            await hook_channel(replicas[0].api, receiver.url())
            await import_rules(replicas[0].api, rule_file({g: [firing_rule(g)] for g in GROUPS}))
            stream = AlertStream(replicas, period=0.2)
            stream.start()
            takeovers = []
            try:
                await asyncio.sleep(4)
                takeovers.append(await kill_and_watch_takeover(replicas, 0))
                await asyncio.sleep(4)
                observer = replicas.alive[0].index
                takeovers.append(await kill_and_watch_takeover(replicas, observer))
                await asyncio.sleep(3)
            finally:
                await stream.stop()
            print(stream.summary())
            expected = set(GROUPS) | set(stream.accepted)
            assert len(stream.accepted) >= 50, (
                f"too few alerts were accepted to mean much: {stream.summary()}"
            )

            async def all_notified() -> bool:
                return expected <= set(notified_keys(receiver.requests))

            try:
                await eventually(all_notified, 30, "every rule alert and accepted alert to be notified")
            except AssertionError:
                lost = sorted(expected - set(notified_keys(receiver.requests)))
                posted = {p.key: p for p in stream.posted}
                raise AssertionError(
                    f"{len(lost)} never notified: {lost}; how they were posted: "
                    f"{[posted.get(k) for k in lost[:20]]}"
                ) from None
            await asyncio.sleep(2)  # time for a late duplicate to show up too

        notifications = notified_keys(receiver.requests)
        duplicates = {k: n for k, n in notifications.items() if len(n) > 1}
        print(
            f"{len(receiver.requests)} webhook requests for {len(notifications)} alerts; "
            f"{len(duplicates)} alerts notified more than once: "
            + ", ".join(f"{k} x{len(n)} by {[r.sender for r in n]}" for k, n in sorted(duplicates.items()))
        )
        new_keys = {
            k: [(r.key, r.sender, round(r.at, 3)) for r in n]
            for k, n in duplicates.items()
            if len({r.key for r in n}) > 1
        }
        assert not new_keys, f"notified again under a new idempotency key (a second notification): {new_keys}"
        for victim, took in takeovers:
            assert took <= TAKEOVER_S, (
                f"{victim}'s leases were taken over after {took:.2f}s (> {TAKEOVER_S}s)"
            )
