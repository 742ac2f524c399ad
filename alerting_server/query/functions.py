"""PromQL function calls other than the range-vector ones (see range_functions)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import promql_parser as pp

from alerting_common.regexp import RegexpError
from alerting_server.query import info
from alerting_server.query.ast import unwrap_parens
from alerting_server.query.errors import QueryError
from alerting_server.query.histogram import (
    NAN_FRACTION,
    NAN_RESULT,
    NAN_SKEW,
    FloatHistogram,
    histogram_fraction,
    histogram_quantile,
    histogram_variance,
)
from alerting_server.query.labels import (
    METRIC_NAME,
    Labels,
    get,
    promql_regex,
    with_label,
    without,
)
from alerting_server.query.mathx import (
    ForcedMonotonicity,
    bucket_fraction,
    bucket_quantile,
    go_g,
    go_parse_float,
    openmetrics_float,
)
from alerting_server.query.range_functions import RANGE_FUNCTIONS
from alerting_server.query.steps import Mask, Scalar, Steps, StepSeries, Value, Vector
from alerting_server.query.storage import Values
from alerting_server.query.syntax_lexer import go_quote

if TYPE_CHECKING:
    from alerting_server.query.evaluator import Evaluator

_MATH: dict[str, Callable[[Values], Values]] = {
    "abs": np.abs,
    "ceil": np.ceil,
    "floor": np.floor,
    "exp": np.exp,
    "sqrt": np.sqrt,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "tanh": np.tanh,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
    "rad": lambda v: v * math.pi / 180,
    "deg": lambda v: v * 180 / math.pi,
    "sgn": np.sign,
}

MATH_FUNCTIONS = frozenset(_MATH)

_HISTOGRAM_ONLY = {
    "histogram_count",
    "histogram_sum",
    "histogram_avg",
    "histogram_stddev",
    "histogram_stdvar",
}


def _date_part(name: str, seconds: float) -> float:
    if math.isnan(seconds) or math.isinf(seconds):
        return math.nan
    try:
        t = datetime.fromtimestamp(int(seconds), UTC)
    except (OverflowError, OSError, ValueError):
        return math.nan
    if name == "year":
        return float(t.year)
    if name == "month":
        return float(t.month)
    if name == "day_of_month":
        return float(t.day)
    if name == "day_of_year":
        return float(t.timetuple().tm_yday)
    if name == "day_of_week":
        return float((t.weekday() + 1) % 7)
    if name == "hour":
        return float(t.hour)
    if name == "minute":
        return float(t.minute)
    # days_in_month
    nxt = datetime(t.year + (t.month == 12), t.month % 12 + 1, 1, tzinfo=UTC)
    return float((nxt - datetime(t.year, t.month, 1, tzinfo=UTC)).days)


_DATE_FUNCS = {
    "year",
    "month",
    "day_of_month",
    "day_of_year",
    "day_of_week",
    "hour",
    "minute",
    "days_in_month",
}
DATE_FUNCTIONS = frozenset(_DATE_FUNCS)


def call(ev: Evaluator, node: pp.Call, span: Steps) -> Value:
    name = node.func.name
    args = [unwrap_parens(a) for a in node.args]
    n = span.n
    if name in RANGE_FUNCTIONS and any(isinstance(a, pp.MatrixSelector | pp.SubqueryExpr) for a in args):
        if name == "absent_over_time":
            return _absent(ev.range_function(name, node, span), args[0], n)
        return ev.range_function(name, node, span)
    if name == "time":
        return span.times / 1000.0
    if name == "start":
        return np.full(n, ev.query_start / 1000.0)
    if name == "end":
        return np.full(n, ev.query_end / 1000.0)
    if name == "pi":
        return np.full(n, math.pi)
    if name == "step":
        return np.full(n, (ev.query_step if ev.query_end != ev.query_start else 0) / 1000.0)
    if name == "range":
        return np.full(n, (ev.query_end - ev.query_start) / 1000.0)
    if name in ("min_of", "max_of"):
        a, b = ev.scalar(args[0], span), ev.scalar(args[1], span)
        return np.minimum(a, b) if name == "min_of" else np.maximum(a, b)
    if name == "vector":
        return Vector.of([StepSeries((), ev.scalar(args[0], span).copy(), np.ones(n, dtype=bool))], n)
    if name == "scalar":
        return _scalar(ev.vector(args[0], span).floats_only(), n)
    if name == "timestamp":
        return _timestamp(ev.vector(args[0], span), span, isinstance(args[0], pp.VectorSelector))
    if name == "start_timestamp":
        # Only a selector's samples carry start times: of any other expression, nothing.
        if isinstance(args[0], pp.VectorSelector) and ev.use_start_timestamps:
            return ev.start_timestamps(args[0], span)
        ev.vector(args[0], span)
        return Vector.empty(n)
    if name == "absent":
        return _absent(ev.vector(args[0], span), args[0], n)
    if name in _MATH:
        fn = _MATH[name]
        vector = ev.vector(args[0], span).floats_only()  # histogram samples are left out
        with np.errstate(all="ignore"):
            return _renamed(vector, fn(vector.values))
    if name == "round":
        to_nearest = ev.scalar(args[1], span) if len(args) > 1 else np.ones(n)
        vector = ev.vector(args[0], span).floats_only()
        with np.errstate(all="ignore"):
            inverse = 1.0 / to_nearest
            return _renamed(vector, np.floor(vector.values * inverse + 0.5) / inverse)
    if name in ("clamp", "clamp_min", "clamp_max"):
        return _clamp(ev, name, args, span)
    if name in _DATE_FUNCS:
        if not args:
            times = span.times / 1000.0
            row = StepSeries((), np.array([_date_part(name, t) for t in times]), np.ones(n, dtype=bool))
            return Vector.of([row], n)
        return Vector.of(
            [
                StepSeries(s.labels, np.array([_date_part(name, v) for v in s.values]), s.present, True)
                for s in ev.vector(args[0], span).floats_only().live()  # histograms are ignored
            ],
            n,
        )
    if name in ("sort", "sort_desc", "sort_by_label", "sort_by_label_desc"):
        vector = ev.vector(args[0], span)
        if name in ("sort", "sort_desc"):
            vector = vector.floats_only().live()  # Prometheus' filterFloats
        ev.order = _sorted_labels(name, vector, [_string(ev, a, span) for a in args[1:]])
        return vector
    if name == "label_replace":
        return _label_replace(ev, args, span)
    if name == "label_join":
        return _label_join(ev, args, span)
    if name == "histogram_quantile":
        return _histogram_quantile(ev, args, span)
    if name == "histogram_quantiles":
        return _histogram_quantiles(ev, args, span)
    if name == "histogram_fraction":
        return _histogram_fraction(ev, args, span)
    if name in _HISTOGRAM_PROPERTIES:
        return _histogram_property(name, ev.vector(args[0], span))
    if name in _HISTOGRAM_ONLY:
        ev.vector(args[0], span)
        return Vector.empty(n)
    if name == "info":
        return info.info(ev, args, span)
    raise QueryError(f"function {name} is not supported")


_HISTOGRAM_PROPERTIES: dict[str, Callable[[FloatHistogram], float]] = {
    "histogram_count": lambda h: h.count,
    "histogram_sum": lambda h: h.sum,
    "histogram_avg": lambda h: float(np.float64(h.sum) / np.float64(h.count)),
    "histogram_stdvar": histogram_variance,
    "histogram_stddev": lambda h: float(np.sqrt(np.float64(histogram_variance(h)))),
}


def _histogram_property(name: str, vector: Vector) -> Vector:
    """histogram_count/sum/avg: a float per histogram sample, the float samples left out."""
    values = np.zeros(vector.values.shape)
    present = np.zeros(vector.values.shape, dtype=bool)
    hists = vector.histograms
    if hists is not None:
        fn = _HISTOGRAM_PROPERTIES[name]
        for row, i in zip(*np.nonzero(vector.present), strict=True):
            h = hists[row, i]
            if h is not None:
                with np.errstate(all="ignore"):
                    values[row, i] = fn(h)
                present[row, i] = True
    return Vector(vector.labels, values, present, np.ones(len(vector), dtype=bool)).live()


def _string(ev: Evaluator, node: pp.Expr, span: Steps) -> str:
    value = ev.eval(node, span)
    if not isinstance(value, str):
        raise QueryError("expected a string argument")
    return value


def _renamed(vector: Vector, values: Values) -> Vector:
    """A function of the values that drops the metric name."""
    return Vector(vector.labels, values, vector.present, np.ones(len(vector), dtype=bool))


def _scalar(vector: Vector, n: int) -> Scalar:
    if not vector:
        return np.full(n, math.nan)
    counts = vector.present.sum(axis=0)
    # Only the steps with exactly one sample are read, so the order of the sum is irrelevant.
    total = np.where(vector.present, vector.values, 0.0).sum(axis=0)
    return np.where(counts == 1, total, math.nan)


def _timestamp(vector: Vector, span: Steps, from_selector: bool) -> Vector:
    if from_selector and vector.sample_ts is not None:
        return _renamed(vector, vector.sample_ts / 1000.0)
    return _renamed(vector, np.broadcast_to(span.times / 1000.0, vector.values.shape).copy())


def absent_labels(node: pp.Expr) -> Labels:
    node = unwrap_parens(node)
    if isinstance(node, pp.MatrixSelector):
        node = node.vector_selector
    if not isinstance(node, pp.VectorSelector):
        return ()
    out: dict[str, str] = {}
    has: set[str] = set()
    for m in node.matchers.matchers:
        if m.name == METRIC_NAME:
            continue
        if m.op == pp.MatchOp.Equal and m.name not in has:
            out[m.name] = m.value
            has.add(m.name)
        else:
            out.pop(m.name, None)
    return tuple(sorted((k, v) for k, v in out.items() if v != ""))


def _absent(vector: Vector, arg: pp.Expr, n: int) -> Vector:
    present: Mask = np.logical_or.reduce(vector.present, axis=0)
    if present.all():
        return Vector.empty(n)
    return Vector.of([StepSeries(absent_labels(arg), np.ones(n), ~present, True)], n)


def _clamp(ev: Evaluator, name: str, args: list[pp.Expr], span: Steps) -> Vector:
    vector = ev.vector(args[0], span).floats_only()
    n = span.n
    if name == "clamp":
        low, high = ev.scalar(args[1], span), ev.scalar(args[2], span)
    elif name == "clamp_min":
        low, high = ev.scalar(args[1], span), np.full(n, math.inf)
    else:
        low, high = np.full(n, -math.inf), ev.scalar(args[1], span)
    valid = ~(high < low)
    clamped = _renamed(vector, np.maximum(low, np.minimum(high, vector.values)))
    clamped.present = vector.present & valid
    return clamped.live()


def _natsort_key(value: str) -> list[tuple[int, int, str]]:
    return [(0, int(c), "") if c.isdigit() else (1, 0, c) for c in re.findall(r"\d+|\D+", value)]


def _sorted_labels(name: str, vector: Vector, label_names: list[str]) -> list[Labels]:
    live = [s for s in vector if s.present[0]]
    if name in ("sort", "sort_desc"):

        def key(s: StepSeries) -> tuple[int, float]:
            v = float(s.values[0])
            if math.isnan(v):
                return (1, 0.0)
            return (0, v if name == "sort" else -v)

        return [s.labels for s in sorted(live, key=key)]
    ordered = sorted(live, key=lambda s: ([_natsort_key(get(s.labels, ln)) for ln in label_names], s.labels))
    if name == "sort_by_label_desc":
        ordered.reverse()
    return [s.labels for s in ordered]


def valid_label_name(name: str) -> bool:
    if not name:
        return False
    try:
        raw = name.encode("latin-1")
    except UnicodeEncodeError:
        return True
    # The parser turns `\xff` escapes into code points; Go keeps them as bytes, and a name
    # that is not valid UTF-8 is rejected.
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def go_quote_bytes(name: str) -> str:
    """Go's %q of a string the parser read from `\\xNN` escapes (code points below 256 standing
    for bytes): the bytes that are not valid UTF-8 shown as `\\xNN`."""
    try:
        raw = name.encode("latin-1")
    except UnicodeEncodeError:
        return go_quote(name)
    out: list[str] = []
    i = 0
    while i < len(raw):
        for width in (1, 2, 3, 4):
            try:
                char = raw[i : i + width].decode("utf-8")
            except UnicodeDecodeError:
                continue
            out.append(go_quote(char)[1:-1])
            i += width
            break
        else:
            out.append(f"\\x{raw[i]:02x}")
            i += 1
    return '"' + "".join(out) + '"'


def _merge_same_labels(vector: list[StepSeries], n: int) -> Vector:
    merged: dict[Labels, StepSeries] = {}
    order: list[Labels] = []
    for s in vector:
        key = s.labels
        prior = merged.get(key)
        if prior is None:
            merged[key] = StepSeries(s.labels, s.values.copy(), s.present.copy(), s.drop_name, s.sample_ts)
            order.append(key)
            continue
        if (prior.present & s.present).any():
            raise QueryError("vector cannot contain metrics with the same labelset")
        prior.values[s.present] = s.values[s.present]
        prior.present |= s.present
    return Vector.of([merged[k] for k in order], n)


def _label_replace(ev: Evaluator, args: list[pp.Expr], span: Steps) -> Vector:
    dst, repl, src, pattern = (_string(ev, a, span) for a in args[1:5])
    try:
        regex = promql_regex(pattern)
    except RegexpError as e:
        raise QueryError(f"invalid regular expression in label_replace(): {pattern}") from e
    if not valid_label_name(dst):
        raise QueryError(f"invalid destination label name in label_replace(): {dst}")
    out = []
    for s in ev.vector(args[0], span):
        m = regex.find(get(s.labels, src))
        if m is None:
            out.append(s)
            continue
        labels = with_label(s.labels, dst, m.expand(repl))
        drop = False if dst == METRIC_NAME else s.drop_name
        out.append(StepSeries(labels, s.values, s.present, drop, s.sample_ts))
    return _merge_same_labels(out, span.n)


def _label_join(ev: Evaluator, args: list[pp.Expr], span: Steps) -> Vector:
    dst, sep = _string(ev, args[1], span), _string(ev, args[2], span)
    srcs = [_string(ev, a, span) for a in args[3:]]
    for src in srcs:
        if not valid_label_name(src):
            raise QueryError(f"invalid source label name in label_join(): {src}")
    if not valid_label_name(dst):
        raise QueryError(f"invalid destination label name in label_join(): {dst}")
    out = []
    for s in ev.vector(args[0], span):
        labels = with_label(s.labels, dst, sep.join(get(s.labels, src) for src in srcs))
        drop = False if dst == METRIC_NAME else s.drop_name
        out.append(StepSeries(labels, s.values, s.present, drop, s.sample_ts))
    return _merge_same_labels(out, span.n)


def _bucket_groups(
    ev: Evaluator, vector: Vector, node: pp.Expr
) -> dict[Labels, list[tuple[float, StepSeries]]]:
    """The buckets of each classic histogram; "1" and "1.0" are one bound (their counts add up, as
    in Prometheus' coalesceBuckets), and `le` is read as Go's ParseFloat reads it."""
    groups: dict[Labels, list[tuple[float, StepSeries]]] = {}
    for s in vector:
        if not s.present.any():
            continue  # a series of histogram samples only
        le = get(s.labels, "le")
        try:
            upper = go_parse_float(le)
        except ValueError:
            ev.annotations.warn(
                f'PromQL warning: bucket label "le" is missing or has a malformed value of "{le}" '
                "for metric name "
                f'"{get(s.labels, METRIC_NAME)}"{ev.position(node)}'
            )
            continue
        groups.setdefault(without(s.labels, ["le"]), []).append((upper, s))
    return groups


_HISTOGRAM_NOTES = {
    NAN_RESULT: "input to histogram_quantile has NaN observations, result is NaN",
    NAN_SKEW: "input to histogram_quantile has NaN observations, result is skewed higher",
    NAN_FRACTION: "input to histogram_fraction has NaN observations, which are excluded from all fractions",
}


def _with_native(
    ev: Evaluator,
    vector: Vector,
    node: pp.Expr,
    classic: list[StepSeries],
    groups: dict[Labels, list[tuple[float, StepSeries]]],
    compute: Callable[[int, FloatHistogram], tuple[float, str | None]],
) -> Vector:
    """The classic results joined by those of the native-histogram samples: where a native histogram
    and classic buckets of the same series meet at a step, neither is answered (a warning says so)."""
    hists = vector.histograms
    if hists is None:
        return Vector.of(classic, vector.n)
    rows = {s.labels: s for s in classic}
    for row, i in zip(*np.nonzero(vector.histogram_mask()), strict=True):
        labels = vector.labels[row]
        name = get(labels, METRIC_NAME)
        if any(s.present[i] for _, s in groups.get(labels, [])):
            ev.annotations.warn(
                f"PromQL warning: vector contains a mix of classic and native histograms{_for_metric(name)}"
                f"{ev.position(node)}"
            )
            if labels in rows:
                rows[labels].present[i] = False
            continue
        value, note = compute(int(i), hists[row, i])
        if note is not None:
            ev.annotations.info(
                f"PromQL info: {_HISTOGRAM_NOTES[note]}{_for_metric(name)}{ev.position(node)}"
            )
        out = rows.get(labels)
        if out is None:
            out = rows[labels] = StepSeries(labels, np.zeros(vector.n), np.zeros(vector.n, dtype=bool), True)
        out.values[i] = value
        out.present[i] = True
    return Vector.of([s for s in rows.values() if s.present.any()], vector.n)


def _for_metric(name: str) -> str:
    return f' for metric name "{name}"' if name else ""


def _histogram_quantile(ev: Evaluator, args: list[pp.Expr], span: Steps) -> Vector:
    q = ev.scalar(args[0], span)
    vector = ev.vector(args[1], span)
    ev.check_quantile(q, args[0])
    fixes = _MonotonicityFixes()
    groups = _bucket_groups(ev, vector.floats_only(), args[1])
    out = _classic_quantiles(q, groups, span, fixes)
    fixes.report(ev, args[1])
    return _with_native(ev, vector, args[1], out, groups, _native_quantile(q))


def _classic_quantiles(
    q: Scalar, groups: dict[Labels, list[tuple[float, StepSeries]]], span: Steps, fixes: _MonotonicityFixes
) -> list[StepSeries]:
    """The quantile q of each group of classic buckets, step by step; fixes told of each forced
    monotonicity."""
    out = []
    for labels, buckets in groups.items():
        values = np.zeros(span.n)
        present = np.zeros(span.n, dtype=bool)
        for i in range(span.n):
            live = [(upper, float(s.values[i])) for upper, s in buckets if s.present[i]]
            if not live:
                continue
            result, forced = bucket_quantile(float(q[i]), live)
            if forced is not None:
                fixes.add(get(labels, METRIC_NAME), int(span.times[i]), forced)
            values[i], present[i] = result, True
        if present.any():
            out.append(StepSeries(labels, values, present, True))
    return out


class _MonotonicityFixes:
    """Prometheus' histogramQuantileForcedMonotonicityErr: one info per metric name, merged over the
    samples whose buckets had to be fixed (bucket range, largest fix, count, first and last time)."""

    def __init__(self) -> None:
        self.by_name: dict[str, list[float]] = {}  # min_ts, max_ts, count, min_bucket, max_bucket, diff

    def add(self, name: str, t_ms: int, forced: ForcedMonotonicity) -> None:
        seen = self.by_name.get(name)
        if seen is None:
            self.by_name[name] = [t_ms, t_ms, 1, forced.min_bucket, forced.max_bucket, forced.max_diff]
            return
        seen[0], seen[1], seen[2] = min(seen[0], t_ms), max(seen[1], t_ms), seen[2] + 1
        seen[3], seen[4] = min(seen[3], forced.min_bucket), max(seen[4], forced.max_bucket)
        seen[5] = max(seen[5], forced.max_diff)

    def report(self, ev: Evaluator, node: pp.Expr) -> None:
        for name, (min_ts, max_ts, count, low, high, diff) in self.by_name.items():
            named = f' for metric name "{name}"' if name else ""
            ev.annotations.info(
                "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see "
                "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)"
                f"{named}, from buckets {go_g(low)} to {go_g(high)}, with a max diff of {diff:.2g}, "
                f"over {int(count)} samples from {_rfc3339(min_ts)} to {_rfc3339(max_ts)}"
                f"{ev.position(node)}"
            )


def _rfc3339(t_ms: float) -> str:
    return datetime.fromtimestamp(int(t_ms) // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _histogram_quantiles(ev: Evaluator, args: list[pp.Expr], span: Steps) -> Vector:
    """histogram_quantiles(v, "label", q1, q2...): one series per quantile, the label holding it in
    OpenMetrics' float format ("0.5", "1.0"); classic and native histograms as histogram_quantile."""
    vector = ev.vector(args[0], span)
    label = _string(ev, args[1], span)
    qs = [ev.scalar(a, span) for a in args[2:]]
    for q, node in zip(qs, args[2:], strict=True):
        ev.check_quantile(q, node)
    rows: dict[Labels, tuple[np.ndarray, np.ndarray]] = {}
    fixes = _MonotonicityFixes()
    groups = _bucket_groups(ev, vector.floats_only(), args[0])
    for q in qs:
        classic = _classic_quantiles(q, groups, span, fixes)
        answered = _with_native(ev, vector, args[0], classic, groups, _native_quantile(q))
        for s in answered:
            for i in np.flatnonzero(s.present).tolist():
                key = with_label(s.labels, label, openmetrics_float(float(q[i])))
                values, present = rows.setdefault(key, (np.zeros(span.n), np.zeros(span.n, dtype=bool)))
                values[i], present[i] = s.values[i], True
    fixes.report(ev, args[0])
    return Vector.of([StepSeries(k, v, p, True) for k, (v, p) in rows.items()], span.n)


def _native_quantile(q: Scalar) -> Callable[[int, FloatHistogram], tuple[float, str | None]]:
    def compute(i: int, h: FloatHistogram) -> tuple[float, str | None]:
        return histogram_quantile(float(q[i]), h)

    return compute


def _histogram_fraction(ev: Evaluator, args: list[pp.Expr], span: Steps) -> Vector:
    lower, upper = ev.scalar(args[0], span), ev.scalar(args[1], span)
    vector = ev.vector(args[2], span)
    out = []
    groups = _bucket_groups(ev, vector.floats_only(), args[2])
    for labels, buckets in groups.items():
        values = np.zeros(span.n)
        present = np.zeros(span.n, dtype=bool)
        for i in range(span.n):
            live = [(ub, float(s.values[i])) for ub, s in buckets if s.present[i]]
            if live:
                values[i] = bucket_fraction(float(lower[i]), float(upper[i]), live)
                present[i] = True
        if present.any():
            out.append(StepSeries(labels, values, present, True))
    return _with_native(
        ev, vector, args[2], out, groups, lambda i, h: histogram_fraction(float(lower[i]), float(upper[i]), h)
    )
