"""A WatchAlerts subscriber whose replica is SIGKILLed resumes on another replica from the last revision
it saw and misses nothing: what it saw on both equals what a subscriber on a third replica saw."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from pathlib import Path

from tests.integration.ha.cluster import ReplicaSet, eventually
from tests.integration.ha.watch import Event, Subscriber
from tests.integration.ha.workload import AlertStream, post_alerts

# A replica that is running follows the watch log within its poll interval (200 ms); a resume may
# arrive a little before it has read that far.
RESUME_WITHIN_S = 2.0


def changes_after(subscriber: Subscriber, revision: int) -> list[tuple[int, str, str]]:
    return [(e.revision, e.type, e.fingerprint) for e in subscriber.changes() if e.revision > revision]


def increasing(events: list[Event]) -> list[tuple[int, int]]:
    """Pairs of consecutive revisions that do not increase."""
    revisions = [e.revision for e in events]
    return [(a, b) for a, b in itertools.pairwise(revisions) if b <= a]


async def test_a_watcher_resumes_on_another_replica_and_misses_nothing(tmp_path: Path) -> None:
    async with ReplicaSet(tmp_path, 3) as replicas:
        a, b, c = replicas
        # An alert before the watchers start: their snapshots say from which revision they compare.
        r = await post_alerts(b.api, {"alertname": "HaSeed", "ha_key": "seed"})
        assert r.status_code == 200, r.text
        moving = Subscriber("moving")
        reference = Subscriber("reference")
        first = asyncio.create_task(moving.follow(a))
        ref_task = asyncio.create_task(reference.follow(b))
        resumed: asyncio.Task[str] | None = None
        try:
            await asyncio.wait_for(moving.connected.wait(), 10)
            await asyncio.wait_for(reference.connected.wait(), 10)
            stream = AlertStream(replicas, period=0.1, exclude={a.name})
            stream.start()
            await asyncio.sleep(3)
            seen_on_a = moving.last_revision
            await replicas.kill(a.index)
            ending = await asyncio.wait_for(first, 10)
            last = moving.last_revision
            assert last >= seen_on_a > 0, f"the watcher saw nothing on {a.name}: {moving.streams}"

            async def resume() -> bool:
                nonlocal resumed
                moving.connected.clear()
                task = asyncio.create_task(moving.follow(c, last))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(moving.connected.wait()), 1)
                if moving.connected.is_set():
                    resumed = task
                    return True
                if task.done():  # refused: its error is in moving.streams; try again
                    with contextlib.suppress(AssertionError):
                        task.result()
                    return False
                task.cancel()
                return False

            await eventually(resume, RESUME_WITHIN_S, f"a resume on {c.name} from revision {last}")
            assert resumed is not None
            await asyncio.sleep(3)
            await stream.stop()

            async def caught_up() -> bool:
                return moving.last_revision >= reference.last_revision > last

            await asyncio.sleep(1)  # the last posts' events reach the reference
            await eventually(caught_up, 10, "the resumed watcher to reach the reference's latest revision")
        finally:
            tasks = [first, ref_task, *([resumed] if resumed is not None else [])]
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        end = reference.last_revision
        on_c = sum(e.replica == c.name for e in moving.events)
        print(
            f"{stream.summary()}; {a.name} killed after revision {last} ({ending}); "
            f"streams: {moving.streams}, then resumed on {c.name} from {last} ({on_c} events there); "
            f"reference saw {len(reference.changes())} changes up to {end}"
        )

    start = max(moving.snapshot_revisions[0], reference.snapshot_revisions[0])
    theirs = [e for e in changes_after(reference, start) if e[0] <= end]
    ours = [e for e in changes_after(moving, start) if e[0] <= end]
    assert len(theirs) >= 20, f"too few changes to mean much: {len(theirs)}"
    assert any(e.replica == c.name for e in moving.events), "the resumed stream delivered nothing"
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    assert not missing, f"the moving watcher missed {len(missing)} changes: {missing[:20]}"
    assert not extra, f"the moving watcher saw {len(extra)} changes the reference did not: {extra[:20]}"
    assert ours == theirs, "the same changes in another order"
    assert not increasing(moving.changes()), f"revisions not increasing: {increasing(moving.changes())}"
    assert not increasing(reference.changes()), f"revisions not increasing: {increasing(reference.changes())}"
