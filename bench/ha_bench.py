"""High availability: three replicas on one PostgreSQL against a three-node Alertmanager cluster.

Prints one JSON document:
- alertmanager: the anchor. Three Alertmanager 0.25 nodes (bench/amcluster.py) meshed by gossip, each
  with its own storage, one webhook receiver; every alert is posted to every node, as Prometheus
  does. Once settled: alerts/s (the batches below, each to every node); then N groups (one alert
  each, group_wait 0s) arrive at a steady pace over the flow, and half-way through the node at
  position 0 (the one that sends: the others send only when the notification log shows nothing
  after cluster.peer-timeout times their position) is SIGKILLed and stays down. Counted at the
  receiver: groups never notified, groups notified more than once, how late groups were notified
  before the kill and from it on, and when pages resumed (the first notification of a group posted
  after the kill).
- replicas: the same N groups through three alerting-server replicas on a temporary PostgreSQL
  database, each group posted to one live replica (round-robin; on the next one when it fails), as a
  load balancer would. During the flow, SIGKILLs one at a time: kill a replica (the holder of the
  first pipeline partition's lease `pipeline/0`, then one without it, in turn), wait until a live
  replica holds each lease it held (GET /cluster), restart it, wait until it holds leases again, kill
  the next. Per kill: the takeover time (kill -> every lease of the killed replica held by a live
  one) and pages resumed.
- throughput, with 1 and with 3 replicas, each on a fresh database: rule evaluations/s (rules over
  rate() of 20 series each, never skipped, in groups evaluated every second, more than one replica
  keeps up with; the samples written to every replica, since the embedded store is per process)
  and alerts/s (POST /api/v2/alerts, batches of 100 new alerts from 4 clients, round-robin over the
  replicas). Alongside (bench/cpumeter.py), the cores used by each replica, by PostgreSQL's backends
  of the bench's database, by this client, by the rest of the machine, and PostgreSQL's commits/s
  and new sessions/s: `limited_by` says what ran out.
- vs_alertmanager: ratios where both measured the same thing (our pipeline/0 holder's kill against
  the kill of Alertmanager's sending node).

    .venv/bin/python bench/ha_bench.py [--quick] [--groups 200] [--kills 5] [--flow-seconds 50]
                                       [--lease-ttl 3s] [--rules 12000] [--window 8]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import amcluster
from cpumeter import CpuMeter

from alerting_common.durations import parse_duration
from tests.integration.server import ServerProcess
from tests.notify.receiver import Receiver
from tests.pg import ADMIN_URL, temporary_database

Json = dict[str, object]
# Replica id -> the leases it holds, name -> epoch.
Leases = dict[str, dict[str, int]]
REPLICAS = 3
BATCH = 100
CLIENTS = 4
SERIES = 2_000
# A rule reads the SERIES / SHARDS series of one shard.
SHARDS = 100
RULES_PER_GROUP = 50
# Rules per imported file: each import must end within the API's deadline.
IMPORT_CHUNK = 2_000
POLL_S = 0.05
# A group posted this long before the first kill, or later, may be hit by it: its delay is the
# kill's (a post just before may not have been sent yet).
KILL_MARGIN_S = 2.0
LATE_S = 1.0
TAKEOVER_LIMIT_S = 30.0
EVALUATIONS = "alerting_rule_evaluations_total"
MISSED = "alerting_rule_group_iterations_missed_total"


def log(message: str) -> None:
    print(f"ha_bench: {message}", file=sys.stderr, flush=True)


def _seconds(text: str) -> float:
    return parse_duration(text) / 1000


def _dist(values: Sequence[float]) -> Json | None:
    if not values:
        return None
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p90": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 3),
        "max": round(ordered[-1], 3),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 3)


def _metric(text: str, name: str) -> float:
    """A metric of a /metrics text, summed over its labels."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


# The lease of the first alert pipeline partition: the victim of every other kill.
PIPELINE_0 = "pipeline/0"


def _alert(name: str, **labels: str) -> Json:
    return {"labels": {"alertname": name, "job": "ha-bench", **labels}}


