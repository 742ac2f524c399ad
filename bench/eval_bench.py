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

Side by side with Prometheus (`prometheus_peer`, Debian's 2.42 from scripts/install-prometheus.sh):
rules as people write them, in groups of 100 at a 5s interval, half
`avg by (host) (cpu_usage{host="hK"}) > 80` and half
`sum by (service) (rate(http_requests_total{service="sK"}[1m])) > 10`, each over its own 10 of
20,000 series that all get a new, changed sample every 5s (counters rising); almost none fire.
Prometheus scrapes the series from an exporter in this process and reads the rules from a file; our
server gets the series by remote write from this process and the rules by import. One side after the
other, each first with the ingest alone, then with the rules loaded: over equal windows, rule
evaluations (ours: periodic and triggered by the writes) and process CPU from each one's /metrics;
rule CPU is the CPU with rules less the CPU of the ingest alone.

Usage: python bench/eval_bench.py [sizes...] [--peer-only | --no-peer] [--peer-rules 2000]
                                  [--peer-window 60] [--peer-warmup 15]
       (default sizes: 1000 10000 100000)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import amcluster
import cramjam
import httpx
from cpumeter import machine_cpu_s
from serverproc import Running, running_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerting_common.remote_write import WriteRequest
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


# The peer case: Prometheus and our server, one after the other, on the same series and rules.

PEER_SERIES = 20_000
# Series per host (cpu_usage, one per cpu) and per service (http_requests_total, one per instance).
PEER_SLICE = 10
PEER_KEYS = PEER_SERIES // 2 // PEER_SLICE
PEER_INTERVAL_S = 5
# Series per remote-write request, as a Prometheus queue sends them (max_samples_per_send 2,000).
PEER_WRITE_BATCH = 2_000
REMOTE_WRITE_HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


@dataclass(frozen=True)
class _Series:
    name: str
    labels: tuple[tuple[str, str], ...]
    key: int
    member: int

    def value(self, n: int) -> float:
        """The value at the n-th interval: it changes every interval, and a counter only rises. Every
        500th host and service is above its threshold; the others stay well below."""
        hot = self.key % 500 == 0
        if self.name == "cpu_usage" and hot:
            return 85.0 + (self.member + n) % 10
        if self.name == "cpu_usage":
            return 10.0 + (7 * self.key + 3 * self.member + 11 * n) % 50
        # A service's 10 instances add 30 requests an interval together: 6/s, or 18/s when hot.
        step = (1 + (self.key + self.member) % 5) * (3 if hot else 1)
        return float(1000 + self.key + step * n)

    def exposition(self) -> str:
        labels = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{labels}}}"


def _peer_series() -> list[_Series]:
    series = []
    for key in range(PEER_KEYS):
        for member in range(PEER_SLICE):
            labels = (("host", f"h{key}"), ("cpu", str(member)))
            series.append(_Series("cpu_usage", labels, key, member))
    for key in range(PEER_KEYS):
        for member in range(PEER_SLICE):
            labels = (("service", f"s{key}"), ("instance", f"i{member}"))
            series.append(_Series("http_requests_total", labels, key, member))
    return series


