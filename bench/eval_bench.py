"""Rule evaluation through the real server process: evaluations/s, CPU per 1k rules, detection latency.

Prints one JSON document. For each size, a fresh server gets 10,000 `cpu` series and 10,000
`reqs_total` counters, then that many alerting rules (half thresholds on one host, half rates,
almost none firing) in groups of 100. Throughput: the groups evaluate every second, so the
engine is saturated; evaluations/s and process CPU come from the server's own /metrics over a
window. Detection latency, measured first, at the default settings (rules.min_interval 1s): with
those rules loaded at a 15s interval, probe samples posted through POST /samples every 0.3s (closer
together than min_interval) each make a new series cross a `for: 0s` threshold of one probe rule;
the time from the POST to a real local webhook receiving the alert's notification (its own
aggregation group, group_wait 0s) is measured for each.

Usage: python bench/eval_bench.py [sizes...]   (default: 1000 10000 100000)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx
from serverproc import Running, running_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.notify.receiver import Receiver

SERIES = 10_000
GROUP_SIZE = 100
PROBES = 200
# Probes come closer together than rules.min_interval (1s by default).
PROBE_SPACING_S = 0.3
# Rules per imported file: a saturated engine slows imports, and each must end within the API's deadline.
IMPORT_CHUNK = 2_000
WINDOW_S = 10.0
Json = dict[str, object]


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _load_series(http: httpx.Client) -> None:
    now = int(time.time() * 1000)
    for begin in range(0, SERIES, 2000):
        hosts = range(begin, min(begin + 2000, SERIES))
        samples: list[Json] = [{"name": "cpu", "labels": {"host": f"h{i}"}, "value": i % 90} for i in hosts]
        for t, base in ((now - 60_000, 0), (now, 60)):
            samples += [
                {"name": "reqs_total", "labels": {"host": f"h{i}"}, "value": base + i % 7, "timestamp": t}
                for i in hosts
            ]
        http.post("/samples", json={"samples": samples}).raise_for_status()


def _rule_files(count: int, interval: str) -> list[str]:
    """The rules as files of at most IMPORT_CHUNK rules each (a request body has a size limit)."""
    return [
        _rule_file(begin, min(begin + IMPORT_CHUNK, count), interval)
        for begin in range(0, count, IMPORT_CHUNK)
    ]


def _rule_file(first: int, end: int, interval: str) -> str:
    lines = ["groups:"]
    for g in range(first, end, GROUP_SIZE):
        lines += [f"  - name: bench{g // GROUP_SIZE}", f"    interval: {interval}", "    rules:"]
        for i in range(g, min(g + GROUP_SIZE, end)):
            host = f"h{i % SERIES}"
            if i % 2:
                expr = f'rate(reqs_total{{host="{host}"}}[5m]) > 100'
            else:
                # A few of them fire: cpu is at most 89.
                expr = f'cpu{{host="{host}"}} > {95 if i % 1000 else 80}'
            lines += [f"      - alert: Bench{i}", f"        expr: '{expr}'"]
    return "\n".join(lines) + "\n"


def _import(http: httpx.Client, content: str) -> None:
    r = http.post("/rules:import", content=content, headers={"Content-Type": "application/yaml"}, timeout=600)
    r.raise_for_status()


def _settle(http: httpx.Client, count: int) -> None:
    """Waits for the first evaluation of the rules just loaded (every one of them is evaluated at once),
    so that the probes measure detection, not the tail of that."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        text = http.get("/metrics").text
        done = _metric(text, "alerting_rule_evaluations_total") + _metric(
            text, "alerting_rule_evaluations_skipped_total"
        )
        if done >= count:
            break
        time.sleep(0.5)
    time.sleep(2)


def _throughput(http: httpx.Client, count: int) -> Json:
    for content in _rule_files(count, "1s"):
        _import(http, content)
    time.sleep(3)
    before = http.get("/metrics").text
    began = time.monotonic()
    time.sleep(WINDOW_S)
    after = http.get("/metrics").text
    elapsed = time.monotonic() - began
    evals = _metric(after, "alerting_rule_evaluations_total") - _metric(
        before, "alerting_rule_evaluations_total"
    )
    skipped = _metric(after, "alerting_rule_evaluations_skipped_total") - _metric(
        before, "alerting_rule_evaluations_skipped_total"
    )
    covered = evals + skipped
    cpu = _metric(after, "process_cpu_seconds_total") - _metric(before, "process_cpu_seconds_total")
    missed = _metric(after, "alerting_rule_group_iterations_missed_total") - _metric(
        before, "alerting_rule_group_iterations_missed_total"
    )
    return {
        # A skipped rule is evaluated as far as its result goes: it provably returns what it returned.
        "rule_evaluations_per_s": round(covered / elapsed),
        "executed_evaluations_per_s": round(evals / elapsed),
        "cpu_s_per_1k_rule_evaluations": round(cpu / (covered / 1000), 4) if covered else None,
        "rule_evaluations_per_cpu_s": round(covered / cpu) if cpu else None,
        "missed_group_iterations_per_s": round(missed / elapsed, 1),
    }