# --- the webhook side ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    group: str
    at: float
    key: str


def _notifications(receiver: Receiver, prefix: str) -> list[Notification]:
    out = []
    for request in receiver.requests:
        body = json.loads(request.body)
        group = str(body["groupLabels"]["alertname"])
        if group.startswith(prefix):
            out.append(Notification(group, request.received_at, request.headers.get("idempotency-key", "")))
    return sorted(out, key=lambda n: n.at)


@dataclass
class Flow:
    """Groups posted at a steady pace: when each was first posted and whether the system took it."""

    posted: dict[str, float] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    kills: list[float] = field(default_factory=list)

    async def run(self, names: Sequence[str], seconds: float, post: Callable[[str], Awaitable[bool]]) -> None:
        gap = seconds / len(names)
        began = time.monotonic()
        tasks = []

        async def one(name: str) -> None:
            if await post(name):
                self.accepted.add(name)

        for i, name in enumerate(names):
            await asyncio.sleep(max(0.0, began + i * gap - time.monotonic()))
            self.posted[name] = time.monotonic()
            tasks.append(asyncio.create_task(one(name)))
        await asyncio.gather(*tasks)

    def outcome(self, notes: Sequence[Notification]) -> Outcome:
        first: dict[str, float] = {}
        count: Counter[str] = Counter()
        keys: dict[str, set[str]] = defaultdict(set)
        for n in notes:
            first.setdefault(n.group, n.at)
            count[n.group] += 1
            keys[n.group].add(n.key)

        hit_from = min(self.kills, default=math.inf) - KILL_MARGIN_S
        delays = {g: first[g] - self.posted[g] for g in first if g in self.posted}
        resumed: list[float | None] = []
        for k in self.kills:
            after = [n.at for n in notes if self.posted.get(n.group, 0.0) > k]
            resumed.append(round(min(after) - k, 3) if after else None)
        return Outcome(
            groups=len(self.posted),
            not_accepted=len(self.posted) - len(self.accepted),
            lost=sorted(g for g in self.accepted if g not in first),
            notified_twice=sum(1 for c in count.values() if c > 1),
            extra_notifications=sum(c - 1 for c in count.values()),
            # A repeat with a key already seen is one a receiver honouring idempotency keys drops.
            twice_with_another_key=(
                sum(1 for ks in keys.values() if len(ks) > 1) if any(n.key for n in notes) else None
            ),
            delay_since_kill=[d for g, d in delays.items() if self.posted[g] >= hit_from],
            delay_before_kill=[d for g, d in delays.items() if self.posted[g] < hit_from],
            pages_resumed=resumed,
        )


@dataclass(frozen=True)
class Outcome:
    groups: int
    not_accepted: int
    lost: list[str]
    notified_twice: int
    extra_notifications: int
    twice_with_another_key: int | None
    delay_since_kill: list[float]
    delay_before_kill: list[float]
    pages_resumed: list[float | None]

    def json(self) -> Json:
        out: Json = {
            "groups": self.groups,
            "not_accepted": self.not_accepted,
            "lost": len(self.lost),
            "lost_groups": self.lost[:20],
            "notified_twice": self.notified_twice,
            "extra_notifications": self.extra_notifications,
            "delay_before_kill_s": _dist(self.delay_before_kill),
            "delay_since_kill_s": _dist(self.delay_since_kill),
            f"notified_over_{LATE_S:g}s_late": sum(
                1 for d in self.delay_before_kill + self.delay_since_kill if d > LATE_S
            ),
        }
        if self.twice_with_another_key is not None:
            out["notified_twice_with_another_key"] = self.twice_with_another_key
        return out

    @property
    def resumed(self) -> list[float]:
        return [r for r in self.pages_resumed if r is not None]


