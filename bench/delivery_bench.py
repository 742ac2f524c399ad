"""Delivery through the outbox of the real server process to a real local webhook receiver.

Prints one JSON document:
- throughput: N distinct groups posted at once (group_wait 0s), notifications/s from the first
  post to the last notification received (one webhook channel, its default rate limit applies);
- reliability: N notifications to a receiver failing 30% of requests at random (HTTP 500) while
  the server is SIGKILLed and restarted 3 times: delivered / lost / duplicated, counted at the
  receiver by idempotency key (a notification is delivered when one of its requests got a 200).

    .venv/bin/python bench/delivery_bench.py [--throughput 2000] [--reliability 2000] [--kills 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.server import ServerProcess
from tests.notify.receiver import Receiver, Reply

Json = dict[str, object]
BATCH = 500


async def _setup(api: httpx.AsyncClient, url: str) -> None:
    r = await api.post("/channels", json={"name": "hook", "type": "webhook", "config": {"url": url}})
    r.raise_for_status()
    routing = {"receiver": "hook", "group_by": ["alertname"], "group_wait": "0s", "group_interval": "1h"}
    (await api.put("/routing", json=routing)).raise_for_status()


async def _post(api: httpx.AsyncClient, names: list[str]) -> None:
    for i in range(0, len(names), BATCH):
        body = [{"labels": {"alertname": n, "job": "bench"}} for n in names[i : i + BATCH]]
        (await api.post("/api/v2/alerts", json=body)).raise_for_status()


def _alertname(body: bytes) -> str:
    data = json.loads(body)
    return str(data["groupLabels"]["alertname"])


async def throughput(n: int) -> Json:
    receiver = await Receiver().start()
    with tempfile.TemporaryDirectory(prefix="delivery-bench-") as scratch:
        server = ServerProcess(
            f"sqlite+aiosqlite:///{scratch}/a.db", Path(scratch), ["--log-level", "warning"]
        )
        server.start()
        try:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as api:
                await _setup(api, receiver.url("/hook"))
                start = time.monotonic()
                await _post(api, [f"T{i}" for i in range(n)])
                posted = time.monotonic() - start
                deadline = start + 300
                # Polled: the receiver is a test peer with no completion event of its own.
                while len(receiver.requests) < n and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                elapsed = time.monotonic() - start
        finally:
            server.kill()
            await receiver.close()
    got = len({_alertname(r.body) for r in receiver.requests})
    return {
        "notifications": n,
        "received": got,
        "post_seconds": round(posted, 3),
        "seconds": round(elapsed, 3),
        "notifications_per_second": round(got / elapsed, 1),
    }


async def reliability(n: int, kills: int, fail_rate: float, seed: int) -> Json:
    rng = random.Random(seed)
    # The receiver answers in arrival order from this script: the i-th request gets replies[i].
    script = [
        Reply(500, b"random failure") if rng.random() < fail_rate else Reply(200) for _ in range(n * 20)
    ]
    receiver = await Receiver().start()
    receiver.answer(*script)
    names = [f"R{i}" for i in range(n)]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="delivery-bench-") as scratch:
        server = ServerProcess(
            f"sqlite+aiosqlite:///{scratch}/a.db", Path(scratch), ["--log-level", "warning"]
        )
        server.start()
        try:
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as api:
                await _setup(api, receiver.url("/hook"))
                await _post(api, names)
            for _ in range(kills):
                await asyncio.sleep(rng.uniform(1.0, 3.0))
                server.kill()
                server.start()
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                ok = {
                    r.headers["idempotency-key"]
                    for r, s in zip(receiver.requests, script, strict=False)
                    if s.status == 200
                }
                if len(ok) >= n:
                    break
                await asyncio.sleep(0.2)
        finally:
            server.kill()
            await receiver.close()
    elapsed = time.monotonic() - start
    accepted: Counter[str] = Counter()
    keys_by_group: dict[str, set[str]] = defaultdict(set)
    for request, reply in zip(receiver.requests, script, strict=False):
        key = request.headers["idempotency-key"]
        keys_by_group[_alertname(request.body)].add(key)
        if reply.status == 200:
            accepted[key] += 1
    delivered_groups = {g for g, keys in keys_by_group.items() if any(accepted[k] for k in keys)}
    duplicated = sum(c - 1 for c in accepted.values())
    return {
        "notifications": n,
        "kills": kills,
        "receiver_fail_rate": fail_rate,
        "requests": len(receiver.requests),
        "delivered": len(delivered_groups),
        "lost": n - len(delivered_groups),
        "duplicated": duplicated,
        "duplicated_ratio": round(duplicated / n, 5),
        "groups_with_more_than_one_key": sum(1 for keys in keys_by_group.values() if len(keys) > 1),
        "seconds": round(elapsed, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--throughput", type=int, default=2000)
    parser.add_argument("--reliability", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = {
        "throughput": await throughput(args.throughput),
        "reliability": await reliability(args.reliability, args.kills, args.fail_rate, args.seed),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
