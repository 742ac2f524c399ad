"""Queries evaluated together (Engine.instant_many) give exactly what each gives alone (Engine.instant)."""

from __future__ import annotations

import random

import pytest

from alerting_server.query.durable import DurableTSDB
from alerting_server.query.engine import Engine
from alerting_server.query.labels import Labels
from alerting_server.query.storage import STALE_NAN
from alerting_server.query.tsdb import TSDB, Sample

S = 1000
NOW = 3_600_000


def labels(**kv: str) -> Labels:
    return tuple(sorted(kv.items()))


def alone(engine: Engine, query: str, t_ms: int) -> list[tuple[Labels, float]]:
    result = engine.instant(query, t_ms)
    return sorted((s.labels, float(s.values[0])) for s in result.series)


def same(a: list[tuple[Labels, float]], b: list[tuple[Labels, float]]) -> bool:
    return len(a) == len(b) and all(
        la == lb and (va == vb or (va != va and vb != vb)) for (la, va), (lb, vb) in zip(a, b, strict=True)
    )


def random_store(seed: int) -> TSDB:
    """Counters with resets and gaps, gauges with NaN and stale markers, series that stopped long ago."""
    rng = random.Random(seed)
    db = TSDB(retention_ms=1 << 62)
    batch: list[Sample] = []
    for host in range(40):
        for job in ("api", "db"):
            start = rng.choice([0, NOW - 20 * 60 * S, NOW - 4 * 60 * S, NOW - 30 * S])
            step = rng.choice([10 * S, 15 * S, 60 * S])
            counter = 0.0
            t = start
            while t <= NOW:
                counter = 0.0 if rng.random() < 0.05 else counter + rng.randint(0, 50)
                if rng.random() > 0.1:
                    batch.append(Sample(labels(__name__="reqs_total", host=f"h{host}", job=job), t, counter))
                gauge = (
                    rng.choice([rng.uniform(0, 100), float("nan"), STALE_NAN])
                    if rng.random() < 0.05
                    else (rng.uniform(0, 100))
                )
                batch.append(Sample(labels(__name__="cpu", host=f"h{host}", job=job), t, gauge))
                t += step
    batch.sort(key=lambda s: s.t_ms)
    db.append(batch)
    return db


PER_GROUP = ("count", "group", "stddev", "stdvar")
QUERIES = [
    *(f'rate(reqs_total{{host="h{h}"}}[5m]) > {h % 3}' for h in range(20)),
    *(f'{h} < increase(reqs_total{{host="h{h}", job="api"}}[10m])' for h in range(10)),
    *(f'cpu{{host="h{h}"}} > {h * 2}' for h in range(25)),
    *(f'cpu{{host=~"h{h}.*"}} <= 50' for h in range(4)),
    *(f'(cpu{{host="h{h}"}}) != 3' for h in range(3)),
    *(f'avg_over_time(cpu{{job="db", host!="h{h}"}}[2m])' for h in range(3)),
    *(f'last_over_time(cpu{{host="h{h}"}}[1m]) >= 10' for h in range(5)),
    *(f'changes(reqs_total{{host="h{h}"}}[15m])' for h in range(5)),
    *(f'irate(reqs_total{{host="h{h}"}}[1m]) == 0' for h in range(5)),
    'cpu{host="nowhere"} > 1',
    'cpu{host="nowhere2"} > 1',
    # Aggregations by every label their matchers are on.
    *(f'avg by (host) (cpu{{host="h{h}"}}) > {h * 4}' for h in range(12)),
    *(f'sum by (host, job) (rate(reqs_total{{host="h{h}", job="api"}}[5m])) > 0.5' for h in range(6)),
    *(f'{h} < sum by (job, host) (increase(reqs_total{{host="h{h}"}}[10m]))' for h in range(6)),
    *(f'max by (job, host) (cpu{{host=~"h{h}.*"}})' for h in range(4)),
    *(f'min by (job) (cpu{{job{op}"api"}})' for op in ("=", "!=", "=~", "!~")),
    *(f'{op} by (host) (cpu{{host="h{h}"}})' for op in PER_GROUP for h in (1, 2)),
    *(f'count by (zone) (cpu{{zone{op}""}})' for op in ("=", "!=")),
    *(f'sum by (host) (changes(reqs_total{{host="h{h}"}}[15m])) != 1' for h in range(3)),
    'avg by (host) (cpu{host="nowhere"}) > 1',
    'avg by (host) (cpu{host="nowhere2"}) > 1',
]


@pytest.mark.parametrize("seed", range(4))
def test_every_query_evaluated_together_is_what_it_is_alone(seed: int) -> None:
    engine = Engine(random_store(seed))
    for t in (NOW, NOW - 90 * S, NOW + 4 * 60 * S):
        together = engine.instant_many(QUERIES, t)
        assert set(together) == set(QUERIES)
        for query in QUERIES:
            assert same(sorted(together[query]), alone(engine, query, t)), (query, t)