async def _wait_notified(
    receiver: Receiver, flow: Flow, prefix: str, timeout_s: float, then_s: float, not_before: float = 0.0
) -> None:
    """Until every accepted group was notified (or the timeout), then `then_s` longer and at least
    until `not_before` (time.monotonic()), for late repeats."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if {n.group for n in _notifications(receiver, prefix)} >= flow.accepted:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(max(then_s, not_before - time.monotonic()))


@dataclass(frozen=True)
class Rate:
    alerts: int
    seconds: float

    @property
    def per_s(self) -> int:
        return round(self.alerts / self.seconds)

    def json(self) -> Json:
        return {"alerts": self.alerts, "seconds": round(self.seconds, 2), "alerts_per_s": self.per_s}


async def _post_batches(send: Callable[[list[Json]], Awaitable[None]], seconds: float) -> Rate:
    """CLIENTS clients post batches of BATCH new alerts for `seconds`."""
    counter = itertools.count()
    done = 0

    async def client() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            batch = [_alert(f"T{i % 50}", instance=f"i{i}") for i in itertools.islice(counter, BATCH)]
            await send(batch)
            done += len(batch)

    began = time.monotonic()
    deadline = began + seconds
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return Rate(done, time.monotonic() - began)


# --- Alertmanager's cluster ----------------------------------------------------------------------


async def alertmanager(http: httpx.AsyncClient, args: argparse.Namespace) -> tuple[Outcome, Rate, Json]:
    """Alerts/s into the settled cluster, then the failover flow on it."""
    receiver = await Receiver().start()
    try:
        with amcluster.alertmanager_cluster(receiver.url("/hook"), args.am_peer_timeout) as am:
            settled = await am.ready(http)
            log(f"alertmanager: settled in {settled:.1f}s; alerts/s")
            pids = {f"alertmanager{i}": [p.pid] for i, p in enumerate(am.procs) if p is not None}
            meter = CpuMeter(ADMIN_URL, None, lambda: pids)

            async def send(batch: list[Json]) -> None:
                if not await am.post(http, batch):
                    raise RuntimeError("no Alertmanager node took a batch")

            await meter.start()
            rate = await _post_batches(send, args.window)
            alerts = rate.json()
            alerts["cpu_cores"] = await meter.stop()
            alerts["posted_to"] = "every node (3 requests per batch)"

            log("alertmanager: failover")
            sender = await am.sender(http)
            flow = Flow()

            async def kill() -> None:
                await asyncio.sleep(args.flow_seconds / 2)
                flow.kills.append(time.monotonic())
                am.kill(sender)

            async def post(name: str) -> bool:
                return await am.post(http, [_alert(name)])

            names = [f"G{i}" for i in range(args.groups)]
            await asyncio.gather(flow.run(names, args.flow_seconds, post), kill())
            peer_timeout = _seconds(args.am_peer_timeout)
            # A node at position p sends p x peer_timeout late: position 2 is waited out, for repeats.
            repeats_until = flow.kills[0] + 2 * peer_timeout + 2
            await _wait_notified(receiver, flow, "G", 2 * peer_timeout + 30, 2.0, repeats_until)
            outcome = flow.outcome(_notifications(receiver, "G"))
            failover = outcome.json()
            failover["pages_resumed_s"] = outcome.pages_resumed[0]
            failover["killed"] = "the node at position 0 (the one that sends)"
            out: Json = {
                "version": amcluster.version(),
                "nodes": amcluster.NODES,
                "peer_timeout": args.am_peer_timeout,
                "settle_s": round(settled, 1),
                "alerts": alerts,
                "failover": failover,
            }
            return outcome, rate, out
    finally:
        await receiver.close()


# --- our replicas --------------------------------------------------------------------------------


class Replica:
    def __init__(self, rid: str, database_url: str, workdir: Path, lease_ttl: str) -> None:
        self.id = rid
        workdir.mkdir()
        args = ["--log-level", "warning", "--cluster-replica-id", rid, "--cluster-lease-ttl", lease_ttl]
        self.process = ServerProcess(database_url, workdir, args)
        self.live = False
        self.kills = 0

    @property
    def url(self) -> str:
        return self.process.base_url

    @property
    def pid(self) -> int:
        assert self.process.proc is not None
        return self.process.proc.pid

    async def start(self) -> None:
        await asyncio.to_thread(self.process.start, 60.0)
        self.live = True

    def kill(self) -> None:
        self.live = False
        self.kills += 1
        self.process.kill()


@dataclass(frozen=True)
class Kill:
    replica: str
    held_leases: int
    held_pipeline: bool
    # Kill -> each lease it held is held by a live replica (GET /cluster); None: not within the limit.
    takeover_s: float | None
    # Restart -> it holds leases again.
    restarted_holds_leases_after_s: float | None


class Replicas:
    """N replicas of alerting-server on one database; a request goes to one live replica."""

    def __init__(self, http: httpx.AsyncClient, database_url: str, scratch: Path, n: int, ttl: str) -> None:
        self.http = http
        self.database = make_url(database_url).database
        self.members = [Replica(f"r{i + 1}", database_url, scratch / f"r{i + 1}", ttl) for i in range(n)]
        self._turn = itertools.count()

    def live(self) -> list[Replica]:
        return [r for r in self.members if r.live]

    def pick(self) -> Replica:
        live = self.live()
        return live[next(self._turn) % len(live)]

    async def start(self) -> None:
        await asyncio.gather(*(r.start() for r in self.members))

    def stop(self) -> None:
        for r in self.members:
            if r.process.proc is not None:
                r.process.kill()
            r.live = False

    def meter(self) -> CpuMeter:
        return CpuMeter(ADMIN_URL, self.database, lambda: {f"replica_{r.id}": [r.pid] for r in self.live()})

    async def post(self, body: list[Json], give_up_s: float = 60.0) -> bool:
        """Posted to the next live replica; on the one after when it fails (it may just have died)."""
        deadline = time.monotonic() + give_up_s
        while time.monotonic() < deadline:
            replica = self.pick()
            try:
                r = await self.http.post(f"{replica.url}/api/v2/alerts", json=body)
                if r.status_code == 200:
                    return True
                if r.status_code < 500:
                    raise RuntimeError(f"POST /api/v2/alerts answered {r.status_code}: {r.text[:300]}")
            except httpx.TransportError:
                pass
            await asyncio.sleep(POLL_S)
        return False

    async def leases(self) -> Leases:
        """GET /cluster of a live replica: the leases each replica holds, name -> epoch."""
        r = await self.http.get(f"{self.pick().url}/cluster")
        r.raise_for_status()
        return {
            replica["id"]: {lease["name"]: int(lease["epoch"]) for lease in replica.get("leases", [])}
            for replica in r.json()["replicas"]
        }

    async def setup_receiver(self, url: str, group_wait: str = "0s") -> None:
        api = self.members[0].url
        channel = {"name": "hook", "type": "webhook", "config": {"url": url}}
        (await self.http.post(f"{api}/channels", json=channel)).raise_for_status()
        routing = {
            "receiver": "hook",
            "group_by": ["alertname"],
            "group_wait": group_wait,
            "group_interval": "1h",
        }
        (await self.http.put(f"{api}/routing", json=routing)).raise_for_status()

    async def metric(self, name: str) -> dict[str, tuple[float, float]]:
        """A counter of each live replica (its /metrics, summed over its labels) and when it was read."""
        texts = {}
        for r in self.live():
            text = (await self.http.get(f"{r.url}/metrics")).text
            texts[r.id] = (text, time.monotonic())
        return {rid: (_metric(text, name), at) for rid, (text, at) in texts.items()}

    async def kill_one(self, victim: Replica, kill_times: list[float]) -> Kill:
        """Kills `victim` (noting when in `kill_times`), measures the takeover of its leases, restarts
        it and waits until it holds leases again."""
        held = (await self.leases()).get(victim.id, {})
        killed_at = time.monotonic()
        kill_times.append(killed_at)
        victim.kill()
        live = {r.id for r in self.live()}

        def taken_over(view: Leases) -> bool:
            holder = {name: rid for rid, names in view.items() for name in names}
            return all(holder.get(name) in live for name in held)

        takeover = await self._until(taken_over, killed_at)
        restarted_at = time.monotonic()
        await victim.start()
        rejoined = await self._until(lambda view: bool(view.get(victim.id)), restarted_at)
        return Kill(victim.id, len(held), PIPELINE_0 in held, takeover, rejoined)

    async def _until(self, condition: Callable[[Leases], bool], since: float) -> float | None:
        """Seconds from `since` until GET /cluster meets `condition`; None when not within the limit."""
        while time.monotonic() - since < TAKEOVER_LIMIT_S:
            try:
                if condition(await self.leases()):
                    return round(time.monotonic() - since, 3)
            except httpx.HTTPError as exc:
                log(f"GET /cluster: {exc!r}")
            await asyncio.sleep(POLL_S)
        return None

    async def balanced(self, timeout_s: float = 30.0) -> None:
        """Until every live replica holds leases (its share of the rule partitions)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            view = await self.leases()
            if all(view.get(r.id) for r in self.live()):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"the replicas did not share the leases within {timeout_s:g}s")

    async def victim(self, pipeline_holder: bool) -> Replica:
        view = await self.leases()
        holder = next((rid for rid, names in view.items() if PIPELINE_0 in names), None)
        live = self.live()
        if pipeline_holder:
            chosen = [r for r in live if r.id == holder]
            if chosen:
                return chosen[0]
        others = [r for r in live if r.id != holder] or live
        return min(others, key=lambda r: (r.kills, r.id))


