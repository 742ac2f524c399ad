"""WatchAlerts fan-out through the real server process (SQLite): write → event at every subscriber.

Prints one JSON document. For each transport (SSE on GET /alerts/watch, gRPC WatchAlerts through
the generated stub) and each subscriber count, a fresh server gets that many subscribers, opened
by a separate process so that the poster's timing does not wait behind them; then one new alert a
second is posted on POST /api/v2/alerts, with the wall-clock time of the post (time.time()) in an
annotation. Each subscriber notes when the alert's `created` event reached it: the latency is that
time less the post's. The subscribers parse as little as they can (SSE: a search of the raw bytes
for the annotation; gRPC: the decoded message's annotation), since they share the machine's cores
with the server. p50/p99/max are over every (subscriber, alert) pair; `missed` counts pairs whose
event never came.

Usage: python bench/watch_bench.py [--counts 100 1000] [--seconds 30] [--transports sse grpc]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import quote, urlsplit

import httpx
from cpumeter import machine_cpu_s, process_cpu_s
from serverproc import Running, running_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients"))

import grpc

from alerting.v1 import alert_service_pb2, alert_service_pb2_grpc

Json = dict[str, object]
FILTER = 'alertname="WatchBench"'
STAMP = re.compile(rb'"bench_ts":"([0-9.]+)"')
# gRPC streams per channel (one HTTP/2 connection each).
STREAMS_PER_CHANNEL = 100


# --- the subscriber process -------------------------------------------------------------------


async def _sse_subscriber(base_url: str, got: dict[float, float], ready: asyncio.Event) -> None:
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        f"GET /alerts/watch?filter={quote(FILTER)} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"watch refused: {head[:200]!r}")
    ready.set()
    while True:
        data = await reader.read(65536)
        if not data:
            return
        now = time.time()
        # The events of a post are in one chunk: its annotation is never split across reads that
        # matter (a split one is found in the next read, a little later).
        for m in STAMP.finditer(data):
            got.setdefault(float(m.group(1)), now)


async def _grpc_subscriber(
    stub: alert_service_pb2_grpc.AlertServiceStub, got: dict[float, float], ready: asyncio.Event
) -> None:
    call = cast(
        "grpc.aio.UnaryStreamCall[Any, alert_service_pb2.WatchAlertsResponse]",
        stub.WatchAlerts(alert_service_pb2.WatchAlertsRequest(filter=FILTER)),
    )
    await call.wait_for_connection()
    ready.set()
    async for event in call:
        if event.type == alert_service_pb2.ALERT_EVENT_TYPE_CREATED:
            stamp = event.alert.annotations.get("bench_ts")
            if stamp:
                got.setdefault(float(stamp), time.time())


async def _subscribe(transport: str, target: str, count: int) -> None:
    """Opens `count` subscribers, says `ready` on stdout, collects until stdin closes, prints what came."""
    received: list[dict[float, float]] = [{} for _ in range(count)]
    readies = [asyncio.Event() for _ in range(count)]
    channels: list[grpc.aio.Channel] = []
    tasks = []
    for i in range(count):
        if transport == "sse":
            tasks.append(asyncio.create_task(_sse_subscriber(target, received[i], readies[i])))
        else:
            if i % STREAMS_PER_CHANNEL == 0:
                channels.append(grpc.aio.insecure_channel(target))
            stub = alert_service_pb2_grpc.AlertServiceStub(channels[-1])
            tasks.append(asyncio.create_task(_grpc_subscriber(stub, received[i], readies[i])))
    all_ready: asyncio.Future[Any] = asyncio.gather(*(r.wait() for r in readies))
    watched: list[asyncio.Future[Any]] = [*tasks, all_ready]
    done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task in done:
            task.result()  # A subscriber that ended before it was ready: its error.
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.read)
    failed = sum(1 for t in tasks if t.done() and t.exception() is not None)
    for task in tasks:
        task.cancel()
    for channel in channels:
        await channel.close(None)
    print(json.dumps({"received": [list(r.items()) for r in received], "ended_early": failed}), flush=True)


# --- the poster and the numbers ---------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))]


async def _post(base_url: str, seconds: int) -> list[float]:
    stamps = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as api:
        # Not measured: a fresh server's first write prepares its statements and code paths.
        warmup = [{"labels": {"alertname": "WatchBench", "seq": "warmup"}}]
        (await api.post("/api/v2/alerts", json=warmup)).raise_for_status()
        await asyncio.sleep(1)
        start = time.monotonic()
        for i in range(seconds):
            await asyncio.sleep(max(0.0, start + i - time.monotonic()))
            stamp = time.time()
            body = [
                {
                    "labels": {"alertname": "WatchBench", "seq": str(i)},
                    "annotations": {"bench_ts": f"{stamp:.6f}", "summary": "watch benchmark alert"},
                }
            ]
            (await api.post("/api/v2/alerts", json=body)).raise_for_status()
            stamps.append(float(f"{stamp:.6f}"))
    return stamps


@contextmanager
def _configured(config: IO[str], count: int) -> Iterator[Running]:
    config.write(
        f"http_max_connections: {count + 100}\ngrpc_max_concurrent_rpcs: {count + 100}\n"
        f"limits:\n  max_watchers: {count + 100}\n"
    )
    config.flush()
    with running_server(["--config", config.name]) as server:
        yield server


def _cpu_now(server_pid: int, subscriber_pid: int) -> tuple[float, float, float, float]:
    """CPU seconds of the server, of the subscribers' process and of the machine, and the clock."""
    return process_cpu_s(server_pid), process_cpu_s(subscriber_pid), machine_cpu_s(), time.monotonic()


