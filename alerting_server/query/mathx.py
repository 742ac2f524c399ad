"""Numeric helpers that must round exactly as Prometheus does (Kahan sums, quantiles, buckets)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SMALL_DELTA_TOLERANCE = 1e-12


def kahan_inc(inc: float, total: float, c: float) -> tuple[float, float]:
    """kahansum.Inc: Neumaier's compensated summation step."""
    inc, total, c = float(inc), float(total), float(c)
    t = total + inc
    if math.isinf(t):
        c = 0.0
    elif abs(total) >= abs(inc):
        c += (total - t) + inc
    else:
        c += (inc - t) + total
    return t, c


def go_g(f: float) -> str:
    """Go's %g (strconv 'g', shortest): used where Prometheus prints floats into messages."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    mantissa, exp_text = np.format_float_scientific(f, unique=True, trim="-").split("e")
    exp = int(exp_text)
    if exp < -4 or exp >= 21:
        return f"{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp):02d}"
    return str(np.format_float_positional(f, unique=True, trim="-"))


_GO_HEX_FLOAT = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+)[pP][+-]?\d+")


def go_parse_float(text: str) -> float:
    """Go's strconv.ParseFloat(text, 64): no surrounding space, `_` only in hexadecimal, hexadecimal
    floats with their `p` exponent; ValueError otherwise."""
    if text != text.strip() or not text:
        raise ValueError(f"invalid float {text!r}")
    if _GO_HEX_FLOAT.fullmatch(text):
        return float.fromhex(text.replace("_", ""))
    if "_" in text:
        raise ValueError(f"invalid float {text!r}")
    return float(text)


def openmetrics_float(f: float) -> str:
    """Prometheus' labels.FormatOpenMetricsFloat: shortest form, ".0" after a whole number."""
    text = go_g(f)
    if math.isfinite(f) and f == math.floor(f) and not any(c in text for c in "e."):
        text += ".0"
    return text


def kahan_sum(values: Sequence[float]) -> float:
    total, c = 0.0, 0.0
    for v in values:
        total, c = kahan_inc(v, total, c)
    if math.isinf(total):
        return total
    return total + c


def mean(values: Sequence[float]) -> float:
    """avg_over_time: direct mean with Kahan summation, incremental once the sum overflows."""
    total, count = values[0], 1.0
    avg, c = 0.0, 0.0
    incremental = False
    for i, f in enumerate(values[1:]):
        count = float(i + 2)
        if not incremental:
            new_total, new_c = kahan_inc(f, total, c)
            if not math.isinf(new_total):
                total, c = new_total, new_c
                continue
            incremental = True
            avg = total / (count - 1)
            c /= count - 1
        q = (count - 1) / count
        avg, c = kahan_inc(f / count, q * avg, q * c)
    if incremental:
        return avg + c
    return total / count + c / count


def _nan_first_key(v: float) -> tuple[int, float]:
    return (0, 0.0) if math.isnan(v) else (1, v)


def quantile(q: float, values: Sequence[float]) -> float:
    """The quantile of a set of floats, NaN sorted first, as promql's quantile()."""
    if not values or math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(values, key=_nan_first_key)
    n = float(len(ordered))
    rank = q * (n - 1)
    lower = max(0.0, math.floor(rank))
    upper = min(n - 1, lower + 1)
    weight = rank - math.floor(rank)
    return ordered[int(lower)] * (1 - weight) + ordered[int(upper)] * weight


