"""Alert ingest through the Alertmanager API of the real server process: alerts/s accepted.

Prints one JSON document. Three runs, each on a fresh server with a webhook channel and a routing
tree grouping by alertname: batches of 100 alerts, one alert per request, and 20,000 distinct groups.
Four concurrent clients each. Afterwards it counts the alerts the server holds (none may be lost)
and the notifications it queued in its outbox.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

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


def _setup(server: Running) -> None:
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        channel = {"name": "sink", "type": "webhook", "config": {"url": "http://127.0.0.1:9/sink"}}
        http.post("/channels", json=channel).raise_for_status()
        routing = {"receiver": "sink", "group_by": ["alertname"], "group_wait": "1s", "group_interval": "1m"}
        http.put("/routing", json=routing).raise_for_status()


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
    with running_server() as server:
        _setup(server)
        seconds = asyncio.run(_post_all(server.base_url, bodies))
        time.sleep(settle_s)  # group_wait and the pipeline's step, so the outbox holds every group
        held, queued = _count(server)
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