def _child_pid(parent: int, marker: str) -> int:
    """The child process of `parent` whose command line holds `marker`."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and marker in command:
            return int(entry.name)
    raise RuntimeError(f"no child process of {parent} runs {marker}")


def _run(transport: str, count: int, seconds: int) -> Json:
    # Room for the subscribers and the poster beside them (the defaults are 1000 of each).
    with (
        tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="watch-bench-") as config,
        _configured(config, count) as server,
    ):
        target = server.base_url if transport == "sse" else server.grpc_target
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        sub = subprocess.Popen(
            [sys.executable, __file__, "--subscriber", transport, target, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert sub.stdin is not None
        assert sub.stdout is not None
        try:
            if sub.stdout.readline().strip() != "ready":
                raise RuntimeError("the subscribers did not start")
            load_before = os.getloadavg()[0]
            server_pid = _child_pid(os.getpid(), "alerting_server.cli")
            cpu_before = (
                process_cpu_s(server_pid),
                process_cpu_s(sub.pid),
                machine_cpu_s(),
                time.monotonic(),
            )
            stamps = asyncio.run(_post(server.base_url, seconds))
            cpu_after = (process_cpu_s(server_pid), process_cpu_s(sub.pid), machine_cpu_s(), time.monotonic())
            time.sleep(5)  # The last events' time to arrive.
            sub.stdin.close()
            out = json.loads(sub.stdout.readline())
        finally:
            sub.kill()
            sub.wait()
    latencies = []
    per_alert: dict[float, list[float]] = {stamp: [] for stamp in stamps}
    missed = 0
    for got in out["received"]:
        by_stamp = dict(got)
        for stamp in stamps:
            if stamp in by_stamp:
                latency = (by_stamp[stamp] - stamp) * 1000
                latencies.append(latency)
                per_alert[stamp].append(latency)
            else:
                missed += 1
    latencies.sort()
    firsts = sorted(min(v) for v in per_alert.values() if v)
    lasts = sorted(max(v) for v in per_alert.values() if v)
    wall = cpu_after[3] - cpu_before[3]
    return {
        "transport": transport,
        "subscribers": count,
        "alerts_posted": len(stamps),
        "events_measured": len(latencies),
        "missed": missed,
        "subscribers_ended_early": out["ended_early"],
        "latency_ms_p50": round(_percentile(latencies, 0.5), 1) if latencies else None,
        "latency_ms_p99": round(_percentile(latencies, 0.99), 1) if latencies else None,
        "latency_ms_max": round(latencies[-1], 1) if latencies else None,
        # Per alert: when its first and its last subscriber got it (the median alert's, and the worst).
        "first_subscriber_ms_median": round(statistics.median(firsts), 1) if firsts else None,
        "last_subscriber_ms_median": round(statistics.median(lasts), 1) if lasts else None,
        "last_subscriber_ms_worst": round(lasts[-1], 1) if lasts else None,
        # In posting order: each alert's first and last subscriber.
        "per_alert_first_last_ms": [
            [round(min(v)), round(max(v))] if v else None for v in (per_alert[s] for s in stamps)
        ],
        # Cores used while posting: the server, the subscribers' process, the whole machine.
        "server_cores": round((cpu_after[0] - cpu_before[0]) / wall, 2),
        "subscribers_cores": round((cpu_after[1] - cpu_before[1]) / wall, 2),
        "machine_cores_busy": round((cpu_after[2] - cpu_before[2]) / wall, 2),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--subscriber":
        asyncio.run(_subscribe(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--transports", nargs="+", default=["sse", "grpc"], choices=["sse", "grpc"])
    args = parser.parse_args()
    results = []
    for transport in args.transports:
        for count in args.counts:
            results.append(_run(transport, count, args.seconds))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"benchmark": "watch_fanout", "results": results}, indent=2))


if __name__ == "__main__":
    main()
