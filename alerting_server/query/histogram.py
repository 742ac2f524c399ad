"""Native histograms with the semantics of Prometheus' model/histogram.FloatHistogram.

Buckets are kept normalized: a mapping from bucket index to count per side (positive and negative),
in place of Prometheus' spans and bucket slices. A bucket present with a count of zero is kept (as a
span would keep it) until `compact` drops it; everything that reads buckets sees the same sequence
Prometheus' iterators give. Exponential schemas are -4..8; schema -53 is the custom-bucket schema,
whose bucket `i` covers (custom_values[i-1], custom_values[i]] with the outer ones open to ±Inf.

The operations return new histograms and never change their operands."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from alerting_common.histograms import exponential_bound
from alerting_server.query.mathx import go_g, go_parse_float, kahan_inc

__all__ = ["exponential_bound"]

CUSTOM_BUCKETS_SCHEMA = -53
EXPONENTIAL_SCHEMA_MIN = -4
EXPONENTIAL_SCHEMA_MAX = 8


class CounterResetHint(IntEnum):
    UNKNOWN = 0
    COUNTER_RESET = 1
    NOT_COUNTER_RESET = 2
    GAUGE = 3


HINT_NAMES = {
    CounterResetHint.UNKNOWN: "unknown",
    CounterResetHint.COUNTER_RESET: "reset",
    CounterResetHint.NOT_COUNTER_RESET: "not_reset",
    CounterResetHint.GAUGE: "gauge",
}


class HistogramError(ValueError):
    """An operation on histograms that cannot be done (Prometheus' histogram.Error values)."""


INCOMPATIBLE_SCHEMA = (
    "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas"
)


def is_custom_buckets_schema(schema: int) -> bool:
    return schema == CUSTOM_BUCKETS_SCHEMA


def target_index(idx: int, origin_schema: int, target_schema: int) -> int:
    """The index in target_schema (≤ origin_schema) of the bucket holding origin bucket idx."""
    return ((idx - 1) >> (origin_schema - target_schema)) + 1


def reduce_buckets(buckets: dict[int, float], origin_schema: int, target_schema: int) -> dict[int, float]:
    if target_schema >= origin_schema:
        return dict(buckets)
    out: dict[int, float] = {}
    for idx in sorted(buckets):
        t = target_index(idx, origin_schema, target_schema)
        out[t] = out.get(t, 0.0) + buckets[idx]
    return out


def intersect_custom_bounds(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    i = j = 0
    out: list[float] = []
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            out.append(a[i])
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return tuple(out)


def map_custom_buckets(
    buckets: dict[int, float], bounds: tuple[float, ...], target: tuple[float, ...]
) -> dict[int, float]:
    """Buckets of custom bounds `bounds` merged into the coarser layout `target` (a subset of them)."""
    out: dict[int, float] = {}
    for idx in sorted(buckets):
        t = len(target)
        if idx < len(bounds):
            bound = bounds[idx]
            for k, tb in enumerate(target):
                if tb >= bound:
                    t = k
                    break
        out[t] = out.get(t, 0.0) + buckets[idx]
    return out


@dataclass(frozen=True, slots=True)
class Bucket:
    lower: float
    upper: float
    lower_inclusive: bool
    upper_inclusive: bool
    count: float
    index: int

    def __str__(self) -> str:
        left = "[" if self.lower_inclusive else "("
        right = "]" if self.upper_inclusive else ")"
        return f"{left}{go_g(self.lower)},{go_g(self.upper)}{right}:{go_g(self.count)}"


@dataclass(slots=True)
class FloatHistogram:
    schema: int = 0
    count: float = 0.0
    sum: float = 0.0
    zero_threshold: float = 0.0
    zero_count: float = 0.0
    positive: dict[int, float] = field(default_factory=dict)
    negative: dict[int, float] = field(default_factory=dict)
    custom_values: tuple[float, ...] = ()
    counter_reset_hint: CounterResetHint = CounterResetHint.UNKNOWN

    def uses_custom_buckets(self) -> bool:
        return is_custom_buckets_schema(self.schema)

    def copy(self) -> FloatHistogram:
        return FloatHistogram(
            self.schema,
            self.count,
            self.sum,
            self.zero_threshold,
            self.zero_count,
            dict(self.positive),
            dict(self.negative),
            self.custom_values,
            self.counter_reset_hint,
        )

    # Bounds and iteration.

    def bound(self, idx: int) -> float:
        if self.uses_custom_buckets():
            if idx == len(self.custom_values):
                return math.inf
            if idx == -1:
                return -math.inf
            return self.custom_values[idx]
        return exponential_bound(idx, self.schema)

    def positive_buckets(self) -> Iterator[Bucket]:
        """Positive buckets in ascending order (PositiveBucketIterator)."""
        custom = self.uses_custom_buckets()
        for idx in sorted(self.positive):
            yield Bucket(
                self.bound(idx - 1), self.bound(idx), custom and idx == 0, True, self.positive[idx], idx
            )

    def negative_buckets(self) -> Iterator[Bucket]:
        """Negative buckets from the one nearest zero outwards (NegativeBucketIterator)."""
        for idx in sorted(self.negative):
            yield Bucket(-self.bound(idx), -self.bound(idx - 1), True, False, self.negative[idx], idx)

    def zero_bucket(self) -> Bucket:
        return Bucket(-self.zero_threshold, self.zero_threshold, True, True, self.zero_count, 0)

    def all_buckets(self) -> Iterator[Bucket]:
        """Every bucket from the lowest to the highest, the zero bucket when populated, bounds
        clipped at the zero threshold (AllBucketIterator)."""
        yield from (self._clip(b) for b in reversed(list(self.negative_buckets())))
        if self.zero_count > 0:
            yield self.zero_bucket()
        yield from (self._clip(b) for b in self.positive_buckets())

    def all_buckets_reversed(self) -> Iterator[Bucket]:
        yield from (self._clip(b) for b in reversed(list(self.positive_buckets())))
        if self.zero_count > 0:
            yield self.zero_bucket()
        yield from (self._clip(b) for b in self.negative_buckets())

    def _clip(self, b: Bucket) -> Bucket:
        t = self.zero_threshold
        if 0 < b.lower < t:
            return Bucket(t, b.upper, b.lower_inclusive, b.upper_inclusive, b.count, b.index)
        if -t < b.upper < 0:
            return Bucket(b.lower, -t, b.lower_inclusive, b.upper_inclusive, b.count, b.index)
        return b

    def has_overflow(self) -> bool:
        """Whether a field is infinite (HasOverflow)."""
        fields = (self.zero_count, self.count, self.sum, *self.positive.values(), *self.negative.values())
        return any(math.isinf(v) for v in fields)

    # Scaling.

    def mul(self, factor: float) -> FloatHistogram:
        h = self.copy()
        h.zero_count *= factor
        h.count *= factor
        h.sum *= factor
        h.positive = {i: c * factor for i, c in self.positive.items()}
        h.negative = {i: c * factor for i, c in self.negative.items()}
        if factor < 0:
            h.counter_reset_hint = CounterResetHint.GAUGE
        return h

    def div(self, scalar: float) -> FloatHistogram:
        h = self.copy()
        h.zero_count = _div(h.zero_count, scalar)
        h.count = _div(h.count, scalar)
        h.sum = _div(h.sum, scalar)
        if scalar == 0:
            h.positive = {}
            h.negative = {}
            return h
        h.positive = {i: c / scalar for i, c in self.positive.items()}
        h.negative = {i: c / scalar for i, c in self.negative.items()}
        if scalar < 0:
            h.counter_reset_hint = CounterResetHint.GAUGE
        return h

    # Addition and subtraction.

    def add(self, other: FloatHistogram) -> tuple[FloatHistogram, bool, bool]:
        """self + other, the counter-reset-hint collision flag and the custom-bounds-reconciled flag."""
        return self._combine(other, 1.0)

    def sub(self, other: FloatHistogram) -> tuple[FloatHistogram, bool, bool]:
        """self - other, with the same flags as `add`."""
        return self._combine(other, -1.0)

    def _combine(self, other: FloatHistogram, sign: float) -> tuple[FloatHistogram, bool, bool]:
        if self.uses_custom_buckets() != other.uses_custom_buckets():
            raise HistogramError(INCOMPATIBLE_SCHEMA)
        h = self.copy()
        collision = h._adjust_counter_reset(other)
        h.count += sign * other.count
        h.sum += sign * other.sum
        if h.uses_custom_buckets():
            if h.custom_values == other.custom_values:
                h.positive = _add_buckets(h.positive, other.positive, sign)
                return h, collision, False
            bounds = intersect_custom_bounds(h.custom_values, other.custom_values)
            mine = map_custom_buckets(h.positive, h.custom_values, bounds)
            theirs = map_custom_buckets(other.positive, other.custom_values, bounds)
            merged = _add_buckets(mine, theirs, sign)
            h.positive = {i: c for i, c in merged.items() if c != 0}
            h.custom_values = bounds
            return h, collision, True
        other_zero_count = h._reconcile_zero_buckets(other)
        h.zero_count += sign * other_zero_count
        other_pos, other_neg = other.positive, other.negative
        if other.schema < h.schema:
            h.positive = reduce_buckets(h.positive, h.schema, other.schema)
            h.negative = reduce_buckets(h.negative, h.schema, other.schema)
            h.schema = other.schema
        elif other.schema > h.schema:
            other_pos = reduce_buckets(other_pos, other.schema, h.schema)
            other_neg = reduce_buckets(other_neg, other.schema, h.schema)
        if other.zero_threshold != h.zero_threshold:
            # Buckets of the other histogram now inside the (larger) zero bucket were counted in it.
            other_pos = {
                i: c for i, c in other_pos.items() if exponential_bound(i - 1, h.schema) >= h.zero_threshold
            }
            other_neg = {
                i: c for i, c in other_neg.items() if exponential_bound(i - 1, h.schema) >= h.zero_threshold
            }
        h.positive = _add_buckets(h.positive, other_pos, sign)
        h.negative = _add_buckets(h.negative, other_neg, sign)
        return h, collision, False

    def _adjust_counter_reset(self, other: FloatHistogram) -> bool:
        mine, theirs = self.counter_reset_hint, other.counter_reset_hint
        if theirs == mine or mine == CounterResetHint.GAUGE:
            return False
        if theirs == CounterResetHint.GAUGE:
            self.counter_reset_hint = CounterResetHint.GAUGE
            return False
        if mine == CounterResetHint.UNKNOWN:
            return False
        self.counter_reset_hint = CounterResetHint.UNKNOWN
        return theirs != CounterResetHint.UNKNOWN

    def _zero_count_for_larger_threshold(self, larger: float) -> tuple[float, float]:
        """The zero count with a zero bucket widened to `larger` (moved out to a bucket boundary
        when `larger` falls inside a populated bucket) and the threshold it ends up at."""
        if larger == self.zero_threshold:
            return self.zero_count, larger
        if larger < self.zero_threshold:
            raise HistogramError(f"new threshold {larger} is less than old threshold {self.zero_threshold}")
        while True:
            zero_count = self.zero_count
            for b in self.positive_buckets():
                if b.lower >= larger:
                    break
                zero_count += b.count
                if b.upper > larger:
                    if b.count != 0:
                        larger = b.upper
                    break
            restart = False
            for b in self.negative_buckets():
                if b.upper <= -larger:
                    break
                zero_count += b.count
                if b.lower < -larger:
                    if b.count != 0:
                        larger = -b.lower
                        restart = True
                    break
            if not restart:
                return zero_count, larger

    def _trim_buckets_in_zero_bucket(self) -> None:
        t = self.zero_threshold
        self.positive = {i: c for i, c in self.positive.items() if self.bound(i - 1) >= t}
        self.negative = {i: c for i, c in self.negative.items() if self.bound(i - 1) >= t}

    def _reconcile_zero_buckets(self, other: FloatHistogram) -> float:
        other_zero_count, other_threshold = other.zero_count, other.zero_threshold
        while other_threshold != self.zero_threshold:
            if self.zero_threshold > other_threshold:
                other_zero_count, other_threshold = other._zero_count_for_larger_threshold(
                    self.zero_threshold
                )
            if other_threshold > self.zero_threshold:
                self.zero_count, self.zero_threshold = self._zero_count_for_larger_threshold(other_threshold)
                self._trim_buckets_in_zero_bucket()
        return other_zero_count

    # Layout.

    def compact(self, max_empty_buckets: int = 0) -> FloatHistogram:
        """Drops empty buckets (Compact): with the normalized form only the buckets' presence changes,
        so any max_empty_buckets gives the same counts; zero buckets are dropped."""
        h = self.copy()
        h.positive = {i: c for i, c in self.positive.items() if c != 0}
        h.negative = {i: c for i, c in self.negative.items() if c != 0}
        return h

    def reduce_resolution(self, target_schema: int) -> FloatHistogram:
        if self.uses_custom_buckets():
            raise HistogramError("cannot reduce resolution when there are custom buckets")
        if is_custom_buckets_schema(target_schema):
            raise HistogramError("cannot reduce resolution to custom buckets schema")
        if target_schema >= self.schema:
            raise HistogramError(f"cannot reduce resolution from schema {self.schema} to {target_schema}")
        h = self.copy()
        h.positive = reduce_buckets(self.positive, self.schema, target_schema)
        h.negative = reduce_buckets(self.negative, self.schema, target_schema)
        h.schema = target_schema
        return h

    def copy_to_schema(self, target_schema: int) -> FloatHistogram:
        if target_schema == self.schema:
            return self.copy()
        return self.reduce_resolution(target_schema)

    # Counter resets.

    def detect_reset(self, previous: FloatHistogram) -> bool:
        """Whether self, following previous, starts over (DetectReset)."""
        if self.counter_reset_hint == CounterResetHint.COUNTER_RESET:
            return True
        if self.counter_reset_hint == CounterResetHint.NOT_COUNTER_RESET:
            return False
        if self.count < previous.count:
            return True
        if self.uses_custom_buckets():
            if not previous.uses_custom_buckets():
                return True
            if self.custom_values != previous.custom_values:
                bounds = intersect_custom_bounds(self.custom_values, previous.custom_values)
                mine = map_custom_buckets(self.positive, self.custom_values, bounds)
                theirs = map_custom_buckets(previous.positive, previous.custom_values, bounds)
                return any(mine.get(i, 0.0) < c for i, c in theirs.items())
        if self.schema > previous.schema:
            return True
        if self.zero_threshold < previous.zero_threshold:
            return True
        previous_zero_count, threshold = previous._zero_count_for_larger_threshold(self.zero_threshold)
        if threshold != self.zero_threshold:
            return True
        if self.zero_count < previous_zero_count:
            return True
        for side in ("positive", "negative"):
            current = self._side_above(side, self.zero_threshold, self.schema)
            before = previous._side_above(side, self.zero_threshold, self.schema)
            if any(current.get(i, 0.0) < c for i, c in before.items() if c != 0):
                return True
        return False

    def _side_above(self, side: str, threshold: float, schema: int) -> dict[int, float]:
        """One side's buckets in `schema` (≤ own), leaving out those whose upper bound is at most
        threshold (for exponential schemas)."""
        buckets = self.positive if side == "positive" else self.negative
        if self.uses_custom_buckets():
            return buckets
        merged = reduce_buckets(buckets, self.schema, schema)
        return {i: c for i, c in merged.items() if exponential_bound(i, schema) > threshold}

    # Equality and text.

    def equals(self, other: FloatHistogram) -> bool:
        """Data equality after compaction: bit-for-bit floats, same layout (Equals)."""
        a, b = self.compact(), other.compact()
        if a.schema != b.schema or not _same(a.count, b.count) or not _same(a.sum, b.sum):
            return False
        if a.uses_custom_buckets() and a.custom_values != b.custom_values:
            return False
        if a.zero_threshold != b.zero_threshold or not _same(a.zero_count, b.zero_count):
            return False
        return _same_buckets(a.positive, b.positive) and _same_buckets(a.negative, b.negative)

    def __str__(self) -> str:
        """Prometheus' String(): `{count:4, sum:5, [-2,-1):1, [-0.001,0.001]:2, (1,2]:1}`."""
        parts = [f"{{count:{go_g(self.count)}, sum:{go_g(self.sum)}"]
        parts.extend(str(b) for b in reversed(list(self.negative_buckets())) if b.count != 0)
        if self.zero_count != 0:
            parts.append(str(self.zero_bucket()))
        parts.extend(str(b) for b in self.positive_buckets() if b.count != 0)
        return ", ".join(parts) + "}"

    def test_expression(self) -> str:
        """The `{{...}}` form of the test language (TestExpression)."""
        res: list[str] = []
        if self.schema != 0:
            res.append(f"schema:{self.schema}")
        if self.count != 0:
            res.append(f"count:{go_g(self.count)}")
        if self.sum != 0:
            res.append(f"sum:{go_g(self.sum)}")
        if self.zero_count != 0:
            res.append(f"z_bucket:{go_g(self.zero_count)}")
        if self.zero_threshold != 0:
            res.append(f"z_bucket_w:{go_g(self.zero_threshold)}")
        if self.uses_custom_buckets():
            res.append("custom_values:[" + " ".join(go_g(v) for v in self.custom_values) + "]")
        if self.counter_reset_hint != CounterResetHint.UNKNOWN:
            res.append(f"counter_reset_hint:{HINT_NAMES[self.counter_reset_hint]}")
        compacted = self.compact()
        for buckets, key, offset_key in (
            (compacted.positive, "buckets", "offset"),
            (compacted.negative, "n_buckets", "n_offset"),
        ):
            if not buckets:
                continue
            first, last = min(buckets), max(buckets)
            if first != 0:
                res.append(f"{offset_key}:{first}")
            res.append(f"{key}:[" + " ".join(go_g(buckets.get(i, 0.0)) for i in range(first, last + 1)) + "]")
        return "{{" + " ".join(res) + "}}"

    def validate(self) -> None:
        """Refuses a histogram Prometheus' Validate refuses."""
        if self.uses_custom_buckets():
            if self.negative:
                raise HistogramError("custom buckets: must not have negative buckets")
            if self.zero_count != 0 or self.zero_threshold != 0:
                raise HistogramError("custom buckets: must have zero count of 0")
            if any(b <= a for a, b in zip(self.custom_values, self.custom_values[1:], strict=False)):
                raise HistogramError("custom buckets: custom values must be in strictly increasing order")
            if self.custom_values and math.isinf(self.custom_values[-1]):
                raise HistogramError("custom buckets: last +Inf bound must not be explicitly defined")
            if any(i < 0 or i > len(self.custom_values) for i in self.positive):
                raise HistogramError("custom buckets: bucket index out of range")
        elif not EXPONENTIAL_SCHEMA_MIN <= self.schema <= EXPONENTIAL_SCHEMA_MAX:
            raise HistogramError(
                f"histogram has an invalid schema, which must be between -4 and 8 or -53, got {self.schema}"
            )


def _div(a: float, b: float) -> float:
    """a / b as Go's float division: ±Inf or NaN for a zero b."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * (math.copysign(1.0, b))
    return a / b


def _add_buckets(mine: dict[int, float], theirs: dict[int, float], sign: float) -> dict[int, float]:
    out = dict(mine)
    for i, c in theirs.items():
        out[i] = out.get(i, 0.0) + sign * c
    return out


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _same_buckets(a: dict[int, float], b: dict[int, float]) -> bool:
    return a.keys() == b.keys() and all(_same(c, b[i]) for i, c in a.items())


# Quantiles and fractions (promql/quantile.go).

NAN_RESULT = "NaN result"
NAN_SKEW = "NaN skew"
NAN_FRACTION = "NaN fraction"


def histogram_quantile(q: float, h: FloatHistogram) -> tuple[float, str | None]:
    """The q-quantile of h (HistogramQuantile) and the info it calls for (NAN_RESULT, NAN_SKEW)."""
    if q < 0:
        return -math.inf, None
    if q > 1:
        return math.inf, None
    if h.count == 0 or math.isnan(q):
        return math.nan, None
    forward = math.isnan(h.sum) or q < 0.5
    buckets = list(h.all_buckets() if forward else h.all_buckets_reversed())
    rank = q * h.count if forward else (1 - q) * h.count
    count = 0.0
    bucket: Bucket | None = None
    pos = 0
    while pos < len(buckets):
        b = buckets[pos]
        pos += 1
        if b.count == 0:
            continue
        bucket = b
        count += b.count
        if count >= rank:
            break
    if bucket is None:
        bucket = buckets[-1] if buckets else Bucket(0.0, 0.0, False, False, 0.0, 0)
    lower, upper = bucket.lower, bucket.upper
    if not h.uses_custom_buckets() and lower < 0 < upper:
        if not h.negative and h.positive:
            lower = 0.0
        elif not h.positive and h.negative:
            upper = 0.0
    elif h.uses_custom_buckets():
        if lower == -math.inf:
            if upper <= 0:
                return upper, None
            lower = 0.0
        elif upper == math.inf:
            return lower, None
    count = min(count, h.count)
    if count < rank:
        if math.isnan(h.sum):
            return math.nan, NAN_RESULT
        return upper, None
    rank = rank - (count - bucket.count) if forward else count - rank
    note = None
    if math.isnan(h.sum):
        count += sum(b.count for b in buckets[pos:])
        if count < h.count:
            note = NAN_SKEW
    fraction = rank / bucket.count
    if h.uses_custom_buckets() or (lower <= 0 <= upper):
        return lower + (upper - lower) * fraction, note
    log_lower, log_upper = math.log2(abs(lower)), math.log2(abs(upper))
    if lower > 0:
        return 2 ** (log_lower + (log_upper - log_lower) * fraction), note
    return -(2 ** (log_upper + (log_lower - log_upper) * (1 - fraction))), note


def histogram_fraction(lower: float, upper: float, h: FloatHistogram) -> tuple[float, str | None]:
    """The share of h's observations in [lower, upper] (HistogramFraction) and the info it calls
    for (NAN_FRACTION)."""
    if h.count == 0 or math.isnan(lower) or math.isnan(upper):
        return math.nan, None
    if lower >= upper:
        return 0.0, None
    count = rank = lower_rank = upper_rank = 0.0
    lower_set = upper_set = False
    buckets = list(h.all_buckets())
    pos = 0
    while pos < len(buckets):
        b = buckets[pos]
        pos += 1
        count += b.count
        b_lower, b_upper = b.lower, b.upper
        zero_bucket = False
        if b_lower <= 0 <= b_upper:
            zero_bucket = True
            if not h.negative and h.positive:
                b_lower = 0.0
            elif not h.positive and h.negative:
                b_upper = 0.0
        linear = h.uses_custom_buckets() or zero_bucket
        if not lower_set and b_lower >= lower:
            lower_rank, lower_set = rank, True
        if not upper_set and b_lower >= upper:
            upper_rank, upper_set = rank, True
        if lower_set and upper_set:
            break
        if not lower_set and b_lower < lower < b_upper:
            lower_rank, lower_set = _rank_below(lower, rank, b.count, b_lower, b_upper, linear), True
        if not upper_set and b_lower < upper < b_upper:
            upper_rank, upper_set = _rank_below(upper, rank, b.count, b_lower, b_upper, linear), True
        if lower_set and upper_set:
            break
        rank += b.count
    note = None
    if math.isnan(h.sum):
        count += sum(b.count for b in buckets[pos:])
        if count < h.count:
            note = NAN_FRACTION
    else:
        count = h.count
    if not lower_set or lower_rank > count:
        lower_rank = count
    if not upper_set or upper_rank > count:
        upper_rank = count
    return _div(upper_rank - lower_rank, h.count), note


def _rank_below(v: float, rank: float, count: float, lower: float, upper: float, linear: bool) -> float:
    """The rank at v inside a bucket (Bucket.FractionBelow); an open lower end counts whole."""
    if linear:
        if lower == -math.inf:
            return count
        return rank + count * _div(v - lower, upper - lower)
    return rank + count * _fraction_below_log(v, lower, upper)


def _fraction_below_log(v: float, lower: float, upper: float) -> float:
    log_lower, log_upper = _log2(abs(lower)), _log2(abs(upper))
    log_v = _log2(abs(v))
    if v > 0:
        return _div(log_v - log_lower, log_upper - log_lower)
    return 1 - _div(log_v - log_upper, log_lower - log_upper)


def _log2(x: float) -> float:
    if x == 0:
        return -math.inf
    if math.isinf(x):
        return math.inf
    return math.log2(x)


def histogram_variance(h: FloatHistogram) -> float:
    """The estimated variance of h's observations (histogram_stdvar): each bucket's count at its
    arithmetic (custom buckets, zero bucket) or geometric (exponential buckets) midpoint."""
    mean = _div(h.sum, h.count)
    variance = c = 0.0
    for bucket in h.all_buckets():
        if bucket.count == 0:
            continue
        if h.uses_custom_buckets():
            val = (bucket.upper + bucket.lower) / 2.0
        elif bucket.lower <= 0 <= bucket.upper:
            val = 0.0
        else:
            product = bucket.upper * bucket.lower
            val = math.sqrt(product) if product >= 0 else math.nan
            if bucket.upper < 0:
                val = -val
        delta = val - mean
        variance, c = kahan_inc(bucket.count * delta * delta, variance, c)
    return _div(variance + c, h.count)


# The `{{...}}` notation of the test language (promql/parser: histogram descriptions).

HINTS_BY_NAME = {name: hint for hint, name in HINT_NAMES.items()}
_FLOAT_KEYS = {"schema", "sum", "count", "z_bucket", "z_bucket_w", "offset", "n_offset"}
_LIST_KEYS = {"buckets", "n_buckets", "custom_values"}


def parse_histogram(text: str) -> FloatHistogram:
    """`{{schema:1 sum:5 count:4 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:-1 n_buckets:[1]
    n_offset:2 custom_values:[1 2] counter_reset_hint:gauge}}` -> the histogram."""
    body = text.strip()
    if not (body.startswith("{{") and body.endswith("}}")):
        raise HistogramError(f"histogram description must be enclosed in {{{{ }}}}: {text!r}")
    fields: dict[str, str] = {}
    lists: dict[str, list[float]] = {}
    rest = body[2:-2].strip()
    while rest:
        key, sep, rest = rest.partition(":")
        key = key.strip()
        if not sep:
            raise HistogramError(f"unexpected {key!r} in histogram description")
        rest = rest.lstrip()
        if key in fields or key in lists:
            raise HistogramError(f"duplicate key {key!r} in histogram description")
        if key in _LIST_KEYS:
            if not rest.startswith("["):
                raise HistogramError(f"{key} must be a list in histogram description")
            end = rest.find("]")
            if end < 0:
                raise HistogramError(f"unterminated list for {key} in histogram description")
            lists[key] = [_number(v) for v in rest[1:end].split()]
            rest = rest[end + 1 :].lstrip()
        elif key in _FLOAT_KEYS or key == "counter_reset_hint":
            value, _, rest = rest.partition(" ")
            fields[key] = value
            rest = rest.lstrip()
        else:
            raise HistogramError(f"unknown key {key!r} in histogram description")
    h = FloatHistogram()
    if "schema" in fields:
        h.schema = int(_number(fields["schema"]))
    h.sum = _number(fields.get("sum", "0"))
    h.count = _number(fields.get("count", "0"))
    h.zero_count = _number(fields.get("z_bucket", "0"))
    h.zero_threshold = _number(fields.get("z_bucket_w", "0"))
    if "counter_reset_hint" in fields:
        name = fields["counter_reset_hint"]
        if name not in HINTS_BY_NAME:
            raise HistogramError(f"invalid counter_reset_hint {name!r} in histogram description")
        h.counter_reset_hint = HINTS_BY_NAME[name]
    offset = int(_number(fields.get("offset", "0")))
    h.positive = {offset + k: c for k, c in enumerate(lists.get("buckets", []))}
    n_offset = int(_number(fields.get("n_offset", "0")))
    h.negative = {n_offset + k: c for k, c in enumerate(lists.get("n_buckets", []))}
    if "custom_values" in lists:
        h.custom_values = tuple(lists["custom_values"])
    return h


def _number(text: str) -> float:
    try:
        return go_parse_float(text)
    except ValueError as e:
        raise HistogramError(f"invalid number {text!r} in histogram description") from e


# The trim operators (FloatHistogram.TrimBuckets): `h </ x` keeps the observations below x, `h >/ x`
# those above it, interpolating inside the bucket x falls in; the sum is re-estimated from the
# buckets' midpoints.


def trim_buckets(h: FloatHistogram, rhs: float, upper_trim: bool) -> FloatHistogram:
    """A trimmed copy of h (TrimBuckets on h.Copy())."""
    out = h.copy()
    custom = h.uses_custom_buckets()
    count = total = 0.0
    trimmed = False
    present = {True: False, False: False}
    for positive, kept_side, buckets in (
        (True, out.positive, h.positive_buckets()),
        (False, out.negative, h.negative_buckets()),
    ):
        for b in buckets:
            if b.count == 0:
                continue
            present[positive] = True
            whole = b.upper <= rhs if upper_trim else b.lower >= rhs
            split = b.lower < rhs if upper_trim else b.upper > rhs
            if whole:
                count += b.count
                total += _midpoint(b.lower, b.upper, positive, custom) * b.count
            elif split:
                keep, midpoint = _bucket_trim(b, rhs, upper_trim, positive, custom)
                count += keep
                total += midpoint * keep
                if kept_side[b.index] != keep:
                    kept_side[b.index] = keep
                    trimmed = True
            else:
                kept_side[b.index] = 0.0
                trimmed = True
    if h.zero_count > 0:
        keep, midpoint = _zero_bucket_trim(h.zero_bucket(), rhs, present[False], present[True], upper_trim)
        if h.zero_count != keep:
            out.zero_count = keep
            trimmed = True
        total += midpoint * keep
        count += keep
    if not trimmed:
        return out
    out.count, out.sum = count, total
    return out.compact()


def _infinite_bucket_trim(upper_trim: bool, b: Bucket, rhs: float) -> tuple[float, float]:
    """handleInfinityBuckets: (the count kept, the midpoint of what is kept)."""

    def finite(x: float) -> float:
        return 0.0 if math.isinf(x) else x

    if b.lower == -math.inf:
        if upper_trim:
            if rhs >= b.upper:
                return b.count, 0.0
            if rhs > 0 and b.upper > 0 and not math.isinf(b.upper):
                # Only with custom buckets: the lower end is taken as 0, interpolated linearly.
                return b.count * rhs / b.upper, rhs / 2
            if b.upper <= 0:
                return b.count, rhs
            return 0.0, finite(b.upper)
        if rhs <= b.lower:
            return b.count, 0.0
        if rhs >= 0 and b.upper > rhs and not math.isinf(b.upper):
            return b.count * (1 - rhs / b.upper), (rhs + b.upper) / 2
        return 0.0, finite(b.upper)
    # The upper end is +Inf.
    if upper_trim:
        return 0.0, finite(b.lower)
    if rhs >= b.lower:
        return b.count, rhs
    return 0.0, finite(b.lower)


def _zero_bucket_trim(
    zero: Bucket, rhs: float, has_negative: bool, has_positive: bool, upper_trim: bool
) -> tuple[float, float]:
    """computeZeroBucketTrim: the zero bucket reaches only to the side that has buckets."""
    lower, upper = zero.lower, zero.upper
    if has_negative and not has_positive:
        upper = 0.0
    if has_positive and not has_negative:
        lower = 0.0
    if upper_trim:
        if rhs <= lower:
            return 0.0, 0.0
        if rhs >= upper:
            return zero.count, (lower + upper) / 2
        return zero.count * _div(rhs - lower, upper - lower), (lower + rhs) / 2
    if rhs <= lower:
        return zero.count, (lower + upper) / 2
    if rhs >= upper:
        return 0.0, 0.0
    return zero.count * _div(upper - rhs, upper - lower), (rhs + upper) / 2


def _bucket_trim(
    b: Bucket, rhs: float, upper_trim: bool, positive: bool, custom: bool
) -> tuple[float, float]:
    """computeBucketTrim: the count kept of a bucket rhs falls in, and its midpoint."""
    if b.lower == -math.inf or b.upper == math.inf:
        return _infinite_bucket_trim(upper_trim, b, rhs)
    if rhs <= b.lower:
        under = 0.0
    elif rhs >= b.upper:
        under = b.count
    elif custom:
        under = b.count * (rhs - b.lower) / (b.upper - b.lower)
    else:
        under = b.count * _fraction_below_log(rhs, b.lower, b.upper)
    if upper_trim:
        return under, _midpoint(b.lower, rhs, positive, custom)
    return b.count - under, _midpoint(rhs, b.upper, positive, custom)


def _midpoint(lower: float, upper: float, positive: bool, linear: bool) -> float:
    """computeMidpoint: of a surviving interval, arithmetic when linear, else geometric."""
    if math.isinf(lower):
        if math.isinf(upper):
            return 0.0
        return upper / 2 if upper > 0 else upper
    if math.isinf(upper):
        return lower
    if linear:
        return (lower + upper) / 2
    geo_mean = math.sqrt(abs(lower * upper))
    return geo_mean if positive else -geo_mean


def histogram_to_json(h: FloatHistogram) -> dict[str, object]:
    """A JSON form of a histogram that from_json reads back exactly (floats as repr gives them;
    NaN and ±Inf as the Python json module writes them)."""
    return {
        "schema": h.schema,
        "count": h.count,
        "sum": h.sum,
        "zero_threshold": h.zero_threshold,
        "zero_count": h.zero_count,
        "positive": [[i, c] for i, c in sorted(h.positive.items())],
        "negative": [[i, c] for i, c in sorted(h.negative.items())],
        "custom_values": list(h.custom_values),
        "hint": int(h.counter_reset_hint),
    }


def histogram_from_json(data: dict[str, object]) -> FloatHistogram:
    def buckets(key: str) -> dict[int, float]:
        pairs = data[key]
        assert isinstance(pairs, list)
        return {int(i): float(c) for i, c in pairs}

    custom = data["custom_values"]
    assert isinstance(custom, list)
    return FloatHistogram(
        int(str(data["schema"])),
        float(str(data["count"])),
        float(str(data["sum"])),
        float(str(data["zero_threshold"])),
        float(str(data["zero_count"])),
        buckets("positive"),
        buckets("negative"),
        tuple(float(v) for v in custom),
        CounterResetHint(int(str(data["hint"]))),
    )


def histogram_from_api(data: Mapping[str, object]) -> FloatHistogram:
    """The histogram behind Prometheus' query-API JSON of one (`{"count", "sum", "buckets"}`).

    The JSON gives bounds, not schema and indexes: a bucket with an infinite or non-exponential
    bound means custom buckets (their bounds those the populated buckets show); otherwise the
    schema is the one whose bounds every bucket has. ValueError for what is not such JSON;
    HistogramError when no bucket tells the schema (only buckets clipped at the zero threshold)."""
    count = go_parse_float(str(data["count"]))
    total = go_parse_float(str(data["sum"]))
    raw = data.get("buckets", [])
    if not isinstance(raw, list):
        raise ValueError("buckets is not a list")
    buckets: list[tuple[int, float, float, float]] = []
    for b in raw:
        if not isinstance(b, list) or len(b) != 4 or not isinstance(b[0], int) or not 0 <= b[0] <= 3:
            raise ValueError(f"bucket {b!r} is not [boundary rule, lower, upper, count]")
        buckets.append(
            (b[0], go_parse_float(str(b[1])), go_parse_float(str(b[2])), go_parse_float(str(b[3])))
        )
    zero_threshold = zero_count = 0.0
    rest = []
    for rule, lower, upper, c in buckets:
        if rule == 3 and math.isfinite(upper) and lower == -upper:
            zero_threshold, zero_count = upper, c
        else:
            rest.append((rule, lower, upper, c))
    h = _exponential_from_api(rest, zero_threshold)
    if h is None:
        if zero_count:
            raise HistogramError("a zero bucket beside buckets of no exponential schema")
        h = _custom_from_api(rest)
    h.count, h.sum, h.zero_threshold, h.zero_count = count, total, zero_threshold, zero_count
    return h


def _exponential_from_api(
    buckets: list[tuple[int, float, float, float]], zero_threshold: float
) -> FloatHistogram | None:
    """The exponential histogram of these buckets (count and sum left for the caller), None when they
    are not buckets of one exponential schema."""
    # (outer bound's magnitude, inner bound's magnitude, is it clipped, positive side, count)
    sides = []
    for rule, lower, upper, c in buckets:
        if not (math.isfinite(lower) and math.isfinite(upper)):
            return None
        # An exponential bucket's bounds are never 0 (nor is a clipped one's: the threshold is not 0).
        if rule == 0 and lower > 0:
            sides.append((upper, lower, lower == zero_threshold, True, c))
        elif rule == 1 and upper < 0:
            sides.append((-lower, -upper, upper == -zero_threshold, False, c))
        else:
            return None
    schema = None
    for outer, inner, clipped, _, _ in sides:
        if not clipped:
            schema = round(-math.log2(math.log2(outer / inner)))
            break
    if schema is None:
        if sides:
            raise HistogramError("no bucket of the histogram tells its schema")
        return FloatHistogram()
    if not EXPONENTIAL_SCHEMA_MIN <= schema <= EXPONENTIAL_SCHEMA_MAX:
        return None
    h = FloatHistogram(schema=schema)
    for outer, inner, clipped, positive, c in sides:
        idx = round(math.log2(outer) * 2.0**schema)
        if exponential_bound(idx, schema) != outer:
            return None
        if not clipped and exponential_bound(idx - 1, schema) != inner:
            return None
        (h.positive if positive else h.negative)[idx] = c
    return h


def _custom_from_api(buckets: list[tuple[int, float, float, float]]) -> FloatHistogram:
    bounds = sorted({v for _, lower, upper, _ in buckets for v in (lower, upper) if math.isfinite(v)})
    h = FloatHistogram(schema=CUSTOM_BUCKETS_SCHEMA, custom_values=tuple(bounds))
    for _, _, upper, c in buckets:
        h.positive[len(bounds) if math.isinf(upper) else bounds.index(upper)] = c
    return h