def test_names_survive_as_each_query_alone_keeps_them() -> None:
    db = TSDB(retention_ms=1 << 62)
    db.append(
        [
            Sample(labels(__name__="cpu", host="a"), NOW, 90.0),
            Sample(labels(__name__="cpu", host="b"), NOW, 91.0),
            Sample(labels(__name__="reqs_total", host="a"), NOW - 60 * S, 0.0),
            Sample(labels(__name__="reqs_total", host="a"), NOW, 600.0),
            Sample(labels(__name__="reqs_total", host="b"), NOW - 60 * S, 0.0),
            Sample(labels(__name__="reqs_total", host="b"), NOW, 60.0),
        ]
    )
    engine = Engine(db)
    got = engine.instant_many(
        [
            'cpu{host="a"} > 50',
            'cpu{host="b"} > 95',
            'rate(reqs_total{host="a"}[5m]) > 1',
            'rate(reqs_total{host="b"}[5m]) > 1',
            'last_over_time(cpu{host="a"}[5m])',
            'last_over_time(cpu{host="b"}[5m])',
        ],
        NOW,
    )
    assert got['cpu{host="a"} > 50'] == [(labels(__name__="cpu", host="a"), 90.0)]
    assert got['cpu{host="b"} > 95'] == []
    assert got['rate(reqs_total{host="a"}[5m]) > 1'] == [(labels(host="a"), 2.0)]
    assert got['rate(reqs_total{host="b"}[5m]) > 1'] == []
    assert got['last_over_time(cpu{host="b"}[5m])'] == [(labels(__name__="cpu", host="b"), 91.0)]


NOT_SHARED = [
    'cpu{host="a"} > bool 5',
    'cpu{host="a"} offset 1m > 5',
    'cpu{host="a"} @ 100 > 5',
    '{__name__=~"cpu"} > 5',
    '{host="a"} > 5',
    'sum(cpu{host="a"}) > 5',
    'sum by (host) (cpu{job="a"}) > 5',
    'sum by (host) (cpu{host="a", job="a"}) > 5',
    'sum without (job) (cpu{host="a"}) > 5',
    'topk by (host) (1, cpu{host="a"})',
    'quantile by (host) (0.5, cpu{host="a"})',
    'sum by (host) (cpu{host="a"} offset 1m)',
    'sum by (host) (sum by (host, job) (cpu{host="a"}))',
    'sum by (host) (cpu{host="a"} * 2)',
    'cpu{host="a"} > cpu{host="b"}',
    'cpu{host="a"} + 5',
    'absent(cpu{host="a"})',
    'absent_over_time(cpu{host="a"}[5m])',
    'quantile_over_time(0.5, cpu{host="a"}[5m])',
    'rate(reqs_total{host="a"}[5m:1m]) > 1',
    "1 > 0",
    "not a query (",
]


def test_queries_that_are_not_per_series_are_left_to_instant() -> None:
    db = TSDB(retention_ms=1 << 62)
    db.append([Sample(labels(__name__="cpu", host="a", job="a"), NOW, 90.0)])
    engine = Engine(db)
    # Each appears twice so that it would have company if it could be shared.
    assert engine.instant_many(NOT_SHARED + NOT_SHARED, NOW) == {}


def test_one_query_of_a_kind_is_left_to_instant() -> None:
    db = TSDB(retention_ms=1 << 62)
    db.append([Sample(labels(__name__="cpu", host="a"), NOW, 90.0)])
    got = Engine(db).instant_many(['cpu{host="a"} > 5', 'rate(reqs_total{host="a"}[5m]) > 1'], NOW)
    assert got == {}


def test_durable_store_shares_too(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    with DurableTSDB(tmp_path / "tsdb") as db:
        db.append([Sample(labels(__name__="cpu", host=h), NOW, 80.0 + i) for i, h in enumerate("abc")])
        got = Engine(db).instant_many(['cpu{host="a"} > 79', 'cpu{host="c"} > 90'], NOW)
        assert got == {
            'cpu{host="a"} > 79': [(labels(__name__="cpu", host="a"), 80.0)],
            'cpu{host="c"} > 90': [],
        }


def test_series_that_come_and_go_are_seen_at_the_next_evaluation() -> None:
    db = TSDB(retention_ms=10 * 60 * S)
    db.append([Sample(labels(__name__="cpu", host="a", core="0"), NOW, 90.0)])
    engine = Engine(db)
    queries = [
        'cpu{host="a"} > 50',
        'cpu{host="b"} > 50',
        'sum by (host) (cpu{host="a"}) > 50',
        'sum by (host) (cpu{host="b"}) > 50',
    ]
    got = engine.instant_many(queries, NOW)
    assert [len(got[q]) for q in queries] == [1, 0, 1, 0]

    # A new series of each selection: the selections made before are not reused.
    db.append(
        [
            Sample(labels(__name__="cpu", host="a", core="1"), NOW + S, 60.0),
            Sample(labels(__name__="cpu", host="b", core="0"), NOW + S, 70.0),
        ]
    )
    got = engine.instant_many(queries, NOW + S)
    assert got['cpu{host="a"} > 50'] == [
        (labels(__name__="cpu", host="a", core="0"), 90.0),
        (labels(__name__="cpu", host="a", core="1"), 60.0),
    ]
    assert got['cpu{host="b"} > 50'] == [(labels(__name__="cpu", host="b", core="0"), 70.0)]
    assert got['sum by (host) (cpu{host="a"}) > 50'] == [(labels(host="a"), 150.0)]

    # Retention removes the first series: it is gone from the selections too.
    db.append([Sample(labels(__name__="cpu", host="a", core="1"), NOW + 10 * 60 * S, 60.0)])
    db.enforce_retention(NOW + 10 * 60 * S + S // 2)
    got = engine.instant_many(queries, NOW + 10 * 60 * S + S)
    assert got['sum by (host) (cpu{host="a"}) > 50'] == [(labels(host="a"), 60.0)]
