"""Prometheus remote write at Prometheus' own pace into the real server: batches lost to resets.

Prints one JSON document. A real Prometheus (scripts/install-prometheus.sh) scrapes itself every
second and remote-writes to the server through several queues, each on its own kept-alive
connection, flushing a batch every 5 s (`batch_send_deadline`, batches never filling up first):
the connection is idle between batches about as long as a short server keep-alive, which then
races the next send. After the run: the batches Prometheus had to retry (its log), the samples it
retried, failed or dropped and the samples it sent until it was stopped (its own counters), and the
samples the server holds once the stopping Prometheus has flushed its queues.

    python bench/remote_write_bench.py [--seconds 180] [--queues 4] [--http-idle-timeout 5s]

`--http-idle-timeout` is passed to the server (default: the server's default).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import amcluster
import httpx
from prometheus_client.parser import text_string_to_metric_families
from serverproc import running_server

QUEUE = {"batch_send_deadline": "5s", "max_samples_per_send": 100_000, "max_shards": 1}
Json = dict[str, object]


def _prometheus_config(port: int, url: str, queues: int) -> Json:
    return {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        ],
        "remote_write": [
            {
                "name": f"queue-{i}",
                "url": url,
                "queue_config": QUEUE,
                # One series set per queue: the queues would otherwise write the same samples twice.
                "write_relabel_configs": [{"target_label": "queue", "replacement": str(i)}],
            }
            for i in range(queues)
        ],
    }


def _counters(prom_url: str) -> dict[str, float]:
    """Prometheus' own remote-storage counters as it holds them now (its /metrics, not a scrape ago),
    summed over the queues."""
    text = httpx.get(f"{prom_url}/metrics", timeout=30).text
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("prometheus_remote_storage_samples") and sample.name.endswith("_total"):
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def _scalar(base_url: str, query: str) -> float:
    r = httpx.get(f"{base_url}/api/v1/query", params={"query": query}, timeout=30)
    r.raise_for_status()
    result = r.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--queues", type=int, default=4)
    parser.add_argument("--http-idle-timeout", default="")
    args = parser.parse_args()
    amcluster.require_prometheus()
    server_args = ["--http-idle-timeout", args.http_idle_timeout] if args.http_idle_timeout else []
    load_start = os.getloadavg()
    with running_server(server_args) as server, tempfile.TemporaryDirectory(prefix="prom-bench-") as scratch:
        write_url = f"{server.base_url}/api/v1/write"
        with amcluster.prometheus(
            Path(scratch), lambda port: _prometheus_config(port, write_url, args.queues)
        ) as (port, _):
            time.sleep(args.seconds)
            counters = _counters(f"http://127.0.0.1:{port}")
        # The stopped Prometheus flushed its queues: what it sent after the counters were read
        # arrived before the samples are counted below.
        log_path = Path(scratch) / "prometheus.log"
        lines = log_path.read_text().splitlines()
        received = _scalar(server.base_url, 'sum(count_over_time({job="prometheus"}[1h]))')
    retried = [line for line in lines if "Failed to send batch, retrying" in line]
    report: Json = {
        "benchmark": "Prometheus remote write at its own pace (5 s batches, kept-alive connections)",
        "machine": {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
        "load_average_start": [round(x, 2) for x in load_start],
        "seconds": args.seconds,
        "queues": args.queues,
        "server_http_idle_timeout": args.http_idle_timeout or "default",
        "batches_retried": len(retried),
        "batches_failed": sum("non-recoverable error" in line for line in lines),
        "samples_sent_before_stop": int(counters.get("prometheus_remote_storage_samples_total", 0)),
        "samples_retried": int(counters.get("prometheus_remote_storage_samples_retried_total", 0)),
        "samples_failed": int(counters.get("prometheus_remote_storage_samples_failed_total", 0)),
        "samples_dropped": int(counters.get("prometheus_remote_storage_samples_dropped_total", 0)),
        "samples_received_after_stop": int(received),
        "first_retry": retried[0] if retried else None,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
