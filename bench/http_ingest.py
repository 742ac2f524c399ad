"""Samples/s through the real server's HTTP ingest: POST /samples (JSON) and POST /api/v1/write.

The server runs as its own process (`alerting-server serve`), the clients here, so the figure is what
a sender on the same machine sees. Used by query_bench.py.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cramjam
import httpx

from gateway.remote_write import WriteRequest

CLIENTS = 4
BATCHES = 200
SERIES_PER_BATCH = 100
SAMPLES_PER_SERIES = 10
STEP_MS = 15_000
T0_MS = 1_700_000_000_000
_READY = re.compile(r"HTTP on (\S+)")

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
    """Starts the server on free ports in a scratch directory, measures both ingest paths, stops it."""
    with tempfile.TemporaryDirectory(prefix="alerting-bench-") as scratch:
        command = [sys.executable, "-m", "alerting_server.cli", "serve", "--log-level", "warning"]
        command += ["--grpc-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"]
        proc = subprocess.Popen(
            command,
            cwd=scratch,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                m = _READY.search(line)
                if m:
                    base_url = f"http://{m.group(1)}"
                    break
            else:
                raise RuntimeError("the server did not start")
            json_figures = _measure(base_url, "/samples", _json_batch, {"Content-Type": "application/json"})
            rw_headers = {
                "Content-Type": "application/x-protobuf",
                "Content-Encoding": "snappy",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            }
            rw_figures = _measure(base_url, "/api/v1/write", _remote_write_batch, rw_headers)
        finally:
            proc.terminate()
            proc.wait(30)
            if proc.stdout is not None:
                proc.stdout.close()
        assert Path(scratch, "data").exists()
    return {"json": json_figures, "remote_write": rw_figures}
