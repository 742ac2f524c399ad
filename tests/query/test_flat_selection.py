"""The evaluator reads the embedded store through select_flat (one sample per series for an instant
selector at one step); its answers are those of the plain select() path, sample for sample."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from alerting_server.query.engine import Engine
from alerting_server.query.features import EXPERIMENTAL_FUNCTIONS, USE_START_TIMESTAMPS
from alerting_server.query.histogram import CounterResetHint, FloatHistogram
from alerting_server.query.labels import Labels, Matcher
from alerting_server.query.storage import STALE_NAN, SeriesData
from alerting_server.query.tsdb import CHUNK_SIZE, TSDB, Sample, histogram_sample

S = 1000


class SelectOnly:
    """The same store, seen only through select()."""

    def __init__(self, db: TSDB) -> None:
        self._db = db

    def select(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> list[SeriesData]:
        return self._db.select(matchers, mint_ms, maxt_ms)


def labels(**kv: str) -> Labels:
    return tuple(sorted(kv.items()))


def random_store(seed: int) -> TSDB:
    """Floats with gaps and stale markers, series long enough to fill chunks, some with start
    times, and native histograms."""
    rng = random.Random(seed)
    db = TSDB(retention_ms=1 << 62)
    for t in range(0, (CHUNK_SIZE + 50) * 15 * S, 15 * S):
        batch: list[Sample] = []
        for i in range(6):
            if rng.random() < 0.2:
                continue
            value = STALE_NAN if rng.random() < 0.05 else rng.uniform(0, 100)
            start = t - rng.randint(1, 60) * S if i == 5 else 0
            start = start if rng.random() < 0.8 else 0
            batch.append(Sample(labels(__name__="m", i=str(i)), t, value, st_ms=start))
        if rng.random() < 0.7:
            count = float(t // S)
            h = FloatHistogram(
                schema=0,
                count=count + 2,
                sum=count,
                positive={0: count, 1: 2.0},
                counter_reset_hint=CounterResetHint.UNKNOWN,
            )
            batch.append(histogram_sample(labels(__name__="h", i="0"), t, h))
        db.append(batch)
    return db


QUERIES = [
    "m",
    'm{i="5"}',
    "timestamp(m)",
    "h",
    "histogram_count(h)",
    "histogram_sum(h) + 1",
    "sum by (i) (m)",
    "rate(m[1m])",
    "start_timestamp(m)",
    "start_timestamp(h)",
]
FEATURES = frozenset({EXPERIMENTAL_FUNCTIONS, USE_START_TIMESTAMPS})


def rows(engine: Engine, query: str, t_ms: int) -> list[tuple[Labels, float, FloatHistogram | None]]:
    result = engine.instant(query, t_ms)
    return [(s.labels, float(s.values[0]), s.histogram_at(0)) for s in result.series]


def same_rows(
    a: list[tuple[Labels, float, FloatHistogram | None]], b: list[tuple[Labels, float, FloatHistogram | None]]
) -> bool:
    if [r[0] for r in a] != [r[0] for r in b]:
        return False
    for (_, va, ha), (_, vb, hb) in zip(a, b, strict=True):
        if not (va == vb or (math.isnan(va) and math.isnan(vb))):
            return False
        if (ha is None) != (hb is None) or (ha is not None and hb is not None and not ha.equals(hb)):
            return False
    return True


@pytest.mark.parametrize("seed", range(3))
def test_instant_queries_read_through_select_flat_as_through_select(seed: int) -> None:
    db = random_store(seed)
    flat = Engine(db, features=FEATURES)
    plain = Engine(SelectOnly(db), features=FEATURES)
    end = (CHUNK_SIZE + 50) * 15 * S
    rng = random.Random(seed)
    times = [0, 7 * S, end // 2, end - 1, end + 4 * 60 * S, end + 6 * 60 * S]
    times += [rng.randrange(0, end) for _ in range(20)]
    for t in times:
        for query in QUERIES:
            assert same_rows(rows(flat, query, t), rows(plain, query, t)), (query, t)
