"""Aggregation operators (sum, avg, topk, quantile, count_values, ...) over step-aligned vectors."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from alerting_server.query.errors import QueryError
from alerting_server.query.grouping import any_per_group, count_per_group, group_rows, kahan_sum
from alerting_server.query.histogram import CounterResetHint, FloatHistogram, HistogramError
from alerting_server.query.labels import METRIC_NAME, Labels, get, keep, with_label, without
from alerting_server.query.mathx import kahan_inc, mean, quantile
from alerting_server.query.steps import Scalar, StepSeries, Vector


def grouping_labels(labels: Labels, grouping: Sequence[str], is_without: bool) -> Labels:
    if is_without:
        return without(labels, [*grouping, METRIC_NAME])
    return keep(labels, grouping)


def _groups(
    vector: Sequence[StepSeries], grouping: Sequence[str], is_without: bool
) -> dict[Labels, list[StepSeries]]:
    groups: dict[Labels, list[StepSeries]] = {}
    for s in vector:
        groups.setdefault(grouping_labels(s.labels, grouping, is_without), []).append(s)
    return groups


def _fold(
    members: list[StepSeries], n: int, step: Callable[[np.ndarray, np.ndarray, np.ndarray], None]
) -> tuple[np.ndarray, np.ndarray]:
    """Run `step(acc, x, mask)` per member, seeding each lane with its first present value."""
    acc = np.zeros(n)
    seen = np.zeros(n, dtype=bool)
    for m in members:
        new = m.present & ~seen
        acc[new] = m.values[new]
        upd = m.present & seen
        if upd.any():
            step(acc, m.values, upd)
        seen |= m.present
    return acc, seen


def simple(
    op: str, vector: Vector, grouping: Sequence[str], is_without: bool, n: int, param: Scalar | None
) -> Vector:
    """sum avg count group min max stddev stdvar quantile."""
    if op in ("sum", "avg", "count", "group"):
        return _columnar(op, vector, grouping, is_without, n)
    out: list[StepSeries] = []
    for labels, members in _groups(list(vector), grouping, is_without).items():
        drop = any(m.drop_name for m in members)
        present = np.logical_or.reduce([m.present for m in members])
        if op == "count":
            values = np.sum([m.present for m in members], axis=0).astype(np.float64)
        elif op == "group":
            values = np.ones(n)
        elif op in ("max", "min"):

            def better(acc: np.ndarray, x: np.ndarray, mask: np.ndarray, is_max: bool = op == "max") -> None:
                with np.errstate(invalid="ignore"):
                    cond = (acc < x) if is_max else (acc > x)
                take = mask & (cond | np.isnan(acc))
                acc[take] = x[take]

            values, _ = _fold(members, n, better)
        elif op in ("stddev", "stdvar"):
            values = _variance(members, n, op == "stddev")
        elif op == "quantile":
            assert param is not None
            values = np.full(n, np.nan)
            for i in np.nonzero(present)[0]:
                values[i] = quantile(float(param[i]), [float(m.values[i]) for m in members if m.present[i]])
        else:
            raise QueryError(f"unknown aggregation {op}")
        out.append(StepSeries(labels, values, present, drop_name=drop))
    return Vector.of(out, n)


def _columnar(op: str, vector: Vector, grouping: Sequence[str], is_without: bool, n: int) -> Vector:
    """sum avg count group, for every group at once."""
    groups = group_rows(vector.labels, grouping, is_without)
    count = count_per_group(groups, vector.present)
    present = count > 0
    drop = any_per_group(groups, vector.drop_name)
    if op == "count":
        return Vector(groups.labels, count.astype(np.float64), present, drop)
    if op == "group":
        return Vector(groups.labels, np.ones((groups.count, n)), present, drop)
    total, comp = kahan_sum(groups, vector.values, vector.present)
    with np.errstate(invalid="ignore", divide="ignore"):
        if op == "sum":
            values = np.where(np.isinf(total), total, total + comp)
        else:
            values = total / count + comp / count
    if op == "avg":
        # Where the running sum overflowed, Prometheus switches to an incremental mean.
        for g, i in zip(*np.nonzero(present & ~np.isfinite(total)), strict=True):
            members = np.flatnonzero((groups.ids == g) & vector.present[:, i])
            values[g, i] = mean(vector.values[members, i].tolist())
    return Vector(groups.labels, values, present, drop)


def _variance(members: list[StepSeries], n: int, sqrt: bool) -> np.ndarray:
    count = np.zeros(n)
    avg = np.zeros(n)
    acc = np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for m in members:
            p = m.present
            x = m.values
            first = p & (count == 0)
            acc[first] = np.where(np.isnan(x[first]) | np.isinf(x[first]), np.nan, 0.0)
            avg[first] = x[first]
            upd = p & (count > 0)
            count = count + p
            delta = x - avg
            new_avg = avg + delta / np.where(count == 0, 1, count)
            acc = np.where(upd, acc + delta * (x - new_avg), acc)
            avg = np.where(upd, new_avg, avg)
        result = acc / np.where(count == 0, 1, count)
    return np.sqrt(result) if sqrt else result


def _go_heap_up(h: list[tuple[float, int]], j: int, less: Callable[[float, float], bool]) -> None:
    while j > 0:
        i = (j - 1) // 2
        if i == j or not less(h[j][0], h[i][0]):
            break
        h[i], h[j] = h[j], h[i]
        j = i


def _go_heap_down(h: list[tuple[float, int]], i: int, less: Callable[[float, float], bool]) -> None:
    n = len(h)
    while True:
        j1 = 2 * i + 1
        if j1 >= n:
            break
        j = j1
        j2 = j1 + 1
        if j2 < n and less(h[j2][0], h[j1][0]):
            j = j2
        if not less(h[j][0], h[i][0]):
            break
        h[i], h[j] = h[j], h[i]
        i = j


def _replaces(op: str, top: float, v: float) -> bool:
    beats = top < v if op == "topk" else top > v
    return beats or (math.isnan(top) and not math.isnan(v))


def _less_asc(a: float, b: float) -> bool:
    return math.isnan(a) or a < b


def _less_desc(a: float, b: float) -> bool:
    return math.isnan(a) or a > b


def top_bottom(
    op: str, vector: Vector, grouping: Sequence[str], is_without: bool, n: int, param: Scalar
) -> tuple[Vector, list[int]]:
    """topk / bottomk / limitk / limit_ratio; returns the series and, for step 0, their order."""
    rows = list(vector)
    groups = _groups(rows, grouping, is_without)
    selected = [np.zeros(n, dtype=bool) for _ in rows]
    index_of = {id(s): i for i, s in enumerate(rows)}
    order0: list[int] = []
    for step in range(n):
        f = float(param[step])
        if op == "limit_ratio":
            if math.isnan(f):
                raise QueryError("Ratio value is NaN")
            ratio = max(-1.0, min(1.0, f))
        else:
            if math.isnan(f):
                raise QueryError("Parameter value is NaN")
            if abs(f) >= 2**63:
                raise QueryError(f"Scalar value {f} overflows int64")
            k = min(int(f), len(vector))
            if k < 1:
                continue
        if op == "limit_ratio" and f == 0:
            continue
        for members in groups.values():
            chosen: list[int] = []
            if op in ("topk", "bottomk"):
                less = _less_asc if op == "topk" else _less_desc
                heap: list[tuple[float, int]] = []
                for m in members:
                    if not m.present[step]:
                        continue
                    v = float(m.values[step])
                    idx = index_of[id(m)]
                    if len(heap) < k:
                        heap.append((v, idx))
                        _go_heap_up(heap, len(heap) - 1, less)
                    elif _replaces(op, heap[0][0], v):
                        heap[0] = (v, idx)
                        if k > 1:
                            _go_heap_down(heap, 0, less)
                ordered = sorted(heap, key=lambda e: _sort_key(e[0]), reverse=op == "topk")
                if op == "bottomk":
                    ordered = sorted(heap, key=lambda e: _sort_key_bottom(e[0]))
                chosen = [idx for _, idx in ordered]
            elif op == "limitk":
                chosen = [index_of[id(m)] for m in members if m.present[step]][:k]
            else:
                chosen = [
                    index_of[id(m)]
                    for m in members
                    if m.present[step] and _ratio_sample(ratio, _ratio_offset(m.labels))
                ]
            for idx in chosen:
                selected[idx][step] = True
            if step == 0:
                order0.extend(chosen)
    out = [
        StepSeries(s.labels, s.values, sel & s.present, drop_name=s.drop_name, histograms=s.histograms)
        for s, sel in zip(rows, selected, strict=True)
    ]
    return Vector.of(out, n), order0


def _sort_key(v: float) -> tuple[int, float]:
    # topk output: descending, NaN last (reverse of ascending-with-NaN-first).
    return (0, 0.0) if math.isnan(v) else (1, v)


def _sort_key_bottom(v: float) -> tuple[int, float]:
    return (1, 0.0) if math.isnan(v) else (0, v)


def _ratio_offset(labels: Labels) -> float:
    from alerting_server.query.xxhash import labels_hash

    return labels_hash(labels) / float(2**64 - 1)


def _ratio_sample(ratio: float, offset: float) -> bool:
    return (ratio >= 0 and offset < ratio) or (ratio < 0 and offset >= 1.0 + ratio)


def format_value(f: float) -> str:
    """strconv.FormatFloat(f, 'f', -1, 64)."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    return np.format_float_positional(f, unique=True, trim="-")


