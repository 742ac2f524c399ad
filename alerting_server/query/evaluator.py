"""Evaluation of a parsed PromQL expression over a span of steps (Prometheus 3 semantics)."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import promql_parser as pp

from alerting_server.query import (
    aggregate,
    binary,
    extended,
    functions,
    histogram_stats,
    segments,
    start_times,
    trim,
)
from alerting_server.query.ast import AtTime, at_of, duration_ms, selector_matchers, unwrap_parens
from alerting_server.query.errors import NativeHistogramsUnsupported, QueryError
from alerting_server.query.extrapolated import (
    EXTRAPOLATED,
    MIXED_SCHEMAS,
    NOT_COUNTER,
    NOT_GAUGE,
    OVERLAP,
    RECONCILED_ADD,
    RECONCILED_SUB,
    extrapolated,
    histogram_extrapolated,
)
from alerting_server.query.histogram import CounterResetHint, FloatHistogram, HistogramError
from alerting_server.query.labels import METRIC_NAME, Labels, get
from alerting_server.query.limits import DEFAULT_LIMITS, Budget
from alerting_server.query.mathx import go_g
from alerting_server.query.range_functions import KEEPS_NAME, RANGE_FUNCTIONS, Window
from alerting_server.query.segments import Index
from alerting_server.query.steps import Histograms, Mask, Matrix, RawSeries, Scalar, Steps, Value, Vector
from alerting_server.query.storage import FlatQueryable, Queryable, SeriesData, Timestamps, Values, stale_mask

_CARD = {
    "OneToOne": "one-to-one",
    "ManyToOne": "many-to-one",
    "OneToMany": "one-to-many",
    "ManyToMany": "many-to-many",
}
_COUNTER_SUFFIXES = ("_total", "_sum", "_count", "_bucket")
# Steps of a Python loop between two looks at the clock.
_STEPS_PER_CHECK = 1024


def _labels_of(s: SeriesData) -> Labels:
    return s.labels


def _samples(value: Value) -> int:
    """What a value holds in memory, in samples."""
    if isinstance(value, Vector):
        return int(value.values.size)
    if isinstance(value, Matrix):
        return len(value.timestamps)
    if isinstance(value, np.ndarray):
        return len(value)
    return 0


def _metric_names(series: list[Labels]) -> list[str]:
    return [
        labels[0][1] if labels and labels[0][0] == METRIC_NAME else get(labels, METRIC_NAME)
        for labels in series
    ]


@dataclass
class Annotations:
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    # Of a warning that counts its occurrences: its place in `warnings` and its count.
    _counted: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def warn_counted(self, text: str, where: str) -> None:
        """A warning told once, its number of occurrences added when more than one (as Prometheus'
        start time overlap warning merges)."""
        found = self._counted.get((text, where))
        if found is None:
            self._counted[text, where] = (len(self.warnings), 1)
            self.warnings.append(text + where)
            return
        index, count = found[0], found[1] + 1
        self._counted[text, where] = (index, count)
        self.warnings[index] = f"{text} ({count} occurrences){where}"

    def info(self, text: str) -> None:
        if text not in self.infos:
            self.infos.append(text)


@dataclass
class Evaluator:
    storage: Queryable
    query: str
    query_start: int
    query_end: int
    query_step: int
    lookback_ms: int
    subquery_step_ms: int
    annotations: Annotations = field(default_factory=Annotations)
    # Output order of the outermost instant vector (sort, topk), by labels, when it matters.
    order: list[Labels] | None = None
    budget: Budget = field(default_factory=lambda: Budget(DEFAULT_LIMITS))
    # The BinaryExprs of the evaluated tree that are native-histogram trims (query/trim.py).
    trims: trim.Marks = field(default_factory=dict)
    # The selectors read as through Prometheus' HistogramStatsIterator (query/histogram_stats.py).
    stats_selectors: frozenset[int] = frozenset()
    # Prometheus' `use-start-timestamps`: rate, irate, increase, resets and start_timestamp() read
    # the samples' start times.
    use_start_timestamps: bool = False
    # Per node being evaluated: whether one of its operands carried native-histogram samples.
    _histogram_operands: list[bool] = field(default_factory=list)

    def eval(self, node: pp.Expr, span: Steps) -> Value:
        budget = self.budget
        budget.check_time()
        held = budget.held
        frames = self._histogram_operands
        frames.append(False)
        try:
            value = self._eval(node, span)
        finally:
            had_histograms = frames.pop()
        if had_histograms and not _takes_histograms(node):
            raise NativeHistogramsUnsupported(f"{_describe(node)} is not implemented for native histograms")
        if frames and isinstance(value, Vector | Matrix) and value.histograms is not None:
            frames[-1] = True
        # What the children held is let go; the value is held until the parent is done with it.
        budget.held = held
        budget.hold(_samples(value))
        return value

    def _eval(self, node: pp.Expr, span: Steps) -> Value:
        if isinstance(node, pp.ParenExpr):
            return self.eval(node.expr, span)
        if isinstance(node, pp.NumberLiteral):
            return np.full(span.n, node.val)
        if isinstance(node, pp.StringLiteral):
            return node.val
        if isinstance(node, pp.UnaryExpr):
            return self._negate(self.eval(node.expr, span))
        if isinstance(node, pp.VectorSelector):
            return self.vector_selector(node, span)
        if isinstance(node, pp.MatrixSelector | pp.SubqueryExpr):
            return self.matrix(node, span)
        if isinstance(node, pp.Call):
            return functions.call(self, node, span)
        if isinstance(node, pp.AggregateExpr):
            return self._aggregate(node, span)
        if isinstance(node, pp.BinaryExpr):
            return self._binary(node, span)
        raise QueryError(f"unsupported expression {node}")

    def vector(self, node: pp.Expr, span: Steps) -> Vector:
        value = self.eval(node, span)
        if not isinstance(value, Vector):
            raise QueryError(f"expected instant vector, got {type(value).__name__}")
        return value

    def scalar(self, node: pp.Expr, span: Steps) -> Scalar:
        value = self.eval(node, span)
        if not isinstance(value, np.ndarray):
            raise QueryError(f"expected scalar, got {type(value).__name__}")
        return value

    def _negate(self, value: Value) -> Value:
        if isinstance(value, np.ndarray):
            return -value
        if isinstance(value, Vector):
            hists = value.histograms
            if hists is not None:
                # -h is h * -1, a gauge (vectorElemBinop of -1 and h).
                hists = np.frompyfunc(lambda h: None if h is None else h.mul(-1.0), 1, 1)(hists)
            return Vector(
                value.labels, -value.values, value.present, np.ones(len(value), dtype=bool), None, hists
            )
        raise QueryError("unary minus needs a scalar or instant vector")

    def position(self, node: pp.Expr) -> str:
        """` (line:col)` of a node, as Prometheus appends to annotations; found by its text."""
        text = extended.unmarked(str(node))
        # The tree prints a trim as the comparison it was parsed as, at the same place.
        query = trim.rewrite(self.query) if self.trims else self.query
        at = query.find(text)
        if at < 0 and text.endswith("{}"):
            at = query.find(text[:-2])  # a selector written without braces
        if at < 0 and isinstance(node, pp.MatrixSelector):
            return self.position(node.vector_selector)
        if at < 0:
            return ""
        line = query.count("\n", 0, at) + 1
        return f" ({line}:{at - (query.rfind(chr(10), 0, at) + 1) + 1})"

    def check_quantile(self, q: Scalar, node: pp.Expr) -> None:
        for value in dict.fromkeys(q.tolist()):
            if math.isnan(value) or value < 0 or value > 1:
                self.annotations.warn(
                    "PromQL warning: quantile value should be between 0 and 1, "
                    f"got {go_g(value)}{self.position(node)}"
                )

    # --- selectors -------------------------------------------------------------------------

    def _ref_times(self, at: AtTime | None, offset_ms: int, span: Steps) -> np.ndarray:
        if at is not None:
            return np.full(span.n, at.resolve(self.query_start, self.query_end) - offset_ms, dtype=np.int64)
        return span.times - offset_ms

    def _select(self, vs: pp.VectorSelector, mint: int, maxt: int) -> list[SeriesData]:
        groups = selector_matchers(vs)
        if len(groups) == 1:
            data = self.storage.select(groups[0], mint, maxt)
        else:
            found: dict[Labels, SeriesData] = {}
            for group in groups:
                for s in self.storage.select(group, mint, maxt):
                    found.setdefault(s.labels, s)
            data = list(found.values())
        for s in data:
            if s.native_histograms and s.histograms is None:
                raise NativeHistogramsUnsupported(
                    f"series {get(s.labels, METRIC_NAME)!r} holds native histograms"
                )
        data.sort(key=_labels_of)
        return data

    def _select_flat(self, vs: pp.VectorSelector, mint: int, maxt: int, *, last: bool = False) -> Matrix:
        """The selected series as one flat matrix, window fields left for the caller; with `last`,
        a store that can leaves out all but the last sample of each series."""
        empty = np.empty(0, dtype=np.int64)
        groups = selector_matchers(vs)
        if len(groups) == 1 and _is_flat(type(self.storage)):
            flat = cast(FlatQueryable, self.storage).select_flat(groups[0], mint, maxt, last=last)
            drop = np.zeros(len(flat.labels), dtype=bool)
            return Matrix(
                flat.labels,
                flat.timestamps,
                flat.values,
                flat.offsets,
                drop,
                empty,
                0,
                flat.histograms,
                flat.start_timestamps,
            )
        data = self._select(vs, mint, maxt)
        return Matrix.of(
            [
                RawSeries(s.labels, s.timestamps, s.values, False, s.histograms, s.start_timestamps)
                for s in data
            ],
            empty,
            0,
        )

    def vector_selector(self, vs: pp.VectorSelector, span: Steps) -> Vector:
        ref = self._ref_times(at_of(vs), duration_ms(vs.offset), span)
        if extended.modifier_of(vs) == extended.SMOOTHED:
            return self._smoothed_vector(vs, ref)
        # At one step an instant selector reads each series' last sample within the lookback, and
        # nothing before it (but where histogram statistics re-hint counter resets from it).
        last = span.n == 1 and id(vs) not in self.stats_selectors
        flat = self._stats_hinted(
            vs,
            self._select_flat(vs, int(ref.min()) - self.lookback_ms + 1, int(ref.max()), last=last),
            ref,
            self.lookback_ms,
        )
        k = len(flat.labels)
        if k == 0:
            return Vector.empty(span.n)
        self.budget.hold(len(flat.timestamps) + k * span.n)
        safe, ok = self._latest(flat, ref)
        ts = flat.timestamps[safe]
        vals = flat.values[safe]
        hists = None if flat.histograms is None else flat.histograms[safe]
        return Vector(flat.labels, vals, ok, np.zeros(k, dtype=bool), ts, hists).live()

    def _latest(self, flat: Matrix, ref: Timestamps) -> tuple[Index, Mask]:
        """Per series and step, the sample an instant selector reads at `ref` (its index) and
        whether there is one within the lookback that is not a staleness marker. Steps before a
        series' first sample read that sample, as a placeholder behind the mask."""
        starts = flat.offsets[:-1, None]
        idx = segments.search(flat.timestamps, flat.offsets, ref) - 1
        ok = idx >= starts
        safe = np.where(ok, idx, starts)
        ok &= flat.timestamps[safe] > ref - self.lookback_ms
        ok &= ~stale_mask(flat.values[safe])
        return safe, ok

    def start_timestamps(self, vs: pp.VectorSelector, span: Steps) -> Vector:
        """start_timestamp() of a selector: at each step, the start time (seconds, 0 where unknown)
        of the sample the selector reads there; the metric name dropped."""
        ref = self._ref_times(at_of(vs), duration_ms(vs.offset), span)
        flat = self._select_flat(vs, int(ref.min()) - self.lookback_ms + 1, int(ref.max()), last=span.n == 1)
        k = len(flat.labels)
        if k == 0:
            return Vector.empty(span.n)
        self.budget.hold(len(flat.timestamps) + k * span.n)
        safe, ok = self._latest(flat, ref)
        found = flat.start_timestamps
        values = np.zeros(ok.shape) if found is None else found[safe] / 1000.0
        return Vector(flat.labels, values, ok, np.ones(k, dtype=bool)).live()

    def _stats_hinted(self, vs: pp.VectorSelector, flat: Matrix, ref: np.ndarray, reach_ms: int) -> Matrix:
        """The selected samples, with the counter reset hints of Prometheus' HistogramStatsIterator
        where it would read them."""
        if flat.histograms is None or id(vs) not in self.stats_selectors:
            return flat
        hists = histogram_stats.rehint(flat.timestamps, flat.histograms, flat.offsets, ref, reach_ms)
        return dataclasses.replace(flat, histograms=hists)

    def _smoothed_vector(self, vs: pp.VectorSelector, ref: np.ndarray) -> Vector:
        """A smoothed instant selector: per step, the samples within the lookback delta on either
        side; a series holding both floats and histograms there gives nothing at that step (and a
        warning)."""
        lookback = self.lookback_ms
        flat = self._live_samples(vs, int(ref.min()) - lookback, int(ref.max()) + lookback)
        flat = self._stats_hinted(vs, flat, ref + lookback, 2 * lookback)
        k = len(flat.labels)
        values = np.zeros((k, len(ref)))
        present = np.zeros((k, len(ref)), dtype=bool)
        hists = flat.histograms
        results = None if hists is None else np.full((k, len(ref)), None, dtype=object)
        lo = segments.search(flat.timestamps, flat.offsets, ref - lookback)
        hi = segments.search(flat.timestamps, flat.offsets, ref + lookback)
        where = self.position(vs)
        for row, i, a, b in self._windows(lo, hi):
            window = None if hists is None else hists[a:b].tolist()
            count = 0 if window is None else sum(h is not None for h in window)
            metric = get(flat.labels[row], METRIC_NAME)
            if 0 < count < b - a:
                self._rate_note(MIXED_TYPES, metric, where)
                continue
            if window is not None and results is not None and count:
                notes: set[str] = set()
                found = extended.smoothed_histogram(
                    flat.timestamps[a:b].tolist(), cast(list[FloatHistogram], window), int(ref[i]), notes
                )
                self._rate_notes(notes, metric, where)
                if found is not None:
                    results[row, i] = found
                    present[row, i] = True
                continue
            value = extended.smoothed_value(flat.timestamps[a:b], flat.values[a:b], int(ref[i]))
            if value is not None:
                values[row, i] = value
                present[row, i] = True
        return Vector(flat.labels, values, present, np.zeros(k, dtype=bool), None, results).live()

    def _live_samples(self, vs: pp.VectorSelector, mint: int, maxt: int) -> Matrix:
        """The samples in (mint, maxt] of the selected series, stale markers left out."""
        flat = self._select_flat(vs, mint + 1, maxt)
        self.budget.hold(len(flat.timestamps))
        return _samples_kept(flat, ~stale_mask(flat.values))

    def matrix(self, node: pp.MatrixSelector | pp.SubqueryExpr, span: Steps) -> Matrix:
        if isinstance(node, pp.MatrixSelector) and extended.modifier_of(node.vector_selector):
            return self._extended_matrix(node, span)
        if isinstance(node, pp.MatrixSelector):
            vs = node.vector_selector
            range_ms = duration_ms(node.range)
            end = self._ref_times(at_of(vs), duration_ms(vs.offset), span)
            flat = self._live_samples(vs, int(end.min()) - range_ms, int(end.max()))
            flat = self._stats_hinted(vs, flat, end, range_ms)
            return dataclasses.replace(flat, window_end=end, range_ms=range_ms)
        return self._subquery(node, span)

    def _subquery(self, node: pp.SubqueryExpr, span: Steps) -> Matrix:
        range_ms = duration_ms(node.range)
        offset = duration_ms(node.offset)
        step = duration_ms(node.step) or self.subquery_step_ms
        at = at_of(node)
        end = self._ref_times(at, offset, span)
        outer_start, outer_end = int(end.min()), int(end.max())
        first = outer_start - range_ms
        start = step * int(first / step) if first >= 0 else -step * int(-first / step)
        if start <= first:
            start += step
        inner = Steps(start, outer_end, step) if outer_end >= start else None
        series: list[RawSeries] = []
        if inner is not None:
            # Every value of the inner expression spans all its steps: refused before any is made.
            self.budget.hold(inner.n)
            value = self.eval(node.expr, inner)
            if not isinstance(value, Vector):
                raise QueryError("subquery is only allowed on instant vector")
            times = inner.times
            for s in value:
                hists = None if s.histograms is None else [_unhinted(h) for h in s.histograms[s.present]]
                series.append(RawSeries(s.labels, times[s.present], s.values[s.present], s.drop_name, hists))
        return Matrix.of(series, end, range_ms)

    def _extended_samples(self, node: pp.MatrixSelector, span: Steps) -> tuple[Matrix, Index, Index, str]:
        """The samples of an anchored or smoothed range selector: each step's window reaches back
        the lookback delta further (and as far forward, smoothed), [lo, hi) per series and step."""
        vs = node.vector_selector
        modifier = extended.modifier_of(vs)
        assert modifier is not None
        range_ms = duration_ms(node.range)
        end = self._ref_times(at_of(vs), duration_ms(vs.offset), span)
        before = range_ms + self.lookback_ms
        after = self.lookback_ms if modifier == extended.SMOOTHED else 0
        flat = self._live_samples(vs, int(end.min()) - before, int(end.max()) + after)
        flat = self._stats_hinted(vs, flat, end + after, before + after)
        matrix = dataclasses.replace(flat, window_end=end, range_ms=range_ms)
        lo = segments.search(flat.timestamps, flat.offsets, end - before)
        hi = segments.search(flat.timestamps, flat.offsets, end + after)
        return matrix, lo, hi, modifier

    def _extended_matrix(self, node: pp.MatrixSelector, span: Steps) -> Matrix:
        """A bare anchored or smoothed range selector (an instant query): its window's samples with a
        sample at each end."""
        matrix, lo, hi, modifier = self._extended_samples(node, span)
        end = int(matrix.window_end[-1])
        series: list[RawSeries] = []
        for row, labels in enumerate(matrix.labels):
            a, b = int(lo[row, -1]), int(hi[row, -1])
            if matrix.histograms is not None and any(h is not None for h in matrix.histograms[a:b].tolist()):
                raise QueryError(f"{modifier} modifier is not supported with histograms")
            found = extended.extend_floats(
                matrix.timestamps[a:b],
                matrix.values[a:b],
                end - matrix.range_ms,
                end,
                modifier == extended.SMOOTHED,
            )
            if found is not None:
                series.append(RawSeries(labels, *found))
        # The sample at the window's start is in the answer: the window is closed at both ends.
        return Matrix.of(series, matrix.window_end, matrix.range_ms + 1)

    def _extended_range_function(
        self, name: str, call: pp.Call, node: pp.MatrixSelector, span: Steps
    ) -> Vector:
        """rate, increase, delta, changes or resets of an anchored or smoothed range selector. A window
        of histograms gives a histogram; rate, increase and delta of a window holding both floats and
        histograms give nothing (and a warning)."""
        extended.check_function(extended.modifier_of(node.vector_selector) or "", name)
        matrix, lo, hi, modifier = self._extended_samples(node, span)
        smoothed = modifier == extended.SMOOTHED
        hists = matrix.histograms
        values = np.zeros(lo.shape)
        present = np.zeros(lo.shape, dtype=bool)
        results = None if hists is None else np.full(lo.shape, None, dtype=object)
        where = self.position(node)
        is_counter = name != "delta"
        range_s = matrix.range_ms / 1000 if name == "rate" else None
        float_rows: set[int] = set()
        for row, i, a, b in self._windows(lo, hi):
            ts, vs = matrix.timestamps[a:b], matrix.values[a:b]
            end = int(matrix.window_end[i])
            start = end - matrix.range_ms
            window = None if hists is None else hists[a:b].tolist()
            count = 0 if window is None else sum(h is not None for h in window)
            result: float | None
            if name in ("changes", "resets"):
                first = extended.anchored_first(ts, start)
                if first is None:
                    continue
                if window is not None and count:
                    result = _changes_of(name, window[first:], vs[first:].tolist())
                else:
                    window_of = Window(start, end, matrix.range_ms, int(span.times[i]), ())
                    result = RANGE_FUNCTIONS[name](ts[first:], vs[first:], window_of)
            elif window is not None and results is not None and count:
                metric = get(matrix.labels[row], METRIC_NAME)
                if count < b - a:
                    self._rate_note(MIXED_TYPES, metric, where)
                    continue
                notes: set[str] = set()
                found = extended.extended_histogram_rate(
                    ts.tolist(),
                    cast(list[FloatHistogram], window),
                    start,
                    end,
                    smoothed=smoothed,
                    is_counter=is_counter,
                    range_s=range_s,
                    notes=notes,
                )
                self._rate_notes(notes, metric, where)
                if found is not None:
                    results[row, i] = found
                    present[row, i] = True
                continue
            else:
                result = extended.extended_rate(
                    ts,
                    vs,
                    start,
                    end,
                    smoothed=smoothed,
                    is_counter=is_counter,
                    range_s=range_s,
                )
                if result is not None:
                    float_rows.add(row)
            if result is not None:
                values[row, i] = result
                present[row, i] = True
        self._counter_info([matrix.labels[r] for r in sorted(float_rows)], name, call)
        drop = np.ones(len(matrix.labels), dtype=bool)
        return Vector(matrix.labels, values, present, drop, None, results).live()

    def range_function(self, name: str, node: pp.Call, span: Steps) -> Vector:
        """Apply a range-vector function to every series and step."""
        matrix_index = next(
            i
            for i, a in enumerate(node.args)
            if isinstance(unwrap_parens(a), pp.MatrixSelector | pp.SubqueryExpr)
        )
        params = [self.scalar(a, span) for i, a in enumerate(node.args) if i != matrix_index]
        arg = unwrap_parens(node.args[matrix_index])
        assert isinstance(arg, pp.MatrixSelector | pp.SubqueryExpr)
        if isinstance(arg, pp.MatrixSelector) and extended.modifier_of(arg.vector_selector):
            return self._extended_range_function(name, node, arg, span)
        matrix = self.matrix(arg, span)
        if matrix.start_timestamps is not None and not (
            self.use_start_timestamps and name in start_times.FUNCTIONS
        ):
            matrix = dataclasses.replace(matrix, start_timestamps=None)
        if matrix.start_timestamps is not None and name == "irate":
            return self._instant_rate(name, matrix, node)
        if matrix.start_timestamps is not None and name == "resets":
            return self._changes(name, matrix)
        if matrix.histograms is not None and name in _HISTOGRAM_OVER_TIME:
            return self._histograms_over_time(name, matrix, node)
        if matrix.histograms is not None and name in EXTRAPOLATED:
            return self._histogram_rate(name, matrix, node)
        if matrix.histograms is not None and name in ("irate", "idelta"):
            return self._instant_rate(name, matrix, node)
        if matrix.histograms is not None and name in ("changes", "resets"):
            return self._changes(name, matrix)
        if matrix.histograms is not None and name in _FLOATS_OF_MIXED_RANGES:
            matrix = self._histograms_ignored(matrix, node)
        if name not in _SAMPLES_OVER_TIME:
            matrix = _floats_only(matrix, f"function {name}")
        if name == "quantile_over_time":
            self.check_quantile(params[0], node.args[0])
        self.budget.hold(2 * len(matrix.labels) * span.n)
        lo = segments.search(matrix.timestamps, matrix.offsets, matrix.window_end - matrix.range_ms)
        hi = segments.search(matrix.timestamps, matrix.offsets, matrix.window_end)
        if name in EXTRAPOLATED:
            values, present = extrapolated(name, matrix, lo, hi)
            self._rates_with_starts(name, matrix, lo, hi, values, present, node)
        else:
            values, present = self._each_window(name, matrix, lo, hi, params, span)
        keeps = name in KEEPS_NAME
        drop = matrix.drop_name.copy() if keeps else np.ones(len(matrix.labels), dtype=bool)
        out = Vector(matrix.labels, values, present, drop).live()
        self._counter_info(out.labels, name, node)
        return out

    def _histograms_ignored(self, matrix: Matrix, node: pp.Call) -> Matrix:
        """The matrix without its histogram samples, for the functions of floats that ignore them;
        a window holding both tells Prometheus' info for its metric."""
        hists = matrix.histograms
        assert hists is not None
        is_histogram = np.array([h is not None for h in hists.tolist()], dtype=bool)
        lo = segments.search(matrix.timestamps, matrix.offsets, matrix.window_end - matrix.range_ms)
        hi = segments.search(matrix.timestamps, matrix.offsets, matrix.window_end)
        before = np.concatenate(([0], np.cumsum(is_histogram)))
        histograms_in = before[hi] - before[lo]
        mixed = (histograms_in > 0) & (hi - lo > histograms_in)
        for row in dict.fromkeys(np.nonzero(mixed)[0].tolist()):
            self.annotations.info(
                "PromQL info: ignored histograms in a range containing both floats and histograms for "
                f'metric name "{get(matrix.labels[row], METRIC_NAME)}"{self.position(node.args[0])}'
            )
        return dataclasses.replace(_samples_kept(matrix, ~is_histogram), histograms=None)

    def _histograms_over_time(self, name: str, matrix: Matrix, node: pp.Call) -> Vector:
        """sum_over_time, avg_over_time and last_over_time of windows that may hold histograms."""
        hists, lo, hi, values, present, results = _histogram_windows(matrix)
        note = self._aggregation_note(node.args[0])
        for row, i, a, b in self._windows(lo, hi):
            window = hists[a:b].tolist()
            floats = [k for k, h in enumerate(window) if h is None]
            if name in ("last_over_time", "first_over_time"):
                at = b - 1 if name == "last_over_time" else a
                if hists[at] is None:
                    values[row, i] = matrix.values[at]
                else:
                    results[row, i] = hists[at]
                present[row, i] = True
                continue
            metric = get(matrix.labels[row], METRIC_NAME)
            if floats and len(floats) < len(window):
                self.annotations.warn(
                    "PromQL warning: encountered a mix of histograms and floats for metric name "
                    f'"{metric}"{self.position(node.args[0])}'
                )
                continue
            if floats:
                end = int(matrix.window_end[i])
                result = RANGE_FUNCTIONS[name](
                    matrix.timestamps[a:b],
                    matrix.values[a:b],
                    Window(end - matrix.range_ms, end, matrix.range_ms, 0, ()),
                )
                if result is not None:
                    values[row, i] = result
                    present[row, i] = True
                continue
            members = [h for h in window if h is not None]
            total = aggregate.sum_histograms(members, metric, note)
            if total is None:
                continue
            if name == "avg_over_time":
                total = aggregate.mean_histogram(members) if total.has_overflow() else total.div(len(members))
            results[row, i] = total.compact()
            present[row, i] = True
        keeps = name in KEEPS_NAME
        drop = matrix.drop_name.copy() if keeps else np.ones(len(matrix.labels), dtype=bool)
        return Vector(matrix.labels, values, present, drop, None, results).live()

    def _histogram_rate(self, name: str, matrix: Matrix, node: pp.Call) -> Vector:
        """rate, increase and delta where windows may hold histograms: a window of floats is done as
        ever, one of histograms gives a histogram, one of both nothing (and a warning)."""
        hists = matrix.histograms
        assert hists is not None
        lo = segments.search(matrix.timestamps, matrix.offsets, matrix.window_end - matrix.range_ms)
        hi = segments.search(matrix.timestamps, matrix.offsets, matrix.window_end)
        values, present = extrapolated(name, matrix, lo, hi)
        self._rates_with_starts(name, matrix, lo, hi, values, present, node)
        results = np.full(lo.shape, None, dtype=object)
        where = self.position(node.args[0])
        starts = matrix.start_timestamps
        float_rows: set[int] = set()
        for row, i, a, b in self._windows(lo, hi):
            window = hists[a:b].tolist()
            count = sum(h is not None for h in window)
            if count == 0:
                float_rows.add(row)
                continue
            present[row, i] = False
            metric = get(matrix.labels[row], METRIC_NAME)
            if count < len(window):
                self.annotations.warn(
                    "PromQL warning: encountered a mix of histograms and floats for metric name "
                    f'"{metric}"{where}'
                )
                continue
            notes: set[str] = set()
            end = int(matrix.window_end[i])
            result = histogram_extrapolated(
                name,
                matrix.timestamps[a:b].tolist(),
                window,
                end - matrix.range_ms,
                end,
                matrix.range_ms,
                notes,
                None if starts is None else starts[a:b].tolist(),
            )
            self._rate_notes(notes, metric, where)
            if result is not None:
                results[row, i] = result
                present[row, i] = True
        self._counter_info([matrix.labels[r] for r in sorted(float_rows)], name, node)
        return Vector(
            matrix.labels, values, present, np.ones(len(matrix.labels), dtype=bool), None, results
        ).live()

    def _rates_with_starts(
        self, name: str, matrix: Matrix, lo: Index, hi: Index, values: Values, present: Mask, node: pp.Call
    ) -> None:
        """rate and increase redone, in `values` and `present`, for the float windows of the series
        whose samples have start times."""
        starts = matrix.start_timestamps
        if starts is None:
            return
        hists = matrix.histograms
        bounds = matrix.offsets.tolist()
        where = self.position(node.args[0])
        for row in range(len(matrix.labels)):
            a0, b0 = bounds[row], bounds[row + 1]
            if not starts[a0:b0].any():
                continue
            for i in range(lo.shape[1]):
                a, b = int(lo[row, i]), int(hi[row, i])
                if b <= a or (hists is not None and any(h is not None for h in hists[a:b].tolist())):
                    continue
                end = int(matrix.window_end[i])
                result, overlap = start_times.extrapolated_rate(
                    matrix.timestamps[a:b].tolist(),
                    matrix.values[a:b].tolist(),
                    starts[a:b].tolist(),
                    end - matrix.range_ms,
                    end,
                    matrix.range_ms,
                    name == "rate",
                )
                if overlap:
                    self._rate_note(OVERLAP, get(matrix.labels[row], METRIC_NAME), where)
                present[row, i] = result is not None
                values[row, i] = 0.0 if result is None else result

    def _changes(self, name: str, matrix: Matrix) -> Vector:
        """changes and resets of windows that may hold histograms."""
        hists, lo, hi, values, present, _ = _histogram_windows(matrix)
        ts, starts = matrix.timestamps, matrix.start_timestamps
        for row, i, a, b in self._windows(lo, hi):
            values[row, i] = _changes_of(
                name,
                hists[a:b].tolist(),
                matrix.values[a:b].tolist(),
                None if starts is None else starts[a:b].tolist(),
                ts[a:b].tolist(),
            )
            present[row, i] = True
        return Vector(matrix.labels, values, present, np.ones(len(matrix.labels), dtype=bool)).live()

    def _instant_rate(self, name: str, matrix: Matrix, node: pp.Call) -> Vector:
        """irate and idelta of windows that may hold histograms (instantValue): from the window's
        last two samples, both floats or both histograms."""
        hists, lo, hi, values, present, results = _histogram_windows(matrix)
        is_rate = name == "irate"
        where = self.position(node.args[0])
        for row, i, a, b in self._windows(lo, hi):
            if b - a < 2:
                continue
            t0, t1 = int(matrix.timestamps[b - 2]), int(matrix.timestamps[b - 1])
            h0, h1 = hists[b - 2], hists[b - 1]
            starts = matrix.start_timestamps
            reset = starts is not None and start_times.is_reset(
                int(starts[b - 2]), t0, int(starts[b - 1]), t1
            )
            interval = (t1 - t0) / 1000
            metric = get(matrix.labels[row], METRIC_NAME)
            if (h0 is None) != (h1 is None):
                self.annotations.warn(
                    "PromQL warning: encountered a mix of histograms and floats for metric name "
                    f'"{metric}"{where}'
                )
                continue
            if interval == 0:
                continue
            if h0 is None or h1 is None:
                f0, f1 = float(matrix.values[b - 2]), float(matrix.values[b - 1])
                value = f1 if is_rate and (f1 < f0 or reset) else f1 - f0
                values[row, i] = value / interval if is_rate else value
                present[row, i] = True
                continue
            gauges = (
                h0.counter_reset_hint == CounterResetHint.GAUGE,
                h1.counter_reset_hint == CounterResetHint.GAUGE,
            )
            if is_rate and any(gauges):
                self._rate_note(NOT_COUNTER, metric, where)
            if not is_rate and not all(gauges):
                self._rate_note(NOT_GAUGE, metric, where)
            result = h1
            if not is_rate or not (reset or h1.detect_reset(h0)):
                try:
                    result, _, reconciled = h1.sub(h0)
                except HistogramError:
                    self._rate_note(MIXED_SCHEMAS, metric, where)
                    continue
                if reconciled:
                    self._rate_note(RECONCILED_SUB, metric, where)
            result = result.compact()
            result.counter_reset_hint = CounterResetHint.GAUGE
            if is_rate:
                result = result.div(interval)
            results[row, i] = result
            present[row, i] = True
        return Vector(
            matrix.labels,
            values,
            present,
            np.ones(len(matrix.labels), dtype=bool),
            None,
            None if matrix.histograms is None else results,
        ).live()

    def _rate_notes(self, kinds: set[str], metric: str, where: str) -> None:
        for kind in sorted(kinds):
            self._rate_note(kind, metric, where)

    def _rate_note(self, kind: str, metric: str, where: str) -> None:
        level, text = _RATE_NOTES[kind]
        message = f"PromQL {level}: {text.format(metric=metric)}{where}"
        if kind == OVERLAP:
            # Told once per series and window where it occurs, and counted.
            self.annotations.warn_counted(f"PromQL {level}: {text.format(metric=metric)}", where)
        elif level == "warning":
            self.annotations.warn(message)
        else:
            self.annotations.info(message)

    def _counter_info(self, labels: list[Labels], name: str, node: pp.Call) -> None:
        if name not in ("rate", "increase") or not labels:
            return
        arg = unwrap_parens(node.args[0])
        # A range selector naming its metric selects series of that name alone: no need to read
        # every series' name (a rule's rate over hundreds of series, at every evaluation).
        named = arg.vector_selector.name if isinstance(arg, pp.MatrixSelector) else None
        for metric in [named] if named else dict.fromkeys(_metric_names(labels)):
            if metric and not metric.endswith(_COUNTER_SUFFIXES):
                self.annotations.info(
                    "PromQL info: metric might not be a counter, name does not end in "
                    f'_total/_sum/_count/_bucket: "{metric}"{self.position(node.args[0])}'
                )

    def _windows(self, lo: Index, hi: Index) -> Iterator[tuple[int, int, int, int]]:
        """Series, step and the flat sample range [a, b) of each window that holds a sample, looking
        at the clock every so many."""
        for count, (row, i) in enumerate(zip(*np.nonzero(hi > lo), strict=True)):
            if count % _STEPS_PER_CHECK == 0:
                self.budget.check_time()
            yield int(row), int(i), int(lo[row, i]), int(hi[row, i])

    def _each_window(
        self, name: str, matrix: Matrix, lo: Index, hi: Index, params: list[Scalar], span: Steps
    ) -> tuple[Values, Mask]:
        """A range function that is not vectorised, called once per series and step."""
        fn = RANGE_FUNCTIONS[name]
        times = span.times
        values = np.zeros(lo.shape)
        present = np.zeros(lo.shape, dtype=bool)
        for row, i, a, b in self._windows(lo, hi):
            window = Window(
                int(matrix.window_end[i]) - matrix.range_ms,
                int(matrix.window_end[i]),
                matrix.range_ms,
                int(times[i]),
                tuple(float(p[i]) for p in params),
            )
            result = fn(matrix.timestamps[a:b], matrix.values[a:b], window)
            if result is not None:
                values[row, i] = result
                present[row, i] = True
        return values, present

    # --- aggregation -----------------------------------------------------------------------

    def _aggregate(self, node: pp.AggregateExpr, span: Steps) -> Vector:
        op = str(node.op)
        modifier = node.modifier
        is_without = modifier is not None and modifier.type == pp.AggModifierType.Without
        grouping = sorted(modifier.labels) if modifier is not None else []
        if op == "count_values":
            assert node.param is not None
            label = self.eval(node.param, span)
            assert isinstance(label, str)
            if not label.isprintable() or not functions.valid_label_name(label):
                raise QueryError(f"invalid label name {functions.go_quote_bytes(label)}")
            counted = self.vector(node.expr, span)
            return aggregate.count_values(counted, label, grouping, is_without, span.n)
        param = self.scalar(node.param, span) if node.param is not None else None
        vector = self.vector(node.expr, span)
        if vector.histograms is not None:
            vector = self._histogram_aggregation(op, vector, node)
        if op in ("topk", "bottomk", "limitk", "limit_ratio"):
            assert param is not None
            out, order = aggregate.top_bottom(op, vector, grouping, is_without, span.n, param)
            self.order = [vector.labels[i] for i in order] if op in ("topk", "bottomk") else None
            return out.live()
        if op == "quantile" and param is not None and node.param is not None:
            self.check_quantile(param, node.param)
        if vector.histograms is not None and op in ("sum", "avg"):
            return aggregate.with_histograms(
                op, vector, grouping, is_without, span.n, self._aggregation_note(node.expr)
            )
        return aggregate.simple(op, vector, grouping, is_without, span.n, param)

    def _histogram_aggregation(self, op: str, vector: Vector, node: pp.AggregateExpr) -> Vector:
        """The vector an aggregation reads of one with histogram samples: count and group count
        them, sum and avg add them, limitk and limit_ratio keep them, the others leave them out (with
        an info)."""
        if op in ("count", "group", "sum", "avg", "limitk", "limit_ratio"):
            return vector
        if op in ("min", "max", "stddev", "stdvar", "quantile", "topk", "bottomk"):
            if vector.histogram_mask().any():
                self.annotations.info(
                    f"PromQL info: ignored histogram in {op} aggregation{self.position(node.expr)}"
                )
            return vector.floats_only()
        raise NativeHistogramsUnsupported(f"aggregation {op} is not implemented for native histograms")

    def _aggregation_note(self, node: pp.Expr) -> Callable[[str, str], None]:
        """Annotations of adding histograms up, placed at `node`."""
        where = self.position(node)

        def note(kind: str, metric: str) -> None:
            if kind == aggregate.MIXED:
                self.annotations.warn(
                    f"PromQL warning: encountered a mix of histograms and floats for aggregation{where}"
                )
            elif kind == aggregate.COLLISION:
                self.annotations.warn(
                    f"PromQL warning: conflicting counter resets during histogram aggregation{where}"
                )
            elif kind == aggregate.RECONCILED:
                self.annotations.info(
                    f"PromQL info: mismatched custom buckets were reconciled during aggregation{where}"
                )
            else:
                self.annotations.warn(
                    "PromQL warning: vector contains a mix of histograms with exponential and custom buckets "
                    f'schemas for metric name "{metric}"{where}'
                )

        return note

    # --- binary operators ------------------------------------------------------------------

    def _binary(self, node: pp.BinaryExpr, span: Steps) -> Value:
        op = str(node.op)
        if self.trims and op in ("<=", ">="):
            op = self.trims.get(id(node), op)
        mod = node.modifier
        return_bool = mod is not None and mod.return_bool
        lhs = self.eval(node.lhs, span)
        rhs = self.eval(node.rhs, span)
        if isinstance(lhs, np.ndarray) and isinstance(rhs, np.ndarray):
            return binary.scalar_scalar(op, lhs, rhs)

        def incompatible(lhs_type: str, rhs_type: str) -> None:
            self.annotations.info(
                f'PromQL info: incompatible sample types encountered for binary operator "{op}": '
                f"{lhs_type} {op} {rhs_type}{self.position(node)}"
            )

        if isinstance(lhs, Vector) and isinstance(rhs, np.ndarray):
            return binary.vector_scalar(op, lhs, rhs, False, return_bool, incompatible)
        if isinstance(lhs, np.ndarray) and isinstance(rhs, Vector):
            return binary.vector_scalar(op, rhs, lhs, True, return_bool, incompatible)
        if not (isinstance(lhs, Vector) and isinstance(rhs, Vector)):
            raise QueryError(f"binary operator {op} needs scalars or instant vectors")
        matching = binary.matching_of(
            _CARD[str(mod.card).rsplit(".", 1)[-1]]
            if mod is not None
            else ("many-to-many" if op in binary.SET_OPS else "one-to-one"),
            mod is not None
            and mod.matching is not None
            and mod.matching.type == pp.LabelModifierType.Include,
            mod.matching.labels if mod is not None and mod.matching is not None else [],
            (mod.group_labels or []) if mod is not None else [],
            fill_values(mod),
        )
        if op in binary.SET_OPS:
            return binary.set_op(op, lhs, rhs, matching, span.n)

        def note(level: str, text: str) -> None:
            message = f"PromQL {level}: {text}{self.position(node)}"
            if level == "warning":
                self.annotations.warn(message)
            else:
                self.annotations.info(message)

        has_histograms = lhs.histograms is not None or rhs.histograms is not None
        if has_histograms and (matching.fill_lhs is not None or matching.fill_rhs is not None):
            raise NativeHistogramsUnsupported("fill modifiers are not implemented for native histograms")
        return binary.vector_vector(op, lhs, rhs, matching, return_bool, span.n, note)


