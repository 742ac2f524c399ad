"""Benchmark of the embedded store and query engine: ingest rate and alert-query latency.

Prints one JSON document on stdout. Run by `make bench`, never by the tests. Everything is
in-process (no gateway, no gRPC): it measures the TSDB and the PromQL evaluator alone.
Data are generated from a fixed seed, so two runs on one machine see the same samples.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import http_ingest
import numpy as np
import numpy.typing as npt

from alerting_server.query import TSDB, Engine, Labels, Sample

SEED = 20240601
T0_MS = 1_700_000_000_000
STEP_MS = 15_000
SAMPLES_PER_SERIES = 30
BATCH = 1_000
JOBS = 10
BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
# The last sample: a 5m range there covers 20 samples of every series.
QUERY_T_MS = T0_MS + (SAMPLES_PER_SERIES - 1) * STEP_MS
SMALL = 10_000
LARGE = 100_000
REPS_SMALL = 20
WARMUP_SMALL = 2
REPS_LARGE = 10
WARMUP_LARGE = 1
# The whole run must stay under ~3 minutes on a 2-core machine shared with other work.
BUDGET_S = 170.0

THRESHOLD = "cpu_usage > 90"
RATE = "rate(http_requests_total[5m]) > 10"
RATIO = "sum by (job)(rate(errors_total[5m])) / sum by (job)(rate(http_requests_total[5m])) > 0.05"
QUANTILE = "histogram_quantile(0.99, sum by (le, job)(rate(latency_bucket[5m]))) > 0.5"

Matrix = npt.NDArray[np.float64]
Json = dict[str, object]


@dataclass(frozen=True)
class Family:
    """Labels of N series and their values at each of the SAMPLES_PER_SERIES scrapes (rows)."""

    metric: str
    labels: list[Labels]
    values: Matrix


def _labels(metric: str, n: int) -> list[Labels]:
    out = []
    for i in range(n):
        pairs = (
            ("__name__", metric),
            ("instance", f"host-{i:06d}:9100"),
            ("job", f"job-{i % JOBS}"),
        )
        out.append(tuple(sorted(pairs)))
    return out


def gauge(n: int, rng: np.random.Generator) -> Family:
    values = rng.uniform(0.0, 100.0, size=(SAMPLES_PER_SERIES, n))
    return Family("cpu_usage", _labels("cpu_usage", n), values)


def counters(n: int, rng: np.random.Generator) -> tuple[Family, Family]:
    """http_requests_total and errors_total over the same instances, errors a per-series fraction."""
    per_s = rng.uniform(0.0, 20.0, size=n)
    error_fraction = rng.uniform(0.0, 0.1, size=n)
    increments = rng.poisson(per_s * STEP_MS / 1000, size=(SAMPLES_PER_SERIES, n)).astype(np.float64)
    requests = np.cumsum(increments, axis=0)
    errors = np.floor(requests * error_fraction)
    return (
        Family("http_requests_total", _labels("http_requests_total", n), requests),
        Family("errors_total", _labels("errors_total", n), errors),
    )


def histogram(n: int, rng: np.random.Generator) -> Family:
    """Classic buckets: n series make n / len(BUCKETS) histograms, each cumulative in `le`."""
    hists = n // len(BUCKETS)
    # A per-histogram latency profile: a monotone CDF over the bucket bounds ending at 1 (+Inf).
    weights = rng.dirichlet(np.ones(len(BUCKETS)), size=hists)
    cdf = np.cumsum(weights, axis=1)
    cdf[:, -1] = 1.0
    observed = np.cumsum(rng.poisson(30.0, size=(SAMPLES_PER_SERIES, hists)), axis=0)
    counts = np.floor(observed[:, :, None] * cdf[None, :, :]).reshape(
        SAMPLES_PER_SERIES, hists * len(BUCKETS)
    )

    labels = [
        tuple(sorted((*base, ("le", le)))) for base in _labels("latency_bucket", hists) for le in BUCKETS
    ]
    return Family("latency_bucket", labels, counts.astype(np.float64))


def batches(family: Family) -> Iterator[list[Sample]]:
    """Scrape order: every series at one timestamp before any series at the next."""
    n = len(family.labels)
    for row in range(SAMPLES_PER_SERIES):
        t = T0_MS + row * STEP_MS
        values: list[float] = family.values[row].tolist()
        for lo in range(0, n, BATCH):
            hi = min(lo + BATCH, n)
            yield [Sample(family.labels[i], t, values[i]) for i in range(lo, hi)]


@dataclass(frozen=True)
class Ingest:
    metric: str
    series: int
    samples: int
    append_s: float
    # Generating and loading the family, Sample objects included: what a larger scale would cost.
    wall_s: float

    def json(self) -> Json:
        return {
            "metric": self.metric,
            "series": self.series,
            "samples": self.samples,
            "batch_size": BATCH,
            "append_seconds": round(self.append_s, 3),
            "samples_per_s": round(self.samples / self.append_s),
        }


@dataclass(frozen=True)
class Latency:
    query: str
    warmup: int
    result_series: int
    times_ms: list[float]

    @property
    def total_s(self) -> float:
        return sum(self.times_ms) / 1000

    def json(self) -> Json:
        ms = np.array(self.times_ms)
        return {
            "query": self.query,
            "repetitions": len(self.times_ms),
            "warmup": self.warmup,
            "result_series": self.result_series,
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "min_ms": round(float(ms.min()), 2),
            "max_ms": round(float(ms.max()), 2),
        }


def ingest(db: TSDB, make: Callable[[], Family]) -> Ingest:
    """Times TSDB.append alone for the figure; building the Sample objects is outside that clock."""
    gc.collect()
    began = time.perf_counter()
    family = make()
    spent = 0.0
    samples = 0
    for batch in batches(family):
        start = time.perf_counter()
        result = db.append(batch)
        spent += time.perf_counter() - start
        if result.rejected:
            raise RuntimeError(f"{family.metric}: {result.rejected} samples rejected: {result.errors[:3]}")
        samples += result.accepted
    return Ingest(family.metric, len(family.labels), samples, spent, time.perf_counter() - began)


def latency(engine: Engine, query: str, reps: int, warmup: int) -> Latency:
    gc.collect()
    result_series = 0
    for _ in range(warmup):
        result_series = len(engine.instant(query, QUERY_T_MS).series)
    if result_series == 0:
        raise RuntimeError(f"{query!r} returned nothing: the data would not exercise it")
    times_ms = []
    for _ in range(reps):
        start = time.perf_counter()
        engine.instant(query, QUERY_T_MS)
        times_ms.append((time.perf_counter() - start) * 1000)
    return Latency(query, warmup, result_series, times_ms)


@dataclass(frozen=True)
class Scale:
    series_per_metric: int
    store_series: int
    loads: list[Ingest]
    queries: dict[str, Latency]

    def json(self) -> Json:
        return {
            "series_per_metric": self.series_per_metric,
            "store_series": self.store_series,
            "ingest": [load.json() for load in self.loads],
            "queries": {name: lat.json() for name, lat in self.queries.items()},
        }


def small_scale(rng: np.random.Generator) -> Scale:
    """All four alert shapes, SMALL series for each metric."""
    db = TSDB()
    requests, errors = counters(SMALL, rng)
    loads = [
        ingest(db, lambda: gauge(SMALL, rng)),
        ingest(db, lambda: requests),
        ingest(db, lambda: errors),
        ingest(db, lambda: histogram(SMALL, rng)),
    ]
    engine = Engine(db)
    queries = {
        "threshold": latency(engine, THRESHOLD, REPS_SMALL, WARMUP_SMALL),
        "rate": latency(engine, RATE, REPS_SMALL, WARMUP_SMALL),
        "ratio_of_rates": latency(engine, RATIO, REPS_SMALL, WARMUP_SMALL),
        "histogram_quantile": latency(engine, QUANTILE, REPS_SMALL, WARMUP_SMALL),
    }
    return Scale(SMALL, db.series_count, loads, queries)


def large_projection_s(small: Scale) -> float:
    """What the large scale should take, from the small one: ingest and queries are linear in series."""
    factor = LARGE / SMALL
    load_s = sum(load.wall_s for load in small.loads[:2])
    runs = (REPS_LARGE + WARMUP_LARGE) / len(small.queries["threshold"].times_ms)
    query_s = runs * (small.queries["threshold"].total_s + small.queries["rate"].total_s)
    return factor * (load_s + query_s)


def large_scale(rng: np.random.Generator) -> Scale:
    """Only the two cheapest alert shapes, the brief keeps the others to the small scale."""
    db = TSDB()
    loads = [ingest(db, lambda: gauge(LARGE, rng)), ingest(db, lambda: counters(LARGE, rng)[0])]
    engine = Engine(db)
    queries = {
        "threshold": latency(engine, THRESHOLD, REPS_LARGE, WARMUP_LARGE),
        "rate": latency(engine, RATE, REPS_LARGE, WARMUP_LARGE),
    }
    return Scale(LARGE, db.series_count, loads, queries)


def main() -> None:
    began = time.perf_counter()
    load_start = os.getloadavg()
    rng = np.random.default_rng(SEED)
    small = small_scale(rng)
    scales: Json = {str(SMALL): small.json()}
    skipped: Json = {
        f"ratio_of_rates@{LARGE}": f"the brief keeps this shape to {SMALL} series",
        f"histogram_quantile@{LARGE}": f"the brief keeps this shape to {SMALL} series",
    }
    projected = large_projection_s(small)
    elapsed = time.perf_counter() - began
    if elapsed + projected > BUDGET_S:
        reason = (
            f"projected {projected:.0f}s on top of the {elapsed:.0f}s spent "
            f"would exceed the {BUDGET_S:.0f}s budget"
        )
        skipped[f"threshold@{LARGE}"] = skipped[f"rate@{LARGE}"] = reason
    else:
        scales[str(LARGE)] = large_scale(rng).json()
    report: Json = {
        "benchmark": "query",
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0],
            "implementation": platform.python_implementation(),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "seed": SEED,
        "samples_per_series": SAMPLES_PER_SERIES,
        "scrape_interval_ms": STEP_MS,
        "query_t_ms": QUERY_T_MS,
        "ingest": small.loads[0].json(),
        "http_ingest": http_ingest.measure(),
        "scales": scales,
        "skipped": skipped,
        "large_projected_seconds": round(projected, 1),
        "wall_seconds": round(time.perf_counter() - began, 1),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