def almost_equal(a: float, b: float, epsilon: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    if a == b:
        return True
    abs_sum = abs(a) + abs(b)
    diff = abs(a - b)
    min_normal = 2.2250738585072014e-308
    if a == 0 or b == 0 or abs_sum < min_normal:
        return diff < epsilon * min_normal
    return diff / min(abs_sum, 1.7976931348623157e308) < epsilon


def _coalesce(buckets: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for upper, count in buckets:
        if out and out[-1][0] == upper:
            out[-1][1] += count
        else:
            out.append([upper, count])
    return out


@dataclass(frozen=True)
class ForcedMonotonicity:
    """Where histogram_quantile had to raise bucket counts: the lowest and highest upper bound of
    those buckets, and the largest amount added."""

    min_bucket: float
    max_bucket: float
    max_diff: float


def bucket_quantile(q: float, raw: list[tuple[float, float]]) -> tuple[float, ForcedMonotonicity | None]:
    """histogram_quantile over classic buckets (upper bound, cumulative count).

    Returns the quantile and, when monotonicity had to be forced, where.
    """
    if math.isnan(q):
        return math.nan, None
    if q < 0:
        return -math.inf, None
    if q > 1:
        return math.inf, None
    buckets = sorted(([u, c] for u, c in raw), key=lambda b: b[0])
    if not math.isinf(buckets[-1][0]) or buckets[-1][0] < 0:
        return math.nan, None
    buckets = _coalesce(buckets)
    forced: ForcedMonotonicity | None = None
    min_bucket, max_bucket, max_diff = math.inf, -math.inf, 0.0
    prev = buckets[0][1]
    for bucket in buckets[1:]:
        curr = bucket[1]
        if curr == prev:
            continue
        if almost_equal(prev, curr, SMALL_DELTA_TOLERANCE):
            bucket[1] = prev
            continue
        if curr < prev:
            bucket[1] = prev
            min_bucket, max_bucket = min(min_bucket, bucket[0]), max(max_bucket, bucket[0])
            max_diff = max(max_diff, prev - curr)
            forced = ForcedMonotonicity(min_bucket, max_bucket, max_diff)
            continue
        prev = curr
    if len(buckets) < 2:
        return math.nan, forced
    observations = buckets[-1][1]
    if observations == 0:
        return math.nan, forced
    rank = q * observations
    b = len(buckets) - 1
    for i in range(len(buckets) - 1):
        if buckets[i][1] >= rank:
            b = i
            break
    if b == len(buckets) - 1:
        return buckets[-2][0], forced
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0], forced
    start = 0.0
    end = buckets[b][0]
    count = buckets[b][1]
    if b > 0:
        start = buckets[b - 1][0]
        count -= buckets[b - 1][1]
        rank -= buckets[b - 1][1]
    return start + (end - start) * (rank / count), forced


def bucket_fraction(lower: float, upper: float, raw: list[tuple[float, float]]) -> float:
    """histogram_fraction over classic buckets."""
    buckets = sorted(([u, c] for u, c in raw), key=lambda b: b[0])
    if not math.isinf(buckets[-1][0]) or buckets[-1][0] < 0:
        return math.nan
    buckets = _coalesce(buckets)
    count = buckets[-1][1]
    if count == 0 or math.isnan(lower) or math.isnan(upper):
        return math.nan
    if lower >= upper:
        return 0.0
    rank = lower_rank = upper_rank = 0.0
    lower_set = upper_set = False
    for i, (upper_bound, bcount) in enumerate(buckets):
        lower_bound = buckets[i - 1][0] if i > 0 else -math.inf
        if i == 0 and upper_bound > 0:
            lower_bound = 0.0

        if not lower_set and lower_bound >= lower:
            lower_rank, lower_set = rank, True
        if not upper_set and lower_bound >= upper:
            upper_rank, upper_set = rank, True
        if lower_set and upper_set:
            break
        if not lower_set and lower_bound < lower < upper_bound:
            lower_rank, lower_set = _interpolate(rank, bcount, lower, lower_bound, upper_bound), True
        if not upper_set and lower_bound < upper < upper_bound:
            upper_rank, upper_set = _interpolate(rank, bcount, upper, lower_bound, upper_bound), True
        if lower_set and upper_set:
            break
        rank = bcount
    if not lower_set or lower_rank > count:
        lower_rank = count
    if not upper_set or upper_rank > count:
        upper_rank = count
    return (upper_rank - lower_rank) / count


def _interpolate(rank: float, count: float, v: float, lower_bound: float, upper_bound: float) -> float:
    # A first bucket with a negative or zero upper bound reaches down to -Inf: nothing can be
    # interpolated in it (Prometheus counts it whole), as nothing is in the +Inf bucket.
    if lower_bound == -math.inf:
        return count
    return rank + (count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