def _peer_groups(count: int) -> list[str]:
    """The rule groups, one rule-file fragment each: rule i reads the i // 2-th host or service."""
    groups = []
    for g in range(0, count, GROUP_SIZE):
        lines = [f"  - name: peer{g // GROUP_SIZE}", f"    interval: {PEER_INTERVAL_S}s", "    rules:"]
        for i in range(g, min(g + GROUP_SIZE, count)):
            key = (i // 2) % PEER_KEYS
            if i % 2:
                expr = f'sum by (service) (rate(http_requests_total{{service="s{key}"}}[1m])) > 10'
            else:
                expr = f'avg by (host) (cpu_usage{{host="h{key}"}}) > 80'
            lines += [f"      - alert: Peer{i}", f"        expr: '{expr}'"]
        groups.append("\n".join(lines) + "\n")
    return groups


class _Exporter(ThreadingHTTPServer):
    """The series in the text exposition format on a free local port, a step further at each scrape."""

    def __init__(self, series: list[_Series]) -> None:
        super().__init__(("127.0.0.1", 0), _ExporterHandler)
        self.rounds = 0
        self._series = [(s, s.exposition()) for s in series]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def render(self) -> bytes:
        n, self.rounds = self.rounds, self.rounds + 1
        lines = ["# TYPE cpu_usage gauge", "# TYPE http_requests_total counter"]
        lines += [f"{text} {s.value(n)}" for s, text in self._series]
        return ("\n".join(lines) + "\n").encode()


class _ExporterHandler(BaseHTTPRequestHandler):
    server: _Exporter

    def do_GET(self) -> None:
        body = self.server.render()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Writer:
    """The series by remote write to our server every PEER_INTERVAL_S, from a thread: requests of
    PEER_WRITE_BATCH series, built once, their samples' values and timestamps set at each round."""

    def __init__(self, base_url: str, series: list[_Series]) -> None:
        self._base_url = base_url
        self._batches = []
        for begin in range(0, len(series), PEER_WRITE_BATCH):
            request = WriteRequest()
            samples = []
            for s in series[begin : begin + PEER_WRITE_BATCH]:
                ts = request.timeseries.add()  # type: ignore[attr-defined]
                for name, value in (("__name__", s.name), *s.labels):
                    label = ts.labels.add()
                    label.name, label.value = name, value
                samples.append((s, ts.samples.add()))
            self._batches.append((request, samples))
        self.rounds = 0
        # How long each round's requests took, answers included.
        self.round_s: list[float] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> _Writer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)
        if self.error is not None:
            raise RuntimeError("remote write failed") from self.error

    def _run(self) -> None:
        due = time.monotonic()
        try:
            with httpx.Client(base_url=self._base_url, timeout=60) as http:
                while not self._stop.wait(max(0.0, due - time.monotonic())):
                    began = time.monotonic()
                    self._round(http, self.rounds)
                    self.round_s.append(time.monotonic() - began)
                    self.rounds += 1
                    # A late round is not made up for by a burst: the next comes an interval later.
                    due = max(due + PEER_INTERVAL_S, time.monotonic())
        except BaseException as e:
            self.error = e

    def _round(self, http: httpx.Client, n: int) -> None:
        now = int(time.time() * 1000)
        for request, samples in self._batches:
            for s, sample in samples:
                sample.value, sample.timestamp = s.value(n), now
            body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
            r = http.post("/api/v1/write", content=body, headers=REMOTE_WRITE_HEADERS)
            if r.status_code >= 300:
                raise RuntimeError(f"/api/v1/write answered {r.status_code}: {r.text[:200]}")


def _wait_for(what: str, condition: Callable[[], bool], timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.5)


@dataclass(frozen=True)
class _Side:
    """One side of the comparison: its /metrics, its ingest rounds so far, its counters to difference."""

    metrics: Callable[[], str]
    rounds: Callable[[], int]
    counters: dict[str, str]


@dataclass(frozen=True)
class _Window:
    counters: dict[str, float]
    """The side's counters, per second."""
    cpu_cores: float
    ingest_rounds: int
    bench_client_cores: float
    """This process: the exporter or the remote-write sender."""
    machine_busy_cores: float
    """Everything on the machine, other users included."""


def _window(side: _Side, seconds: float) -> _Window:
    before, rounds, machine, client = side.metrics(), side.rounds(), machine_cpu_s(), time.process_time()
    began = time.monotonic()
    time.sleep(seconds)
    after = side.metrics()
    elapsed = time.monotonic() - began

    def rate(name: str) -> float:
        return (_metric(after, name) - _metric(before, name)) / elapsed

    return _Window(
        counters={key: rate(name) for key, name in side.counters.items()},
        cpu_cores=rate("process_cpu_seconds_total"),
        ingest_rounds=side.rounds() - rounds,
        bench_client_cores=round((time.process_time() - client) / elapsed, 2),
        machine_busy_cores=round((machine_cpu_s() - machine) / elapsed, 2),
    )


