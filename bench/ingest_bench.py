"""Alert ingest through the Alertmanager API, the real server's process against Alertmanager's in the
same run: alerts/s accepted.

Prints one JSON document. Four cases: batches of 100 alerts and one alert per request, each with 500
groups and with 20,000 (a group is an alertname; both routes group by alertname, group_wait 1s,
group_interval 1m, to a webhook). Four concurrent clients each. In each case the same alerts, posted
by the same client code, go first to a fresh Alertmanager 0.25 (bench/amcluster.py: one node,
clustering off, its own storage) and then to a fresh server with a webhook channel, each side with
its own webhook receiver in a process of its own. While the alerts are posted: the cores used by that
side's process, its receiver, this process (the clients) and the rest of the machine
(bench/cpumeter.py; `limited_by` says what ran out). Afterwards: the alerts each side holds (none of
ours may be lost), the notifications our server queued in its outbox and their delivery statuses,
and for both sides the webhook requests received, waiting (at most DRAIN_LIMIT_S) until every group
was notified and the receiver has been quiet for QUIET_S. drain_seconds runs from the last post
answered to the last notification received (group_wait included; 0 when it came before). The ratio
is ours / Alertmanager's alerts/s.

    .venv/bin/python bench/ingest_bench.py [--quick]    (--quick: a tenth of the alerts and groups)
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import amcluster
from cpumeter import CpuMeter
from serverproc import Running, running_server

from tests.notify.receiver import Receiver

CLIENTS = 4
GROUP_WAIT = "1s"
GROUP_INTERVAL = "1m"
QUIET_S = 2.0
DRAIN_LIMIT_S = 300.0
SYNC_S = 0.05
Json = dict[str, object]


@dataclass(frozen=True)
class Case:
    name: str
    bodies: list[list[Json]]
    groups: int

    @property
    def alerts(self) -> int:
        return sum(len(b) for b in self.bodies)


def _alert(name: str, instance: int) -> Json:
    return {
        "labels": {"alertname": name, "instance": f"host-{instance}", "job": "bench"},
        "annotations": {"summary": name},
    }


def _cases(scale: int) -> list[Case]:
    few, many = 500 // scale, 20_000 // scale
    # 20 alerts a group, their groups interleaved, so that every batch touches 100 groups.
    spread = [_alert(f"Alert{i % few}", i) for i in range(few * 20)]
    one_each = [_alert(f"Group{i}", 0) for i in range(many)]
    return [
        Case(
            f"batches of 100, {few:,} groups", [spread[i : i + 100] for i in range(0, len(spread), 100)], few
        ),
        Case(f"one alert per request, {few:,} groups", [[a] for a in spread[: few * 4]], few),
        Case(f"batches of 100, {many:,} groups", [one_each[i : i + 100] for i in range(0, many, 100)], many),
        Case(f"one alert per request, {many:,} groups", [[a] for a in one_each], many),
    ]


async def _post_all(base_url: str, bodies: list[list[Json]]) -> float:
    queue: asyncio.Queue[list[Json]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            while not queue.empty():
                r = await http.post("/api/v2/alerts", json=queue.get_nowait())
                if r.status_code != 200:
                    raise RuntimeError(f"POST /api/v2/alerts answered {r.status_code}: {r.text[:200]}")

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return time.perf_counter() - began


@dataclass(frozen=True)
class Posted:
    seconds: float
    # time.monotonic() when the last post was answered.
    at: float
    # The cores each process used meanwhile (bench/cpumeter.py).
    cpu: Json


def _post(base_url: str, case: Case, processes: dict[str, list[int]]) -> Posted:
    """The case's alerts posted to `base_url`, the cores of `processes` (by name) measured meanwhile."""
    # One request first, untimed (the same alerts are posted again in the run: no new alert): what
    # the first request sets up once is not ingest throughput.
    asyncio.run(_post_all(base_url, case.bodies[:1]))

    async def timed() -> tuple[float, Json]:
        meter = CpuMeter("", None, lambda: processes)
        await meter.start()
        seconds = await _post_all(base_url, case.bodies)
        return seconds, await meter.stop()

    seconds, cpu = asyncio.run(timed())
    return Posted(seconds, time.monotonic(), cpu)


def _serve(received: Synchronized[int], last_at: Synchronized[float], port: Synchronized[int]) -> None:
    """The project's test receiver, its count and the time of its last request kept in `received`
    and `last_at` (every SYNC_S)."""

    async def serve() -> None:
        # Alertmanager sends every due group at once, each on its own connection.
        receiver = await Receiver().start(backlog=4096)
        port.value = receiver.port
        while True:
            if receiver.requests:
                with received.get_lock():
                    received.value = len(receiver.requests)
                    last_at.value = receiver.requests[-1].received_at
            await asyncio.sleep(SYNC_S)

    asyncio.run(serve())