def fill_values(mod: pp.BinModifier | None) -> tuple[float | None, float | None]:
    """The values of the fill modifiers for a missing left and right side, None where not given."""
    fill = None if mod is None else mod.fill_values
    if fill is None:
        return None, None
    return fill.lhs, fill.rhs


# The annotations of rate, increase and delta of histograms: level and text.
MIXED_TYPES = "mixed floats and histograms"
_RATE_NOTES = {
    MIXED_TYPES: ("warning", 'encountered a mix of histograms and floats for metric name "{metric}"'),
    NOT_COUNTER: ("warning", 'this native histogram metric is not a counter: "{metric}"'),
    NOT_GAUGE: ("warning", 'this native histogram metric is not a gauge: "{metric}"'),
    MIXED_SCHEMAS: (
        "warning",
        "vector contains a mix of histograms with exponential and custom buckets schemas for metric name "
        '"{metric}"',
    ),
    RECONCILED_SUB: ("info", "mismatched custom buckets were reconciled during subtraction"),
    RECONCILED_ADD: ("info", "mismatched custom buckets were reconciled during addition"),
    OVERLAP: (
        "warning",
        'sample has start time that overlaps with previous sample timestamp for metric "{metric}"',
    ),
}
_HISTOGRAM_OVER_TIME = frozenset({"sum_over_time", "avg_over_time", "last_over_time", "first_over_time"})
# Functions that read native-histogram samples; any other node refuses them for now.
HISTOGRAM_FUNCTIONS = frozenset(
    {
        "histogram_count",
        "histogram_sum",
        "histogram_avg",
        "histogram_stddev",
        "histogram_stdvar",
        "histogram_quantile",
        "histogram_quantiles",
        "histogram_fraction",
        "timestamp",
        "start_timestamp",
        "absent",
        # These read the float samples only: Prometheus' simpleFloatFunc and clamp skip histograms.
        "round",
        "clamp",
        "clamp_min",
        "clamp_max",
        *functions.MATH_FUNCTIONS,
        *functions.DATE_FUNCTIONS,
        "scalar",
        # sort and sort_desc leave histograms out (filterFloats); the label sorts keep them.
        *("sort", "sort_desc", "sort_by_label", "sort_by_label_desc"),
    }
)


