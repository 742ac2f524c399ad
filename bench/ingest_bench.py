"""Alert ingest through the Alertmanager API of the real server process: alerts/s accepted.

Prints one JSON document. Three runs, each on a fresh server with a webhook channel and a routing
tree grouping by alertname: batches of 100 alerts, one alert per request, and 20,000 distinct groups.
Four concurrent clients each. Afterwards it counts the alerts the server holds (none may be lost),
the notifications it queued in its outbox, and waits for them to reach a local webhook receiver
(how many were delivered and how many failed).
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from serverproc import Running, running_server

CLIENTS = 4
NAMES = 500
Json = dict[str, object]


def _alert(name: str, instance: int) -> Json:
    return {
        "labels": {"alertname": name, "instance": f"host-{instance}", "job": "bench"},
        "annotations": {"summary": name},
    }


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


class _Sink(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that accepts everything and counts what it got (keeping connections open,
    as receivers behind any HTTP server do)."""

    protocol_version = "HTTP/1.1"
    received = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with _Sink.lock:
            _Sink.received += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _receiver() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def _setup(server: Running, url: str) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        channel = {"name": "sink", "type": "webhook", "config": {"url": url}}
        http.post("/channels", json=channel).raise_for_status()
        routing = {"receiver": "sink", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "1m"}
        http.put("/routing", json=routing).raise_for_status()


def _drain(server: Running, timeout_s: float) -> dict[str, int]:
    """Waits until no notification is pending or retrying; the count per delivery status."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts: dict[str, int] = {}
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            for status in ("pending", "retrying", "delivered", "failed"):
                n, token = 0, ""
                while True:
                    body = http.get(
                        "/deliveries", params={"status": status, "page_size": 1000, "page_token": token}
                    ).json()
                    n += len(body["deliveries"])
                    token = body["next_page_token"]
                    if not token:
                        break
                counts[status] = n
        if counts["pending"] + counts["retrying"] == 0 or time.monotonic() > deadline:
            return counts
        time.sleep(1)


def _count(server: Running) -> tuple[int, int]:
    """Alerts held and notifications queued, following every page."""
    totals = []
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        for path, key in (("/alerts", "alerts"), ("/deliveries", "deliveries")):
            n, token = 0, ""
            while True:
                body = http.get(path, params={"page_size": 1000, "page_token": token}).json()
                n += len(body[key])
                token = body["next_page_token"]
                if not token:
                    break
            totals.append(n)
    return totals[0], totals[1]


def _run(name: str, bodies: list[list[Json]], distinct: int, settle_s: float) -> Json:
    with _receiver() as url, running_server() as server:
        _Sink.received = 0
        _setup(server, url)
        # One request first, untimed (the same alerts are posted again in the run: no new alert):
        # what the first request sets up once is not ingest throughput.
        asyncio.run(_post_all(server.base_url, bodies[:1]))
        seconds = asyncio.run(_post_all(server.base_url, bodies))
        time.sleep(settle_s)  # group_wait and the pipeline's step, so the outbox holds every group
        held, queued = _count(server)
        began = time.perf_counter()
        deliveries = _drain(server, 300)
        drain_s = time.perf_counter() - began
    alerts = sum(len(b) for b in bodies)
    return {
        "run": name,
        "alerts_posted": alerts,
        "requests": len(bodies),
        "distinct_alerts": distinct,
        "seconds": round(seconds, 3),
        "alerts_per_second": round(alerts / seconds),
        "requests_per_second": round(len(bodies) / seconds),
        "alerts_held": held,
        "lost": distinct - held,
        "notifications_queued": queued,
        "notifications_by_status": deliveries,
        "webhook_requests_received": _Sink.received,
        "drain_seconds": round(drain_s, 1),
    }


def main() -> None:
    load_start = os.getloadavg()
    distinct = [_alert(f"Alert{i % NAMES}", i) for i in range(NAMES * 20)]
    batches = [distinct[i : i + 100] for i in range(0, len(distinct), 100)]
    singles = [[a] for a in distinct[:2000]]
    many_groups = [_alert(f"Group{i}", 0) for i in range(20_000)]
    report: Json = {
        "benchmark": "alert ingest (POST /api/v2/alerts)",
        "machine": {"cpu_count": os.cpu_count(), "python": sys.version.split()[0]},
        "load_average_start": [round(x, 2) for x in load_start],
        "clients": CLIENTS,
        "runs": [
            _run("batches of 100", batches, len(distinct), 3),
            _run("one alert per request", singles, len(singles), 3),
            _run("20,000 groups", [many_groups[i : i + 100] for i in range(0, 20_000, 100)], 20_000, 5),
        ],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