def _compare(ingest: _Window, rules: _Window, window_s: float, series: int) -> Json:
    """Figures per window of `window_s`: CPU in all, of the ingest alone, of the rules (the difference),
    and the samples of `series` series a round taken in per CPU-second of the ingest alone."""
    all_cpu = rules.cpu_cores * window_s
    ingest_cpu = ingest.cpu_cores * window_s
    rule_cpu = all_cpu - ingest_cpu
    ingested = ingest.ingest_rounds * series
    evals = rules.counters["evaluations"] * window_s
    out: Json = {
        "evaluations_per_s": round(evals / window_s, 1),
        "cpu_s": round(all_cpu, 2),
        "ingest_only_cpu_s": round(ingest_cpu, 2),
        "ingest_samples_per_cpu_s": round(ingested / ingest_cpu) if ingest_cpu > 0 else None,
        "rule_cpu_s": round(rule_cpu, 2),
        # Noise could leave no rule CPU to divide by, were the rules to cost next to nothing.
        "evaluations_per_rule_cpu_s": round(evals / rule_cpu) if rule_cpu > 0 else None,
        "ingest_rounds": {"ingest_only": ingest.ingest_rounds, "with_rules": rules.ingest_rounds},
        "bench_client_cores": {
            "ingest_only": ingest.bench_client_cores,
            "with_rules": rules.bench_client_cores,
        },
        "machine_busy_cores": {
            "ingest_only": ingest.machine_busy_cores,
            "with_rules": rules.machine_busy_cores,
        },
    }
    out.update({f"{k}_per_s": round(v, 1) for k, v in rules.counters.items() if k != "evaluations"})
    return out


@contextmanager
def _prometheus(scrape_port: int) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """Prometheus scraping the exporter every PEER_INTERVAL_S, reading its rules from a file that is
    empty at first: its URL, the rule file, the process (SIGHUP reloads the file)."""
    with tempfile.TemporaryDirectory(prefix="prom-eval-bench-") as scratch:
        rules = Path(scratch) / "rules.yml"
        rules.write_text("groups: []\n")
        interval = f"{PEER_INTERVAL_S}s"
        config: amcluster.Json = {
            "global": {
                "scrape_interval": interval,
                "scrape_timeout": interval,
                "evaluation_interval": interval,
            },
            "rule_files": [str(rules)],
            "scrape_configs": [
                {"job_name": "exporter", "static_configs": [{"targets": [f"127.0.0.1:{scrape_port}"]}]}
            ],
        }
        with amcluster.prometheus(Path(scratch), lambda _: config) as (port, proc):
            url = f"http://127.0.0.1:{port}"
            _wait_for("Prometheus to start", lambda: _ready(url), 60)
            yield url, rules, proc


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def _prometheus_side(args: argparse.Namespace, series: list[_Series], groups: list[str]) -> Json:
    exporter = _Exporter(series)
    try:
        with _prometheus(exporter.port) as (url, rules, proc):
            side = _Side(
                lambda: httpx.get(f"{url}/metrics", timeout=30).text,
                lambda: exporter.rounds,
                {
                    "evaluations": "prometheus_rule_evaluations_total",
                    "missed_group_iterations": ("prometheus_rule_group_iterations_missed_total"),
                },
            )
            _wait_for("two scrapes", lambda: exporter.rounds >= 2, 60)
            time.sleep(args.peer_warmup)
            ingest = _window(side, args.peer_window)
            rules.write_text("groups:\n" + "".join(groups))
            proc.send_signal(signal.SIGHUP)
            count = args.peer_rules
            _wait_for(
                "Prometheus to load the rules",
                lambda: _metric(side.metrics(), "prometheus_rule_group_rules") >= count,
            )
            time.sleep(args.peer_warmup)
            with_rules = _window(side, args.peer_window)
            version = httpx.get(f"{url}/api/v1/status/buildinfo", timeout=30).json()["data"]["version"]
    finally:
        exporter.shutdown()
        exporter.server_close()
    return {"version": version, **_compare(ingest, with_rules, args.peer_window, len(series))}