def _histogram_windows(matrix: Matrix) -> tuple[Histograms, Index, Index, Values, Mask, Histograms]:
    """A matrix's histograms, its windows [lo, hi) per series and step, and empty results (floats,
    their presence, histograms) shaped as the windows."""
    hists = matrix.histograms
    if hists is None:
        # Floats read by the same loops, for their start times.
        hists = np.full(len(matrix.timestamps), None, dtype=object)
    lo = segments.search(matrix.timestamps, matrix.offsets, matrix.window_end - matrix.range_ms)
    hi = segments.search(matrix.timestamps, matrix.offsets, matrix.window_end)
    results = np.full(lo.shape, None, dtype=object)
    return hists, lo, hi, np.zeros(lo.shape), np.zeros(lo.shape, dtype=bool), results


def _unhinted(h: FloatHistogram | None) -> FloatHistogram | None:
    """A histogram of a subquery: a counter reset hint (reset or not) made unknown, as Prometheus
    does, so resets are detected from the values the subquery returns."""
    if h is None or h.counter_reset_hint not in (
        CounterResetHint.COUNTER_RESET,
        CounterResetHint.NOT_COUNTER_RESET,
    ):
        return h
    out = h.copy()
    out.counter_reset_hint = CounterResetHint.UNKNOWN
    return out


