"""The counter reset hints of Prometheus' HistogramStatsIterator: which selectors are read through
it and what it tells of a histogram whose stored hint is unknown."""

import numpy as np

from alerting_server.query.analysis import analyse
from alerting_server.query.ast import nodes
from alerting_server.query.histogram import CounterResetHint, parse_histogram
from alerting_server.query.histogram_stats import rehint


def _selected(query: str) -> list[str]:
    found = analyse(query)
    return sorted(
        str(n.name) for n in nodes(found.expr) if id(n) in found.stats_selectors and hasattr(n, "name")
    )


def test_only_selectors_under_a_stats_function_with_nothing_needing_buckets_between() -> None:
    assert _selected("histogram_count(sum(a)) + histogram_sum(rate(b[5m]))") == ["a", "b"]
    assert _selected("histogram_count(histogram_quantile(0.5, a))") == []
    assert _selected("histogram_count(sum_over_time(a[5m:1m]))") == []
    assert _selected("histogram_count(a >/ 1) + histogram_avg(b) + sum(c)") == ["b"]


def test_a_reset_is_told_from_the_sample_read_before_unless_the_pass_started_after_it() -> None:
    high = parse_histogram("{{count:3 sum:1 buckets:[3]}}")
    low = parse_histogram("{{count:2 sum:1 buckets:[2]}}")
    higher = parse_histogram("{{count:4 sum:1 buckets:[4]}}")
    hists = np.array([high, low, higher], dtype=object)
    ts = np.array([0, 60_000, 600_000], dtype=np.int64)
    offsets = np.array([0, 3])
    out = rehint(ts, hists, offsets, np.array([600_000], dtype=np.int64), 300_000)
    # The step at 10m reads from 5m on: the sample at 10m is the first it reads.
    assert [h.counter_reset_hint for h in out] == [CounterResetHint.UNKNOWN] * 3
    out = rehint(ts, hists, offsets, np.array([60_000, 600_000], dtype=np.int64), 600_000)
    assert [h.counter_reset_hint for h in out] == [
        CounterResetHint.UNKNOWN,
        CounterResetHint.COUNTER_RESET,
        CounterResetHint.NOT_COUNTER_RESET,
    ]
    assert hists[1].counter_reset_hint == CounterResetHint.UNKNOWN, "the stored samples stay"