def count_values(
    vector: Vector, value_label: str, grouping: Sequence[str], is_without: bool, n: int
) -> Vector:
    """A histogram sample counts as its string form (FloatHistogram.String)."""
    counts: dict[Labels, np.ndarray] = {}
    for s in vector:
        for step in np.nonzero(s.present)[0]:
            h = None if s.histograms is None else s.histograms[step]
            value = format_value(float(s.values[step])) if h is None else str(h)
            metric = with_label(s.labels, value_label, value)
            if is_without:
                key = without(metric, [*grouping, METRIC_NAME])
            else:
                key = keep(metric, [*grouping, value_label])
            counts.setdefault(key, np.zeros(n))[step] += 1
    return Vector.of([StepSeries(labels, c, c > 0) for labels, c in counts.items()], n)


# Aggregation of native-histogram samples (the aggregation of Prometheus' engine.go).

MIXED = "mixed"
COLLISION = "collision"
RECONCILED = "reconciled"
INCOMPATIBLE = "incompatible"


def with_histograms(
    op: str,
    vector: Vector,
    grouping: Sequence[str],
    is_without: bool,
    n: int,
    note: Callable[[str, str], None],
) -> Vector:
    """sum and avg of a vector holding histogram samples: per group and step, the floats or the
    histograms (a group with both there gives nothing, and a warning); `note(kind, metric name)` is
    told of MIXED, COLLISION, RECONCILED and INCOMPATIBLE."""
    assert vector.histograms is not None
    out = _columnar(op, vector.floats_only(), grouping, is_without, n)
    groups = group_rows(vector.labels, grouping, is_without)
    hists = vector.histograms
    is_histogram = vector.histogram_mask()
    float_present = vector.present & ~is_histogram
    present = out.present.copy()
    results = np.full((groups.count, n), None, dtype=object)
    ids = groups.ids.tolist()
    for g in range(groups.count):
        rows = [r for r, gid in enumerate(ids) if gid == g]
        for i in range(n):
            members = [r for r in rows if is_histogram[r, i]]
            if not members:
                continue
            if any(float_present[r, i] for r in rows):
                note(MIXED, "")
                present[g, i] = False
                continue
            items = [hists[r, i] for r in members]
            total = sum_histograms(items, get(vector.labels[members[0]], METRIC_NAME), note)
            if total is None:
                continue
            if op == "avg":
                total = mean_histogram(items) if total.has_overflow() else total.div(len(members))
            results[g, i] = total.compact()
            present[g, i] = True
    return Vector(groups.labels, out.values, present, out.drop_name, None, results)


