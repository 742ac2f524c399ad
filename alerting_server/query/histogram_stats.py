"""The counter reset hints Prometheus' HistogramStatsIterator makes up while it reads.

Under histogram_count, histogram_sum and histogram_avg (and no subquery, histogram_quantile(s),
histogram_fraction or trim between them and the selector: detectHistogramStatsDecoding), Prometheus
reads a selector's histograms through that iterator. A histogram whose stored hint is unknown is
then told a reset or not by comparing it with the histogram read just before it in the same pass,
so an aggregation of them can see conflicting resets. A pass starts over (nothing read before) when
a step's window begins after the last sample read: the first histogram it reads stays unknown.
"""

from __future__ import annotations

import numpy as np
import promql_parser as pp

from alerting_server.query import trim
from alerting_server.query.ast import children
from alerting_server.query.histogram import CounterResetHint, FloatHistogram
from alerting_server.query.steps import Histograms
from alerting_server.query.storage import Timestamps

_STATS_FUNCTIONS = frozenset({"histogram_count", "histogram_sum", "histogram_avg"})
_WHOLE_HISTOGRAM_FUNCTIONS = frozenset({"histogram_quantile", "histogram_quantiles", "histogram_fraction"})


def stats_selectors(expr: pp.Expr, trims: trim.Marks) -> frozenset[int]:
    """id() of the VectorSelectors (alone or in a range selector) read through the stats iterator."""
    found: set[int] = set()
    # (node, under a stats function, under something that needs the buckets)
    stack: list[tuple[pp.Expr, bool, bool]] = [(expr, False, False)]
    while stack:
        node, stats, whole = stack.pop()
        if isinstance(node, pp.VectorSelector):
            if stats and not whole:
                found.add(id(node))
            continue
        if isinstance(node, pp.Call):
            stats = stats or node.func.name in _STATS_FUNCTIONS
            whole = whole or node.func.name in _WHOLE_HISTOGRAM_FUNCTIONS
        elif isinstance(node, pp.SubqueryExpr) or id(node) in trims:
            whole = True
        stack.extend((child, stats, whole) for child in children(node))
    return frozenset(found)


def rehint(
    timestamps: Timestamps,
    histograms: Histograms,
    offsets: np.ndarray,
    ref: Timestamps,
    reach_ms: int,
) -> Histograms:
    """The histograms of a selector's series (offsets[i]:offsets[i+1] each) with the hints the stats
    iterator gives them, for steps at `ref` whose windows reach back `reach_ms`."""
    out = histograms.copy()
    steps = np.sort(ref)
    for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
        last: FloatHistogram | None = None
        last_ts = 0
        for j in range(a, b):
            h = histograms[j]
            if h is None:
                continue
            ts = int(timestamps[j])
            if h.counter_reset_hint == CounterResetHint.UNKNOWN and last is not None:
                k = int(np.searchsorted(steps, ts))
                # The step that first reads this sample seeks past `last` when its window starts
                # after it.
                if k < len(steps) and last_ts >= int(steps[k]) - reach_ms:
                    h = h.copy()
                    h.counter_reset_hint = (
                        CounterResetHint.COUNTER_RESET
                        if h.detect_reset(last)
                        else CounterResetHint.NOT_COUNTER_RESET
                    )
                    out[j] = h
            last, last_ts = h, ts
    return out