@asynccontextmanager
async def replicas(http: httpx.AsyncClient, n: int, ttl: str) -> AsyncIterator[Replicas]:
    async with temporary_database("alerting_ha_bench") as url:
        with tempfile.TemporaryDirectory(prefix="alerting-ha-bench-") as scratch:
            cluster = Replicas(http, url, Path(scratch), n, ttl)
            try:
                await cluster.start()
                yield cluster
            finally:
                cluster.stop()


async def replicas_failover(
    http: httpx.AsyncClient, args: argparse.Namespace
) -> tuple[Outcome, list[float], Json]:
    """The failover flow; also the pages resumed after each kill of the pipeline lease's holder."""
    receiver = await Receiver().start()
    try:
        async with replicas(http, REPLICAS, args.lease_ttl) as cluster:
            await cluster.setup_receiver(receiver.url("/hook"))
            await cluster.balanced()
            flow = Flow()
            names = [f"G{i}" for i in range(args.groups)]
            kills: list[Kill] = []
            lead = min(3.0, args.flow_seconds / 10)
            spacing = (args.flow_seconds - lead) / args.kills

            async def kill_cycle() -> None:
                began = time.monotonic()
                for k in range(args.kills):
                    await asyncio.sleep(max(0.0, began + lead + k * spacing - time.monotonic()))
                    victim = await cluster.victim(pipeline_holder=k % 2 == 0)
                    kills.append(await cluster.kill_one(victim, flow.kills))
                    log(f"kill {k + 1}: {kills[-1]}")

            async def post(name: str) -> bool:
                return await cluster.post([_alert(name)])

            await asyncio.gather(flow.run(names, args.flow_seconds, post), kill_cycle())
            # A send whose claim ended with its replica is sent again once the claim's lease runs out.
            await _wait_notified(receiver, flow, "G", 60, 2 * _seconds(args.lease_ttl) + 2)
            outcome = flow.outcome(_notifications(receiver, "G"))
            takeovers = [k.takeover_s for k in kills if k.takeover_s is not None]
            out = outcome.json()
            out["takeover_s"] = _dist(takeovers)
            out["takeovers_not_seen"] = len(kills) - len(takeovers)
            out["pages_resumed_s"] = _dist(outcome.resumed)
            # The kills comparable to Alertmanager's: of the replica that was deciding what to send.
            pipeline = [
                r
                for k, r in zip(kills, outcome.pages_resumed, strict=True)
                if k.held_pipeline and r is not None
            ]
            out["pages_resumed_after_pipeline_holder_kill_s"] = _dist(pipeline)
            out["kills"] = [
                {**asdict(k), "pages_resumed_s": r} for k, r in zip(kills, outcome.pages_resumed, strict=True)
            ]
            return outcome, pipeline, out
    finally:
        await receiver.close()