def sum_histograms(
    members: list[FloatHistogram], metric: str, note: Callable[[str, str], None]
) -> FloatHistogram | None:
    """The sum of histograms, None (and INCOMPATIBLE noted) when exponential and custom buckets meet."""
    total = members[0].copy()
    reset = total.counter_reset_hint == CounterResetHint.COUNTER_RESET
    not_reset = total.counter_reset_hint == CounterResetHint.NOT_COUNTER_RESET
    for h in members[1:]:
        reset |= h.counter_reset_hint == CounterResetHint.COUNTER_RESET
        not_reset |= h.counter_reset_hint == CounterResetHint.NOT_COUNTER_RESET
        try:
            total, _, reconciled = total.add(h)
        except HistogramError:
            note(INCOMPATIBLE, metric)
            return None
        if reconciled:
            note(RECONCILED, "")
    if reset and not_reset:
        note(COLLISION, "")
    # Count and sum exactly, as Prometheus' compensated (Kahan) sum gets them.
    total.count = _kahan([h.count for h in members])
    total.sum = _kahan([h.sum for h in members])
    return total


def _kahan(values: list[float]) -> float:
    total = c = 0.0
    for v in values:
        total, c = kahan_inc(v, total, c)
    return total if math.isinf(total) else total + c


def mean_histogram(members: list[FloatHistogram]) -> FloatHistogram:
    """The incremental mean Prometheus falls back to when the sum overflows."""
    mean = members[0].copy()
    for k, h in enumerate(members[1:], start=2):
        mean, _, _ = mean.mul((k - 1) / k).add(h.div(k))
    # Where a field's compensated sum does not overflow, its mean is that sum over the count, as
    # close as Prometheus' compensated incremental mean comes.
    n = len(members)
    for name in ("count", "sum", "zero_count"):
        total = _kahan([getattr(h, name) for h in members])
        if math.isfinite(total):
            setattr(mean, name, total / n)
    return mean
