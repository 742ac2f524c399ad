"""Start timestamps of samples (Prometheus' `use-start-timestamps`): a counter reset told by a
sample's start time, and rate/increase of float samples that know their start times.

A start time of 0 is unknown. rate, irate, increase and resets read them (promql/functions.go
isStartTimestampReset, checkStartTimeOverlap, extrapolatedRate); every other function and every
subquery sees samples without them.
"""

from __future__ import annotations

# The functions that are given the start times of their range's samples (engine.go rangeEval).
FUNCTIONS = frozenset({"rate", "irate", "increase", "resets"})

OVERLAP = "PromQL warning: sample has start time that overlaps with previous sample timestamp"


def is_reset(prev_st: int, prev_t: int, curr_st: int, curr_t: int) -> bool:
    """Whether the current sample's start time tells a counter reset since the previous sample."""
    if curr_st == 0 or curr_st >= curr_t:
        # Unknown, invalid (after the sample) or OTel's unknown start (at the sample).
        return False
    if curr_st < prev_t:
        return False
    if curr_st > prev_t:
        return True
    # The start time is the previous sample's time: a delta sample (a reset) when the previous one
    # has a known, valid start time of its own; a cumulative series of unknown start otherwise.
    if prev_st > prev_t:
        return False
    return prev_st not in (0, prev_t)


def overlaps(prev_st: int, prev_t: int, curr_st: int) -> bool:
    """Whether the current sample starts before the previous one and not where it started."""
    return curr_st != 0 and curr_st < prev_t and curr_st != prev_st


def extrapolated_rate(
    ts: list[int],
    vs: list[float],
    sts: list[int],
    range_start: int,
    range_end: int,
    range_ms: int,
    is_rate: bool,
) -> tuple[float | None, bool]:
    """rate (is_rate) or increase of a counter's float samples in the window (range_start,
    range_end], with their start times; and whether two of them overlap. With a start time inside
    the window before the first sample, a zero sample is assumed there instead of extrapolating to
    the left, which also gives a result for a single sample."""
    overlap = False
    if not ts:
        return None, overlap
    first_t, last_t = ts[0], ts[-1]
    result = vs[-1] - vs[0]
    for i in range(1, len(ts)):
        if not overlap and overlaps(sts[i - 1], ts[i - 1], sts[i]):
            overlap = True
        if vs[i] < vs[i - 1] or is_reset(sts[i - 1], ts[i - 1], sts[i], ts[i]):
            result += vs[i - 1]
    to_start = (first_t - range_start) / 1000
    to_end = (range_end - last_t) / 1000
    sampled = (last_t - first_t) / 1000
    avg_between = sampled / (len(ts) - 1) if len(ts) > 1 else 0.0
    threshold = avg_between * 1.1
    st0 = sts[0]
    if st0 != 0 and range_start < st0 < first_t:
        to_start = 0.0
        sampled = (last_t - st0) / 1000
        result += vs[0]
    elif len(ts) == 1:
        return None, overlap
    else:
        if to_start >= threshold:
            to_start = avg_between / 2
        to_zero = to_start
        if result > 0 and vs[0] >= 0:
            to_zero = sampled * (vs[0] / result)
        if to_zero < to_start:
            to_start = to_zero
    if to_end >= threshold:
        to_end = avg_between / 2
    factor = 1.0
    if sampled != 0:
        factor = (sampled + to_start + to_end) / sampled
    if is_rate:
        factor /= range_ms / 1000
    return result * factor, overlap
