"""The layout rules of native histograms as they travel (spans plus one count per covered bucket), the
checks of Prometheus' Histogram.Validate, shared by the remote-write receiver and the Write call.

A check returns the problems it finds as (field, reason) pairs, the field relative to the histogram
(`positive_spans`, `count`), so that each caller prefixes the path its request uses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

from alerting_common.histogram_bounds import EXPONENTIAL_BOUNDS

CUSTOM_BUCKETS_SCHEMA = -53
EXPONENTIAL_SCHEMA_MIN = -4
EXPONENTIAL_SCHEMA_MAX = 8
# At most this many buckets (both sides) in one histogram: Prometheus' scrapes refuse more by default
# (native_histogram_bucket_limit is unlimited there, but one histogram of this size already costs
# a MB as JSON).
MAX_BUCKETS = 16_384

Problem = tuple[str, str]
Span = tuple[int, int]


def check_layout(
    schema: int,
    positive_spans: Sequence[Span],
    positive_count: int,
    negative_spans: Sequence[Span],
    negative_count: int,
    custom_values: Sequence[float],
    zero_threshold: float,
    zero_count: float,
) -> list[Problem]:
    """The problems of a histogram's schema, spans, bucket counts' number and custom bounds."""
    problems: list[Problem] = []
    if positive_count + negative_count > MAX_BUCKETS:
        problems.append(
            (
                "positive_spans",
                f"{positive_count + negative_count} buckets, more than the limit of {MAX_BUCKETS}",
            )
        )
        return problems
    custom = schema == CUSTOM_BUCKETS_SCHEMA
    if not custom and not EXPONENTIAL_SCHEMA_MIN <= schema <= EXPONENTIAL_SCHEMA_MAX:
        problems.append(("schema", f"must be between -4 and 8, or -53 for custom buckets, got {schema}"))
        return problems
    problems.extend(
        _check_spans("positive", positive_spans, positive_count, first_may_be_negative=not custom)
    )
    if custom:
        if negative_spans or negative_count:
            problems.append(("negative_spans", "a histogram of custom buckets has no negative buckets"))
        if zero_count != 0:
            problems.append(("zero_count", "a histogram of custom buckets has a zero count of 0"))
        if zero_threshold != 0:
            problems.append(("zero_threshold", "a histogram of custom buckets has a zero threshold of 0"))
        problems.extend(_check_custom_values(custom_values, positive_spans))
    else:
        problems.extend(_check_spans("negative", negative_spans, negative_count, first_may_be_negative=True))
        if custom_values:
            problems.append(("custom_values", "only a histogram of schema -53 has custom bucket bounds"))
        if not zero_threshold >= 0:
            problems.append(("zero_threshold", f"must be zero or positive, got {zero_threshold}"))
    return problems


def _check_spans(
    side: str, spans: Sequence[Span], buckets: int, *, first_may_be_negative: bool
) -> list[Problem]:
    problems: list[Problem] = []
    for n, (offset, _) in enumerate(spans):
        if offset < 0 and (n > 0 or not first_may_be_negative):
            problems.append((f"{side}_spans[{n}].offset", f"offset {offset} is negative"))
    covered = sum(length for _, length in spans)
    if covered != buckets:
        problems.append(
            (f"{side}_spans", f"the spans cover {covered} buckets but {buckets} counts are given")
        )
    return problems


def _check_custom_values(bounds: Sequence[float], spans: Sequence[Span]) -> list[Problem]:
    for i, bound in enumerate(bounds):
        if math.isnan(bound):
            return [(f"custom_values[{i}]", "a bound is NaN")]
        if i > 0 and bound <= bounds[i - 1]:
            return [(f"custom_values[{i}]", f"bounds must increase, {bound} follows {bounds[i - 1]}")]
    if bounds and bounds[-1] == math.inf:
        return [("custom_values", "the last bound +Inf is implied and must not be given")]
    reach = sum(offset + length for offset, length in spans)
    if reach > len(bounds) + 1:
        return [
            (
                "custom_values",
                f"{len(bounds)} bounds give {len(bounds) + 1} buckets, the spans reach bucket {reach}",
            )
        ]
    return []


def check_counts(side: str, counts: Iterable[float]) -> list[Problem]:
    """A negative bucket count is a problem (NaN is not: Prometheus lets it through)."""
    for i, c in enumerate(counts):
        if c < 0:
            return [(f"{side}_buckets[{i}]", f"bucket count {c} is negative")]
    return []


def expand(spans: Sequence[Span], counts: Sequence[float]) -> dict[int, float]:
    """Bucket index to count, of spans and the counts they cover (checked to match)."""
    out: dict[int, float] = {}
    idx = 0
    pos = 0
    for n, (offset, length) in enumerate(spans):
        idx = offset if n == 0 else idx + offset
        for _ in range(length):
            out[idx] = counts[pos]
            idx += 1
            pos += 1
    return out


def spans_of(buckets: dict[int, float]) -> tuple[list[Span], list[float]]:
    """Spans and counts of a bucket map: one span per run of consecutive indexes."""
    spans: list[Span] = []
    counts: list[float] = []
    previous_end = 0
    for idx in sorted(buckets):
        if spans and idx == previous_end:
            offset, length = spans[-1]
            spans[-1] = (offset, length + 1)
        else:
            spans.append((idx if not spans else idx - previous_end, 1))
        counts.append(buckets[idx])
        previous_end = idx + 1
    return spans, counts


def exponential_bound(idx: int, schema: int) -> float:
    """Upper bound of bucket `idx` of an exponential schema (getBoundExponential)."""
    if schema < 0:
        exp = idx << -schema
        if exp == 1024:
            return float.fromhex("0x1.fffffffffffffp+1023")
        if exp > 1024:
            return math.inf
        return math.ldexp(1.0, exp)
    frac = EXPONENTIAL_BOUNDS[schema][idx & ((1 << schema) - 1)]
    exp = (idx >> schema) + 1
    if frac == 0.5 and exp == 1025:
        return float.fromhex("0x1.fffffffffffffp+1023")
    if exp > 1025:
        return math.inf
    return math.ldexp(frac, exp)


def _bound(idx: int, schema: int, custom_values: Sequence[float]) -> float:
    if schema == CUSTOM_BUCKETS_SCHEMA:
        if idx >= len(custom_values):
            return math.inf
        return -math.inf if idx < 0 else custom_values[idx]
    return exponential_bound(idx, schema)


# Prometheus' JSON boundary rule of a bucket by (lower inclusive, upper inclusive).
_BOUNDARIES = {(False, True): 0, (True, False): 1, (False, False): 2, (True, True): 3}


def populated_buckets(
    schema: int,
    zero_threshold: float,
    zero_count: float,
    positive: dict[int, float],
    negative: dict[int, float],
    custom_values: Sequence[float],
) -> Iterator[tuple[int, float, float, float]]:
    """(boundary rule, lower, upper, count) of every bucket with a count other than 0, lowest first,
    as Prometheus' AllBucketIterator gives them (bounds clipped at the zero threshold) and its JSON
    encoding numbers the boundaries: 0 (lower, upper], 1 [lower, upper), 2 (lower, upper),
    3 [lower, upper]."""
    custom = schema == CUSTOM_BUCKETS_SCHEMA
    t = zero_threshold
    for idx in sorted(negative, reverse=True):
        count = negative[idx]
        if count != 0:
            lower, upper = -_bound(idx, schema, custom_values), -_bound(idx - 1, schema, custom_values)
            yield _BOUNDARIES[True, False], lower, (-t if -t < upper < 0 else upper), count
    if zero_count > 0:
        yield _BOUNDARIES[True, True], -t, t, zero_count
    for idx in sorted(positive):
        count = positive[idx]
        if count != 0:
            lower, upper = _bound(idx - 1, schema, custom_values), _bound(idx, schema, custom_values)
            yield _BOUNDARIES[custom and idx == 0, True], (t if 0 < lower < t else lower), upper, count