def _rule_files(count: int) -> list[str]:
    """`count` rate() rules (never skipped: a range query changes with time alone), none firing."""
    files = []
    for begin in range(0, count, IMPORT_CHUNK):
        lines = ["groups:"]
        for g in range(begin, min(begin + IMPORT_CHUNK, count), RULES_PER_GROUP):
            lines += [f"  - name: ha{g // RULES_PER_GROUP}", "    interval: 1s", "    rules:"]
            for i in range(g, min(g + RULES_PER_GROUP, count)):
                expr = f'rate(reqs_total{{shard="s{i % SHARDS}"}}[5m]) > 100'
                lines += [f"      - alert: Ha{i}", f"        expr: '{expr}'"]
        files.append("\n".join(lines) + "\n")
    return files


async def _load_series(cluster: Replicas) -> None:
    """The same samples into every replica: each evaluates its rule groups over its own store."""
    now = int(time.time() * 1000)
    samples = [
        {
            "name": "reqs_total",
            "labels": {"host": f"h{i}", "shard": f"s{i % SHARDS}"},
            "value": base + i % 7,
            "timestamp": t,
        }
        for i in range(SERIES)
        for t, base in ((now - 60_000, 0), (now, 60))
    ]
    for r in cluster.members:
        (await cluster.http.post(f"{r.url}/samples", json={"samples": samples})).raise_for_status()


