"""Two replicas in one process on one PostgreSQL database: each with its own store connection, cluster
node and alert pipeline, as two servers have them. The real-process tests are in tests/integration/ha/."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass, field

import pytest

from alerting_server.alerts.fingerprint import fingerprint
from alerting_server.alerts.watch import WatchHub
from alerting_server.clock import SystemClock
from alerting_server.cluster.follower import WatchFollower
from alerting_server.cluster.membership import pipeline_lease
from alerting_server.cluster.node import ClusterNode
from alerting_server.model import (
    AlertState,
    ChannelType,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    InhibitRule,
    Layer,
    Override,
    PostedAlert,
    Route,
    Schedule,
    User,
)
from alerting_server.model.fence import LeaseLost
from alerting_server.model.inbox import InboxKind
from alerting_server.pagination import PageRequest
from alerting_server.pipeline import AlertPipeline
from alerting_server.pipeline.cluster import posted_to_json
from alerting_server.store import Store
from alerting_server.tasks import cancel
from tests.pg import temporary_database

TTL_MS = 1500


@dataclass
class FakeRules:
    """The rule manager's side of the cluster: which partitions it was told to run."""

    owned: set[int] = field(default_factory=set)

    async def own(self, partitions: Collection[int]) -> None:
        self.owned = set(partitions)

    async def reload(self, groups: Collection[str] | None = None) -> None:
        return None


@dataclass
class Replica:
    name: str
    store: Store
    node: ClusterNode
    pipeline: AlertPipeline
    rules: FakeRules

    def owns(self, partition: int) -> bool:
        """Whether this replica runs the steps of this pipeline partition (and holds its lease)."""
        return partition in self.pipeline.partitions and self.node.pipeline_fence([partition]) is not None

    async def die(self) -> None:
        """As SIGKILL: the work stops, nothing is given back, the leases run out."""
        membership = self.node.membership
        assert membership is not None
        await cancel(membership._task, membership._watchdog, membership._work, *self.node._tasks)
        await self.pipeline.stop()
        await self.node.notifications.stop()
        await self.node.follower.stop()
        await self.store.close()


async def start_replica(url: str, name: str) -> Replica:
    store = await Store.open(url)
    await store.start(int(time.time() * 1000))
    hub = WatchHub()
    node = ClusterNode(
        store,
        WatchFollower(store.watch_log, hub, 100, 10_000),
        replica=name,
        started_at=int(time.time() * 1000),
        ttl_ms=TTL_MS,
        partitions=4,
        poll_ms=100,
        pipeline_partitions=4,
    )
    pipeline = AlertPipeline(store, SystemClock(), hub, cluster=node)
    rules = FakeRules()
    node.attach(pipeline, rules, lambda _: None)
    await pipeline.start()
    await node.follow()
    await node.join(f"{name}:1", f"{name}:2")
    return Replica(name, store, node, pipeline, rules)


async def stop(*replicas: Replica) -> None:
    """In order: each gives its leases back, then every one closes."""
    for r in replicas:
        await r.node.stop()
    for r in replicas:
        await r.pipeline.stop()
        await r.store.close()


@pytest.fixture
async def pg() -> AsyncIterator[str]:
    async with temporary_database() as url:
        yield url