def _our_side(args: argparse.Namespace, series: list[_Series], groups: list[str]) -> Json:
    with running_server() as server, httpx.Client(base_url=server.base_url, timeout=120) as http:
        writer = _Writer(server.base_url, series).start()
        try:
            side = _Side(
                lambda: http.get("/metrics").text,
                lambda: writer.rounds,
                {
                    "evaluations": "alerting_rule_evaluations_total",
                    "skipped_evaluations": "alerting_rule_evaluations_skipped_total",
                    "triggered_group_evaluations": "alerting_rule_group_triggered_evaluations_total",
                    "missed_group_iterations": "alerting_rule_group_iterations_missed_total",
                },
            )
            _wait_for("two remote-write rounds", lambda: writer.rounds >= 2, 120)
            time.sleep(args.peer_warmup)
            ingest = _window(side, args.peer_window)
            per_file = IMPORT_CHUNK // GROUP_SIZE
            for begin in range(0, len(groups), per_file):
                _import(http, "groups:\n" + "".join(groups[begin : begin + per_file]))
            _settle(http, args.peer_rules)
            time.sleep(args.peer_warmup)
            with_rules = _window(side, args.peer_window)
        finally:
            writer.stop()
    out = _compare(ingest, with_rules, args.peer_window, len(series))
    out["slowest_write_round_s"] = round(max(writer.round_s), 2)
    return out


def _peer(args: argparse.Namespace) -> Json:
    amcluster.require_prometheus()
    load_start = os.getloadavg()
    series = _peer_series()
    groups = _peer_groups(args.peer_rules)
    theirs = _prometheus_side(args, series, groups)
    print(json.dumps({"prometheus": theirs}), file=sys.stderr, flush=True)
    ours = _our_side(args, series, groups)

    def ratio(key: str) -> float | None:
        a, b = ours[key], theirs[key]
        return round(a / b, 3) if isinstance(a, int | float) and isinstance(b, int | float) and b else None

    return {
        "rules": args.peer_rules,
        "groups": len(groups),
        "interval_s": PEER_INTERVAL_S,
        "series": len(series),
        "window_s": args.peer_window,
        "warmup_s": args.peer_warmup,
        "machine_cores": os.cpu_count(),
        "prometheus": theirs,
        "ours": ours,
        "ours_over_prometheus": {
            "evaluations_per_rule_cpu_s": ratio("evaluations_per_rule_cpu_s"),
            "cpu_s": ratio("cpu_s"),
            "rule_cpu_s": ratio("rule_cpu_s"),
            "ingest_only_cpu_s": ratio("ingest_only_cpu_s"),
            "ingest_samples_per_cpu_s": ratio("ingest_samples_per_cpu_s"),
        },
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10_000, 100_000])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--peer-only", action="store_true", help="only the case side by side with Prometheus")
    which.add_argument("--no-peer", action="store_true", help="without the case side by side with Prometheus")
    parser.add_argument("--peer-rules", type=int, default=2000, help="rules in the peer case")
    parser.add_argument("--peer-window", type=float, default=60.0, help="seconds of each measuring window")
    parser.add_argument("--peer-warmup", type=float, default=15.0, help="seconds before each window")
    args = parser.parse_args()
    results = []
    for count in [] if args.peer_only else args.sizes:
        with running_server() as server:
            results.append(_run(server, count))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    out: Json = {"benchmark": "rule_evaluation", "results": results}
    if not args.no_peer:
        out["prometheus_peer"] = _peer(args)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