async def rule_throughput(http: httpx.AsyncClient, n: int, args: argparse.Namespace) -> Json:
    async with replicas(http, n, args.lease_ttl) as cluster:
        await _load_series(cluster)
        began = time.monotonic()
        for content in _rule_files(args.rules):
            r = await http.post(
                f"{cluster.members[0].url}/rules:import",
                content=content,
                headers={"Content-Type": "application/yaml"},
                timeout=600,
            )
            r.raise_for_status()
        imported = time.monotonic() - began
        while sum(v for v, _ in (await cluster.metric(EVALUATIONS)).values()) < args.rules:
            if time.monotonic() - began > 180:
                raise RuntimeError("the rules were not all evaluated within 180s")
            await asyncio.sleep(0.5)
        # Past the first round and the handing over of partitions to the replicas that joined.
        await asyncio.sleep(3)
        meter = cluster.meter()
        evals, missed = await cluster.metric(EVALUATIONS), await cluster.metric(MISSED)
        await meter.start()
        await asyncio.sleep(args.window)
        cpu = await meter.stop()
        evals_after, missed_after = await cluster.metric(EVALUATIONS), await cluster.metric(MISSED)

        def rate(before: tuple[float, float], after: tuple[float, float]) -> float:
            return (after[0] - before[0]) / (after[1] - before[1])

        by_replica = {rid: round(rate(evals[rid], evals_after[rid])) for rid in evals}
        return {
            "rules": args.rules,
            "import_s": round(imported, 1),
            "rule_evaluations_per_s": sum(by_replica.values()),
            "by_replica": by_replica,
            # Above 0: groups could not start every second, the replicas were saturated.
            "missed_group_iterations_per_s": round(sum(rate(missed[r], missed_after[r]) for r in missed), 1),
            "cpu_cores": cpu,
        }