async def eventually(check: Callable[[], object], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def posted(name: str) -> PostedAlert:
    return PostedAlert(labels={"alertname": name}, annotations={})


async def test_a_post_on_either_replica_is_read_there_at_once_and_watched_in_one_order(pg: str) -> None:
    a = await start_replica(pg, "a")
    b = await start_replica(pg, "b")
    try:
        await eventually(lambda: a.rules.owned and b.rules.owned and not a.rules.owned & b.rules.owned)
        assert a.rules.owned | b.rules.owned == {0, 1, 2, 3}
        # The pipeline partitions are shared the same way: each runs the steps of its half.
        await eventually(
            lambda: (
                len(a.pipeline.partitions) == 2
                and a.pipeline.partitions | b.pipeline.partitions == {0, 1, 2, 3}
            )
        )
        [fp] = await b.pipeline.post([posted("OnFollower")])
        # Read your own write on the replica that took it; the other replica reads it once it has
        # followed the watch log (at once only when it owns the alert's partition).
        assert b.pipeline.get(fp).state is AlertState.FIRING
        await eventually(lambda: fp in {alert.fingerprint for alert in a.pipeline.alerts()})
        assert a.pipeline.get(fp).labels == {"alertname": "OnFollower"}
        await a.pipeline.post([posted("OnLeader")])
        await eventually(lambda: len(b.pipeline.alerts()) == 2)
        await eventually(lambda: a.pipeline.hub.revision == b.pipeline.hub.revision)
        first_a, _sub_a = a.pipeline.hub.subscribe(1, lambda: [])
        first_b, _sub_b = b.pipeline.hub.subscribe(1, lambda: [])
        assert [(e.revision, e.alert.fingerprint) for e in first_a] == [
            (e.revision, e.alert.fingerprint) for e in first_b
        ]
    finally:
        await stop(b, a)


async def test_a_dead_leaders_pipeline_is_taken_over_with_its_alerts_and_its_late_write_refused(
    pg: str,
) -> None:
    a = await start_replica(pg, "a")
    b = await start_replica(pg, "b")
    try:
        await eventually(lambda: len(a.pipeline.partitions) == 2 and len(b.pipeline.partitions) == 2)
        # A partition of the first replica's: the second takes it over.
        partition = next(k for k in a.pipeline.partitions)
        name = next(
            f"Before{i}"
            for i in range(1000)
            if a.pipeline.partition(posted(f"Before{i}").labels) == partition
        )
        [fp] = await b.pipeline.post([posted(name)])
        old_fence = a.node.pipeline_fence([partition])
        assert old_fence is not None
        await a.die()
        started = time.monotonic()
        await eventually(lambda: b.owns(partition), within=TTL_MS / 1000 * 3)
        assert time.monotonic() - started < TTL_MS / 1000 * 2
        assert b.pipeline.get(fp).labels == {"alertname": name}
        [fp2] = await b.pipeline.post([posted("After")])
        assert b.pipeline.get(fp2).state is AlertState.FIRING
        # A write the dead leader had on its way, under its old epoch: the database refuses it.
        with pytest.raises(LeaseLost):
            await b.store.inbox.add(
                InboxKind.POSTED,
                [(partition, {"now": 1, "alerts": []})],
                1,
                old_fence,
            )
        lease = pipeline_lease(partition)
        leases = {row.name: row for row in await b.store.leases.all()}
        assert leases[lease].holder == "b"
        assert leases[lease].epoch == old_fence.leases[lease] + 1
        await eventually(lambda: b.pipeline.partitions == {0, 1, 2, 3}, within=TTL_MS / 1000 * 2)
        await eventually(lambda: b.rules.owned == {0, 1, 2, 3}, within=TTL_MS / 1000 * 4)
    finally:
        await stop(b)


async def test_an_ack_on_a_follower_is_decided_by_the_leader_and_read_back(pg: str) -> None:
    a = await start_replica(pg, "a")
    b = await start_replica(pg, "b")
    try:
        [fp] = await a.pipeline.post([posted("Ackable")])
        await eventually(lambda: fp in {x.fingerprint for x in b.pipeline.alerts()})
        acked = await b.pipeline.acknowledge(fp, "ana", "looking")
        assert acked.ack is not None
        assert acked.ack.by == "ana"
        assert a.pipeline.get(fp).ack is not None
        unacked = await b.pipeline.unacknowledge(fp, "ana")
        assert unacked.ack is None
    finally:
        await stop(b, a)


async def test_an_alert_stored_for_another_partition_is_let_go_and_its_owner_adopts_it(pg: str) -> None:
    """A replica routing by a configuration the others have not read yet stores a post for a partition
    that is not the alert's: the replica running that partition commits it and lets it go; the one
    running the alert's partition adopts it, so that its steps (escalation, acknowledgements) run."""
    a = await start_replica(pg, "a")
    b = await start_replica(pg, "b")
    try:
        await a.store.routing.put(Route(receiver="", group_by=("alertname",)), int(time.time() * 1000))
        candidates = [posted(f"Misrouted{i}") for i in range(100)]
        await eventually(
            lambda: (
                len(a.pipeline.partitions) == 2
                and a.pipeline.partitions | b.pipeline.partitions == {0, 1, 2, 3}
                and len({r.pipeline.partition(p.labels) for p in candidates for r in (a, b)}) == 4
            )
        )
        alert = next(p for p in candidates if a.pipeline.partition(p.labels) in b.pipeline.partitions)
        fp = fingerprint(alert.labels)
        now = int(time.time() * 1000)
        stored = (min(a.pipeline.partitions), {"now": now, "alerts": [posted_to_json(alert)]})
        await a.store.inbox.add(InboxKind.POSTED, [stored], now)
        a.pipeline.wake()
        # The steps of one replica only hold its partitions' alerts.
        await eventually(
            lambda: fp in b.pipeline._live.by_fingerprint and fp not in a.pipeline._live.by_fingerprint
        )
        acked = await a.pipeline.acknowledge(fp, "ana")
        assert acked.ack is not None
        # The owner applies the acknowledgement. The call above waits for that only up to a bound
        # (past a takeover), which a loaded machine can outlast: the owner still applies it.
        await eventually(lambda: b.pipeline.get(fp).ack is not None, within=30.0)
    finally:
        await stop(b, a)


async def test_an_inbox_item_that_cannot_be_read_is_dropped_and_the_pipeline_goes_on(pg: str) -> None:
    a = await start_replica(pg, "a")
    try:
        alert = posted("AfterBadItem")
        bad = (a.pipeline.partition(alert.labels), {"now": 1, "alerts": [{"labels": 7}]})
        await a.store.inbox.add(InboxKind.POSTED, [bad], 1)
        [fp] = await a.pipeline.post([alert])
        assert a.pipeline.get(fp).labels == {"alertname": "AfterBadItem"}
        assert await a.store.inbox.take(range(4), 10) == []
    finally:
        await stop(a)


async def test_people_and_schedules_written_on_a_follower_page_through_the_leaders_escalation(
    pg: str,
) -> None:
    a = await start_replica(pg, "a")
    b = await start_replica(pg, "b")
    try:
        now = int(time.time() * 1000)
        users = {}
        for name in ("ana", "cy"):
            hook = ContactMethod(ChannelType.WEBHOOK, f"http://{name}.example.org/hook")
            user = User(name=name, email=f"{name}@example.org", time_zone="UTC", contact_methods=(hook,))
            users[name] = await b.store.users.create(user, now)
        layer = Layer(name="l", start=now - 1000, turn_length=3_600_000, users=(users["ana"].id,))
        schedule = await b.store.schedules.create(Schedule("primary", "UTC", (layer,)), now)
        levels = (
            EscalationLevel(0, (), schedules=("primary",)),
            EscalationLevel(1500, (), schedules=("primary",)),
        )
        policy = await b.store.escalation_policies.create(EscalationPolicy("p", levels), now)
        await b.store.routing.put(
            Route(receiver="cy-webhook", group_wait=3_600_000, escalation_policy_id=policy.id), now
        )
        # The leader hears of the routing tree (and so of everything written before it).
        [probe] = await a.pipeline.post([posted("Probe")])
        await eventually(lambda: a.pipeline.receivers(a.pipeline.get(probe)) == ["cy-webhook"])
        # An override written on the follower: the leader pages cy at the level reached after it.
        await b.store.schedules.add_override(
            Override(users["cy"].id, now, now + 3_600_000, schedule_id=schedule.id), now
        )
        await b.pipeline.post([posted("Paging")])
        names = {m.channel_id: u.name for u in users.values() for m in u.contact_methods}

        async def paged() -> list[tuple[str, int]]:
            page = await a.store.deliveries.list(PageRequest(size=100))
            out = []
            for d in page.items:
                payload = await a.store.deliveries.payload(d.id)
                if payload.get("reason") == "escalation":
                    out.append((names[d.channel_id], int(payload["escalation_level"])))
            return out

        deadline = time.monotonic() + 10
        while ("cy", 1) not in await paged():
            assert time.monotonic() < deadline, await paged()
            await asyncio.sleep(0.1)
    finally:
        await stop(b, a)


async def test_an_alert_of_one_owners_partition_inhibits_an_alert_of_the_others(pg: str) -> None:
    a = await start_replica(pg, "a")
    b = await start_replica(pg, "b")
    try:
        now = int(time.time() * 1000)
        await a.store.routing.put(Route(receiver="", group_by=("alertname",)), now)
        await a.store.inhibit_rules.create(InhibitRule(('alertname="Source"',), ('severity="low"',)), now)
        await eventually(lambda: len(a.pipeline.partitions) == 2 and len(b.pipeline.partitions) == 2)
        # Every replica read the tree: alerts are spread by alertname now.
        names = [f"Target{i}" for i in range(200)]
        await eventually(
            lambda: len({r.pipeline.partition({"alertname": n}) for n in names for r in (a, b)}) == 4
        )
        source = PostedAlert(labels={"alertname": "Source"}, annotations={})
        owner, other = (a, b) if a.pipeline.partition(source.labels) in a.pipeline.partitions else (b, a)
        target_name = next(
            n for n in names if other.pipeline.partition({"alertname": n}) in other.pipeline.partitions
        )
        target = PostedAlert(labels={"alertname": target_name, "severity": "low"}, annotations={})
        [target_fp] = await owner.pipeline.post([target])
        [source_fp] = await other.pipeline.post([source])

        def inhibited_by(by: tuple[str, ...]) -> Callable[[], bool]:
            return lambda: all(r.pipeline.get(target_fp).inhibited_by == by for r in (a, b))

        await eventually(inhibited_by((source_fp,)))
        # The source resolves: the other owner's target is no longer inhibited.
        ended = PostedAlert(labels=source.labels, annotations={}, ends_at=int(time.time() * 1000) - 1)
        await other.pipeline.post([ended])
        await eventually(inhibited_by(()))
    finally:
        await stop(b, a)