class _Receiver:
    """A webhook receiver that accepts everything and counts what it got, in a process of its own:
    receiving must not take the clients' interpreter lock (while Alertmanager notifies thousands of
    groups during the posts, say)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.received = context.Value(ctypes.c_long, 0)
        # The last request's Recorded.received_at: time.monotonic(), one clock for the whole machine.
        self.last_at = context.Value(ctypes.c_double, 0.0)
        self._port = context.Value(ctypes.c_int, 0)
        self.process = context.Process(target=_serve, args=(self.received, self.last_at, self._port))

    def start(self) -> None:
        self.process.start()
        deadline = time.monotonic() + 30
        while not self._port.value:
            if not self.process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the webhook receiver did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.kill()
        self.process.join(10)

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def url(self) -> str:
        return f"http://127.0.0.1:{self._port.value}/hook"

    def drain(self, groups: int, posted_at: float) -> tuple[int, float | None]:
        """Waits until every group was notified and nothing came for QUIET_S, at most DRAIN_LIMIT_S:
        the requests received, and the seconds from `posted_at` (time.monotonic()) to the last of
        them; 0 when it came before, None when not every group was notified."""
        deadline = time.monotonic() + DRAIN_LIMIT_S
        while True:
            with self.received.get_lock():
                received, last_at = self.received.value, self.last_at.value
            now = time.monotonic()
            if received >= groups and now - last_at >= QUIET_S:
                return received, round(max(0.0, last_at - posted_at), 1)
            if now > deadline:
                return received, None
            time.sleep(0.1)


@contextmanager
def _receiver() -> Iterator[_Receiver]:
    receiver = _Receiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def _rates(case: Case, posted: Posted) -> Json:
    return {
        "seconds": round(posted.seconds, 3),
        "alerts_per_second": round(case.alerts / posted.seconds),
        "requests_per_second": round(len(case.bodies) / posted.seconds),
        "cores_while_posting": posted.cpu,
    }


def _ratio(ours_s: float, theirs_s: float) -> float:
    """Ours / Alertmanager's in alerts/s, from the seconds each took for the same alerts."""
    return round(theirs_s / ours_s, 3)


def _alertmanager(case: Case) -> tuple[float, Json]:
    with _receiver() as sink:
        route = {"group_wait": GROUP_WAIT, "group_interval": GROUP_INTERVAL}
        with amcluster.alertmanager_node(sink.url(), **route) as node:
            posted = _post(node.url, case, {"alertmanager": [node.pid], "receiver": [sink.pid]})
            received, drain_s = sink.drain(case.groups, posted.at)
            held = len(httpx.get(f"{node.url}/api/v2/alerts", timeout=60).json())
    return posted.seconds, {
        **_rates(case, posted),
        "alerts_held": held,
        "webhook_requests_received": received,
        "drain_seconds": drain_s,
    }


def _setup(server: Running, url: str) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        channel = {"name": "sink", "type": "webhook", "config": {"url": url}}
        http.post("/channels", json=channel).raise_for_status()
        routing = {
            "receiver": "sink",
            "group_by": ["alertname"],
            "group_wait": GROUP_WAIT,
            "group_interval": GROUP_INTERVAL,
        }
        http.put("/routing", json=routing).raise_for_status()


def _total(http: httpx.Client, path: str, key: str, **params: str) -> int:
    """The items of a list, following every page."""
    n, token = 0, ""
    while True:
        body = http.get(path, params={**params, "page_size": 1000, "page_token": token}).json()
        n += len(body[key])
        token = body["next_page_token"]
        if not token:
            return n


def _ours(case: Case) -> tuple[float, Json]:
    with _receiver() as sink, running_server() as server:
        _setup(server, sink.url())
        posted = _post(server.base_url, case, {"server": [server.pid], "receiver": [sink.pid]})
        received, drain_s = sink.drain(case.groups, posted.at)
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            held = _total(http, "/alerts", "alerts")
            statuses = ("pending", "retrying", "delivered", "failed")
            by_status = {s: _total(http, "/deliveries", "deliveries", status=s) for s in statuses}
    return posted.seconds, {
        **_rates(case, posted),
        "alerts_held": held,
        # Every alert of a case has its own label set.
        "lost": case.alerts - held,
        "notifications_queued": sum(by_status.values()),
        "notifications_by_status": by_status,
        "webhook_requests_received": received,
        "drain_seconds": drain_s,
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _run(case: Case) -> Json:
    load = _load()
    theirs_s, theirs = _alertmanager(case)
    ours_s, ours = _ours(case)
    ratio = _ratio(ours_s, theirs_s)
    print(f"ingest_bench: {case.name}: ours / alertmanager = {ratio}", file=sys.stderr, flush=True)
    return {
        "run": case.name,
        "load_average_at_start": load,
        "alerts_posted": case.alerts,
        "requests": len(case.bodies),
        "groups": case.groups,
        "alertmanager": theirs,
        "ours": ours,
        "alerts_per_second_ratio": ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the alerts and groups")
    args = parser.parse_args()
    load_start = _load()
    cases = _cases(10 if args.quick else 1)
    report: Json = {
        "benchmark": "alert ingest (POST /api/v2/alerts), ours against Alertmanager",
        "machine": {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
        "alertmanager_version": amcluster.version(),
        "load_average_start": load_start,
        "clients": CLIENTS,
        "route": {"group_by": ["alertname"], "group_wait": GROUP_WAIT, "group_interval": GROUP_INTERVAL},
        "runs": [_run(case) for case in cases],
        "load_average_end": _load(),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