async def alert_throughput(http: httpx.AsyncClient, n: int, args: argparse.Namespace) -> tuple[Rate, Json]:
    receiver = await Receiver().start()
    try:
        async with replicas(http, n, args.lease_ttl) as cluster:
            await cluster.setup_receiver(receiver.url("/hook"), group_wait="1s")

            async def send(batch: list[Json]) -> None:
                if not await cluster.post(batch, give_up_s=0.1):
                    raise RuntimeError("a batch was not taken")

            # One batch first, untimed: what the first request sets up once is not throughput.
            await send([_alert("T0", instance="warm-up")])
            meter = cluster.meter()
            await meter.start()
            rate = await _post_batches(send, args.window)
            out = rate.json()
            out["cpu_cores"] = await meter.stop()
            # How many pipeline partitions each replica applied the posts of.
            out["pipeline_partitions"] = {
                rid: sum(1 for n in names if n.startswith("pipeline/"))
                for rid, names in (await cluster.leases()).items()
            }
            return rate, out
    finally:
        await receiver.close()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description="HA benchmark: replicas on PostgreSQL vs an Alertmanager cluster"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer groups, kills and rules")
    parser.add_argument("--groups", type=int, help="groups posted in each failover flow (200; quick 60)")
    parser.add_argument("--kills", type=int, help="replicas SIGKILLed one after the other (5; quick 2)")
    parser.add_argument("--flow-seconds", type=float, help="how long each failover flow lasts (50; quick 20)")
    parser.add_argument("--rules", type=int, help="rules of the evaluation measurement (12000; quick 1000)")
    parser.add_argument("--window", type=float, help="seconds of each throughput measurement (8; quick 3)")
    parser.add_argument("--lease-ttl", default="3s", help="the replicas' --cluster-lease-ttl")
    parser.add_argument("--am-peer-timeout", help="Alertmanager's --cluster.peer-timeout (15s; quick 5s)")
    args = parser.parse_args()
    defaults = (
        {
            "groups": 60,
            "kills": 2,
            "flow_seconds": 20.0,
            "rules": 1000,
            "window": 3.0,
            "am_peer_timeout": "5s",
        }
        if args.quick
        else {
            "groups": 200,
            "kills": 5,
            "flow_seconds": 50.0,
            "rules": 12000,
            "window": 8.0,
            "am_peer_timeout": "15s",
        }
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    began = time.monotonic()
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=100)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        am_outcome, am_rate, am = await alertmanager(http, args)
        log(f"alertmanager: {am}")
        log("replicas: failover")
        outcome, pipeline_resumed, failover = await replicas_failover(http, args)
        log(f"replicas: {failover}")
        throughput: Json = {}
        rates: dict[int, Rate] = {}
        for n in (1, REPLICAS):
            log(f"{n} replica(s): rule evaluations/s")
            rules = await rule_throughput(http, n, args)
            log(f"{n} replica(s): alerts/s")
            rates[n], alerts = await alert_throughput(http, n, args)
            throughput[f"replicas_{n}"] = {"rules": rules, "alerts": alerts}
    resumed = statistics.median(pipeline_resumed) if pipeline_resumed else None
    am_resumed = am_outcome.pages_resumed[0]
    result: Json = {
        "benchmark": "ha",
        "parameters": {
            "groups": args.groups,
            "flow_seconds": args.flow_seconds,
            "kills": args.kills,
            "lease_ttl": args.lease_ttl,
            "rules": args.rules,
            "window_s": args.window,
            "since_kill": f"groups posted from {KILL_MARGIN_S:g}s before the first kill on",
        },
        "alertmanager": am,
        "replicas": {"count": REPLICAS, "failover": failover},
        "throughput": throughput,
        "vs_alertmanager": {
            # Alertmanager's killed node was the one sending; ours, the holder of pipeline/0.
            "pages_resumed_s": {
                "alerting_p50": resumed,
                "alertmanager": am_resumed,
                "ratio": _ratio(resumed, am_resumed),
            },
            "delay_since_kill_max_s": {
                "alerting": _round(max(outcome.delay_since_kill, default=None)),
                "alertmanager": _round(max(am_outcome.delay_since_kill, default=None)),
                "ratio": _ratio(
                    max(outcome.delay_since_kill, default=None),
                    max(am_outcome.delay_since_kill, default=None),
                ),
            },
            "lost": {"alerting": len(outcome.lost), "alertmanager": len(am_outcome.lost)},
            "notified_twice": {"alerting": outcome.notified_twice, "alertmanager": am_outcome.notified_twice},
            "alerts_per_s": {
                "alerting_3_replicas": rates[REPLICAS].per_s,
                "alertmanager_3_nodes": am_rate.per_s,
                "ratio": _ratio(rates[REPLICAS].per_s, am_rate.per_s),
            },
        },
        "seconds": round(time.monotonic() - began, 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