# Functions of a range's samples of either kind (their times, their number).
_SAMPLES_OVER_TIME = frozenset(
    {
        "count_over_time",
        "present_over_time",
        "absent_over_time",
        "ts_of_first_over_time",
        "ts_of_last_over_time",
    }
)
# Functions of a range's floats that leave its histograms out, with an info where the two mix.
_FLOATS_OF_MIXED_RANGES = frozenset(
    {"min_over_time", "max_over_time", "stddev_over_time", "stdvar_over_time", "mad_over_time"}
    | {"quantile_over_time", "deriv", "predict_linear", "double_exponential_smoothing"}
)


def _changes_of(
    name: str,
    hists: list[FloatHistogram | None],
    values: list[float],
    starts: list[int] | None = None,
    ts: list[int] | None = None,
) -> int:
    """changes or resets of samples that may be histograms (None where a float): a switch between a
    float and a histogram counts; histograms change when not equal and reset as DetectReset says.
    With the samples' start times (and times), a start time that tells a reset is one too."""
    count = 0
    for k in range(1, len(hists)):
        h0, h1 = hists[k - 1], hists[k]
        f0, f1 = values[k - 1], values[k]
        reset = (
            starts is not None
            and ts is not None
            and start_times.is_reset(starts[k - 1], ts[k - 1], starts[k], ts[k])
        )
        if (h0 is None) != (h1 is None):
            count += 1
        elif h0 is None or h1 is None:
            if name == "resets":
                count += f1 < f0 or reset
            else:
                count += f1 != f0 and not (math.isnan(f1) and math.isnan(f0))
        elif name == "resets":
            count += reset or h1.detect_reset(h0)
        else:
            count += not h1.equals(h0)
    return count


