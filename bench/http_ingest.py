"""Samples/s through the real server's HTTP ingest: POST /samples (JSON) and POST /api/v1/write.

The server runs as its own process (`alerting-server serve`), the clients here, so the figure is what
a sender on the same machine sees. Used by query_bench.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import cramjam
import httpx
from serverproc import running_server

from alerting_common.remote_write import WriteRequest

CLIENTS = 4
BATCHES = 200
SERIES_PER_BATCH = 100
SAMPLES_PER_SERIES = 10
STEP_MS = 15_000
T0_MS = 1_700_000_000_000

Json = dict[str, object]


def _json_batch(batch: int, t0: int) -> bytes:
    samples = [
        {
            "name": "bench_json_total",
            "labels": {"batch": str(batch), "series": str(s)},
            "value": float(i),
            "timestamp": t0 + i * STEP_MS,
        }
        for s in range(SERIES_PER_BATCH)
        for i in range(SAMPLES_PER_SERIES)
    ]
    return httpx.Request("POST", "http://x", json={"samples": samples}).read()


def _remote_write_batch(batch: int, t0: int) -> bytes:
    request = WriteRequest()
    for s in range(SERIES_PER_BATCH):
        series = request.timeseries.add()  # type: ignore[attr-defined]
        for name, value in (("__name__", "bench_rw_total"), ("batch", str(batch)), ("series", str(s))):
            label = series.labels.add()
            label.name, label.value = name, value
        for i in range(SAMPLES_PER_SERIES):
            sample = series.samples.add()
            sample.value, sample.timestamp = float(i), t0 + i * STEP_MS
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


async def _send(base_url: str, path: str, bodies: list[bytes], headers: dict[str, str]) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            while not queue.empty():
                r = await http.post(path, content=queue.get_nowait(), headers=headers)
                if r.status_code >= 300:
                    raise RuntimeError(f"{path} answered {r.status_code}: {r.text[:200]}")
                if path == "/samples" and r.json()["rejected"]:
                    raise RuntimeError(f"{path} rejected samples: {r.text[:200]}")

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return time.perf_counter() - began


def _measure(base_url: str, path: str, make: Callable[[int, int], bytes], headers: dict[str, str]) -> Json:
    bodies = [make(b, T0_MS) for b in range(BATCHES)]
    seconds = asyncio.run(_send(base_url, path, bodies, headers))
    samples = BATCHES * SERIES_PER_BATCH * SAMPLES_PER_SERIES
    return {
        "samples": samples,
        "batch_samples": SERIES_PER_BATCH * SAMPLES_PER_SERIES,
        "clients": CLIENTS,
        "seconds": round(seconds, 3),
        "samples_per_second": round(samples / seconds),
    }


def measure() -> Json:
    """Starts the server, measures both ingest paths, stops it."""
    with running_server() as server:
        json_figures = _measure(
            server.base_url, "/samples", _json_batch, {"Content-Type": "application/json"}
        )
        rw_headers = {
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "snappy",
            "X-Prometheus-Remote-Write-Version": "0.1.0",
        }
        rw_figures = _measure(server.base_url, "/api/v1/write", _remote_write_batch, rw_headers)
    return {"json": json_figures, "remote_write": rw_figures}
