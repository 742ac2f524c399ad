"""rate, increase and delta for every series and step at once (Prometheus' extrapolatedRate).

The arithmetic is the scalar one of range_functions._extrapolated, operation for operation,
so that the results are bit for bit the same; windows holding a counter reset fall back to
it, because the order in which numpy adds the reset corrections matters.
"""

from __future__ import annotations

import numpy as np

from alerting_server.query.range_functions import RANGE_FUNCTIONS, Window
from alerting_server.query.segments import Index
from alerting_server.query.steps import Mask, Matrix
from alerting_server.query.storage import Values

EXTRAPOLATED = {"rate", "increase", "delta"}


def extrapolated(name: str, matrix: Matrix, lo: Index, hi: Index) -> tuple[Values, Mask]:
    """Values and presence (series x steps) of `name` over the windows [lo, hi) of the flat arrays."""
    is_counter = name != "delta"
    is_rate = name == "rate"
    ts, vs = matrix.timestamps, matrix.values
    count = hi - lo
    present = count >= 2
    first = np.where(present, lo, 0)
    last = np.where(present, hi - 1, 0)
    if not len(ts):
        return np.zeros(lo.shape), present
    first_t, last_t = ts[first], ts[last]
    first_v, last_v = vs[first], vs[last]
    start = (matrix.window_end - matrix.range_ms)[None, :]
    end = matrix.window_end[None, :]
    with np.errstate(all="ignore"):
        result = last_v - first_v
        to_start = (first_t - start) / 1000
        to_end = (end - last_t) / 1000
        sampled = (last_t - first_t) / 1000
        avg_between = sampled / (count - 1)
        threshold = avg_between * 1.1
        to_start = np.where(to_start >= threshold, avg_between / 2, to_start)
        if is_counter:
            to_zero = np.where((result > 0) & (first_v >= 0), sampled * (first_v / result), to_start)
            to_start = np.where(to_zero < to_start, to_zero, to_start)
        to_end = np.where(to_end >= threshold, avg_between / 2, to_end)
        factor = (sampled + to_start + to_end) / sampled
        if is_rate:
            factor /= matrix.range_ms / 1000
        values = result * factor
    if is_counter:
        _redo_resets(name, matrix, lo, hi, present, values)
    return np.where(present, values, 0.0), present


def _redo_resets(name: str, matrix: Matrix, lo: Index, hi: Index, present: Mask, values: Values) -> None:
    ts, vs = matrix.timestamps, matrix.values
    # drops[j]: sample j+1 is below sample j within the same series.
    drops = vs[1:] < vs[:-1]
    cuts = matrix.offsets[1:-1]
    drops[cuts[(cuts > 0) & (cuts < len(vs))] - 1] = False
    before = np.concatenate(([0], np.cumsum(drops)))
    inside = before[np.maximum(hi - 1, lo)] - before[lo]
    fn = RANGE_FUNCTIONS[name]
    for row, i in zip(*np.nonzero(present & (inside > 0)), strict=True):
        a, b = int(lo[row, i]), int(hi[row, i])
        window_end = int(matrix.window_end[i])
        window = Window(window_end - matrix.range_ms, window_end, matrix.range_ms, 0, ())
        result = fn(ts[a:b], vs[a:b], window)
        assert result is not None
        values[row, i] = result