def _samples_kept(matrix: Matrix, keep: Mask) -> Matrix:
    """The matrix with only the samples `keep` marks."""
    kept_before = np.concatenate(([0], np.cumsum(keep)))
    return Matrix(
        matrix.labels,
        matrix.timestamps[keep],
        matrix.values[keep],
        kept_before[matrix.offsets],
        matrix.drop_name,
        matrix.window_end,
        matrix.range_ms,
        None if matrix.histograms is None else matrix.histograms[keep],
        None if matrix.start_timestamps is None else matrix.start_timestamps[keep],
    )


def _floats_only(matrix: Matrix, what: str) -> Matrix:
    if matrix.histograms is not None:
        raise NativeHistogramsUnsupported(f"{what} is not implemented for native histograms")
    return matrix


def _takes_histograms(node: pp.Expr) -> bool:
    if isinstance(node, pp.ParenExpr | pp.BinaryExpr | pp.AggregateExpr | pp.UnaryExpr):
        return True  # binary operators and aggregations refuse histograms themselves where they must
    if not isinstance(node, pp.Call):
        return False
    if node.func.name in RANGE_FUNCTIONS and any(
        isinstance(unwrap_parens(a), pp.MatrixSelector | pp.SubqueryExpr) for a in node.args
    ):
        return True  # range_function refuses the histograms of its matrix where it must
    return node.func.name in HISTOGRAM_FUNCTIONS


def _describe(node: pp.Expr) -> str:
    if isinstance(node, pp.Call):
        return f"function {node.func.name}"
    if isinstance(node, pp.AggregateExpr):
        return f"aggregation {node.op}"
    if isinstance(node, pp.BinaryExpr):
        return f"operator {node.op}"
    return type(node).__name__


@functools.cache
def _is_flat(storage_type: type) -> bool:
    # A runtime Protocol check inspects the class every time; selectors are evaluated per rule.
    return issubclass(storage_type, FlatQueryable)
