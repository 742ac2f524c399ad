"""rate, increase and delta for every series and step at once (Prometheus' extrapolatedRate).

The arithmetic is the scalar one of range_functions._extrapolated, operation for operation,
so that the results are bit for bit the same; windows holding a counter reset fall back to
it, because the order in which numpy adds the reset corrections matters.
"""

from __future__ import annotations

import numpy as np

from alerting_server.query import start_times
from alerting_server.query.histogram import CounterResetHint, FloatHistogram, HistogramError
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
    # A window past a matrix's last sample starts at len(vs): one more entry, no drop after the end.
    before = np.append(before, before[-1])
    inside = before[np.maximum(hi - 1, lo)] - before[lo]
    fn = RANGE_FUNCTIONS[name]
    for row, i in zip(*np.nonzero(present & (inside > 0)), strict=True):
        a, b = int(lo[row, i]), int(hi[row, i])
        window_end = int(matrix.window_end[i])
        window = Window(window_end - matrix.range_ms, window_end, matrix.range_ms, 0, ())
        result = fn(ts[a:b], vs[a:b], window)
        assert result is not None
        values[row, i] = result


# Native histograms (histogramRate and the histogram half of extrapolatedRate).

NOT_COUNTER = "not a counter"
NOT_GAUGE = "not a gauge"
MIXED_TYPES = "mixed floats and histograms"
MIXED_SCHEMAS = "mixed exponential and custom"
RECONCILED_SUB = "reconciled in subtraction"
RECONCILED_ADD = "reconciled in addition"
OVERLAP = "start time overlaps"


def histogram_extrapolated(
    name: str,
    ts: list[int],
    hists: list[FloatHistogram],
    start: int,
    end: int,
    range_ms: int,
    notes: set[str],
    starts: list[int] | None = None,
) -> FloatHistogram | None:
    """rate, increase or delta of the histogram samples (times ts, start times `starts` or none)
    of a window (start, end]; what calls for an annotation is added to `notes`."""
    is_counter = name != "delta"
    st0 = starts[0] if starts else 0
    from_start = is_counter and st0 != 0 and start < st0 < ts[0]
    if len(hists) < 2 and not from_start:
        return None
    result: FloatHistogram | None = None
    if len(hists) > 1:
        result = _histogram_rate(hists, is_counter, notes, ts, starts)
        if result is None:
            return None
    first_t, last_t = ts[0], ts[-1]
    to_start = (first_t - start) / 1000
    to_end = (end - last_t) / 1000
    sampled = (last_t - first_t) / 1000
    avg_between = sampled / (len(hists) - 1) if len(hists) > 1 else 0.0
    threshold = avg_between * 1.1
    if from_start:
        # A zero sample assumed at the first sample's start time, instead of extrapolating left.
        to_start = 0.0
        sampled = (last_t - st0) / 1000
        if result is None:
            result = hists[0].copy()
        else:
            try:
                result, _, reconciled = result.add(hists[0])
            except HistogramError:
                notes.add(MIXED_SCHEMAS)
                return None
            if reconciled:
                notes.add(RECONCILED_ADD)
    else:
        assert result is not None
        if to_start >= threshold:
            to_start = avg_between / 2
        if is_counter and result.count > 0 and hists[0].count >= 0:
            to_zero = sampled * (hists[0].count / result.count)
            to_start = min(to_start, to_zero)
    if to_end >= threshold:
        to_end = avg_between / 2
    factor = (sampled + to_start + to_end) / sampled if sampled != 0 else 1.0
    if name == "rate":
        factor /= range_ms / 1000
    hint = result.counter_reset_hint
    scaled = result.mul(factor)
    scaled.counter_reset_hint = hint
    return scaled


def _histogram_rate(
    points: list[FloatHistogram],
    is_counter: bool,
    notes: set[str],
    ts: list[int],
    starts: list[int] | None = None,
) -> FloatHistogram | None:
    """histogramRate: the increase of the histograms (at times ts, with start times `starts` or
    none) that rate, increase and delta extrapolate."""
    prev, last = points[0], points[-1]
    overlap = False
    custom = prev.uses_custom_buckets()
    if is_counter and CounterResetHint.GAUGE in (prev.counter_reset_hint, last.counter_reset_hint):
        notes.add(NOT_COUNTER)

    def reset_at(k: int) -> bool:
        """Whether the start time of sample k tells a reset since sample k - 1."""
        return starts is not None and start_times.is_reset(starts[k - 1], ts[k - 1], starts[k], ts[k])

    if is_counter and (reset_at(1) or points[1].detect_reset(prev)):
        prev = FloatHistogram(schema=points[1].schema, custom_values=points[1].custom_values)
        custom = points[1].uses_custom_buckets()
    if last.uses_custom_buckets() != custom:
        notes.add(MIXED_SCHEMAS)
        return None
    min_schema = min(last.schema, prev.schema)
    for curr in points[1:-1]:
        if not is_counter:
            continue
        if curr.counter_reset_hint == CounterResetHint.GAUGE:
            notes.add(NOT_COUNTER)
        min_schema = min(min_schema, curr.schema)
        if curr.uses_custom_buckets() != custom:
            notes.add(MIXED_SCHEMAS)
            return None
    h = (
        last
        if last.schema == min_schema or last.uses_custom_buckets()
        else last.reduce_resolution(min_schema)
    )
    try:
        h, _, reconciled = h.sub(prev)
        if reconciled:
            notes.add(RECONCILED_SUB)
        if is_counter:
            for k, curr in enumerate(points[1:], 1):
                if (
                    starts is not None
                    and not overlap
                    and start_times.overlaps(starts[k - 1], ts[k - 1], starts[k])
                ):
                    overlap = True
                    notes.add(OVERLAP)
                if reset_at(k) or curr.detect_reset(prev):
                    h, _, reconciled = h.add(prev)
                    if reconciled:
                        notes.add(RECONCILED_ADD)
                prev = curr
    except HistogramError:
        notes.add(MIXED_SCHEMAS)
        return None
    if not is_counter and (
        points[0].counter_reset_hint != CounterResetHint.GAUGE
        or points[-1].counter_reset_hint != CounterResetHint.GAUGE
    ):
        notes.add(NOT_GAUGE)
    h = h.compact()
    h.counter_reset_hint = CounterResetHint.GAUGE
    return h