async def _probe(base_url: str, probes: int, spacing_s: float, walls: dict[str, float]) -> list[float]:
    """Probe samples to the one probe group, `spacing_s` apart (within min_interval of each other):
    the time from each POST /samples to the webhook receiving its notification, in ms. `walls`: the
    wall-clock time of each POST, by probe."""
    receiver = await Receiver().start()
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as api:
            hook = {"name": "probe-hook", "type": "webhook", "config": {"url": receiver.url("/probe")}}
            (await api.post("/channels", json=hook)).raise_for_status()
            routing = {"receiver": "probe-hook", "group_by": ["k"], "group_wait": "0s"}
            routing["group_interval"] = "1h"
            (await api.put("/routing", json=routing)).raise_for_status()
            sent: dict[str, float] = {}
            for k in range(probes):
                sample = {"name": "probe", "labels": {"k": str(k)}, "value": 1}
                sent[str(k)] = time.monotonic()
                walls[str(k)] = time.time()
                (await api.post("/samples", json={"samples": [sample]})).raise_for_status()
                await asyncio.sleep(spacing_s)
            deadline = time.monotonic() + 30
            # Polled: the receiver is a test peer with no completion event of its own.
            while len(_received(receiver)) < probes and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await receiver.close()
    received = _received(receiver)
    if len(received) < probes:
        raise RuntimeError(f"{probes - len(received)} probes never notified")
    return sorted((received[k] - sent[k]) * 1000 for k in sent)


def _received(receiver: Receiver) -> dict[str, float]:
    """The first notification of each probe alert: its k, when it came."""
    first: dict[str, float] = {}
    for r in receiver.requests:
        body = r.json()
        assert isinstance(body, dict)
        for alert in body["alerts"]:
            first.setdefault(alert["labels"]["k"], r.received_at)
    return first


def _latency(http: httpx.Client, count: int) -> Json:
    """Detection at the default settings (rules.min_interval 1s): sample posted → webhook received."""
    for content in _rule_files(count, "15s"):
        _import(http, content)
    probes = (
        "groups:\n  - name: probe\n    interval: 1h\n    rules:\n"
        "      - alert: Probe\n        expr: probe > 0\n        for: 0s\n"
    )
    _import(http, probes)
    _settle(http, count + 1)
    walls: dict[str, float] = {}
    samples = asyncio.run(_probe(str(http.base_url), PROBES, PROBE_SPACING_S, walls))
    alerts = http.get("/alerts", params={"rule": "Probe", "page_size": 1000}).json()["alerts"]
    # When each probe's rule evaluation began (the alert's start, in ms): the first part of the way.
    evaluated = sorted(
        max(0.0, a["started_at"] / 1000 - walls[a["labels"]["k"]]) * 1000
        for a in alerts
        if a["labels"].get("k") in walls
    )
    return {
        "detection_latency_ms_p50": round(statistics.median(samples), 1),
        "detection_latency_ms_p99": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 1),
        "detection_latency_ms_max": round(samples[-1], 1),
        "detection_latency_ms_slowest": [round(v, 1) for v in samples[-5:]],
        "evaluation_started_ms_p50": round(statistics.median(evaluated), 1) if evaluated else None,
        "evaluation_started_ms_max": round(evaluated[-1], 1) if evaluated else None,
        "probes": len(samples),
        "probe_spacing_s": PROBE_SPACING_S,
    }


def _run(server: Running, count: int) -> Json:
    with httpx.Client(base_url=server.base_url, timeout=120) as http:
        _load_series(http)
        out: Json = {"rules": count, "series": 2 * SERIES}
        # Latency first: the throughput phase saturates the server on purpose.
        out.update(_latency(http, count))
        out.update(_throughput(http, count))
        return out


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10_000, 100_000]
    results = []
    for count in sizes:
        with running_server() as server:
            results.append(_run(server, count))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"benchmark": "rule_evaluation", "results": results}, indent=2))


if __name__ == "__main__":
    main()
