"""Binary operators: arithmetic, comparison and set operations with vector matching."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from alerting_server.query.errors import QueryError
from alerting_server.query.histogram import CounterResetHint, FloatHistogram, HistogramError, trim_buckets
from alerting_server.query.labels import (
    METADATA_LABELS,
    METRIC_NAME,
    Labels,
    format_labels,
    get,
    keep,
    without,
)
from alerting_server.query.steps import Histograms, Mask, Scalar, StepSeries, Vector
from alerting_server.query.storage import Values

ARITHMETIC = {"+", "-", "*", "/", "^", "%", "atan2"}
COMPARISON = {"==", "!=", ">", "<", ">=", "<="}
SET_OPS = {"and", "or", "unless"}
# The native-histogram trims (query/trim.py): a histogram and a float only.
TRIMS = {"</", ">/"}
_MANY_TO_ONE_IMPLICIT = (
    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
)


def apply(op: str, lhs: Values, rhs: Values) -> Values:
    """The float result of `op` (comparisons give 1.0/0.0)."""
    with np.errstate(all="ignore"):
        if op == "+":
            return lhs + rhs
        if op == "-":
            return lhs - rhs
        if op == "*":
            return lhs * rhs
        if op == "/":
            return np.true_divide(lhs, rhs)
        if op == "^":
            return np.power(lhs, rhs)
        if op == "%":
            return np.fmod(lhs, rhs)
        if op == "atan2":
            return np.arctan2(lhs, rhs)
        return compare(op, lhs, rhs).astype(np.float64)


def compare(op: str, lhs: Values, rhs: Values) -> Mask:
    with np.errstate(invalid="ignore"):
        result: Mask
        if op == "==":
            result = np.equal(lhs, rhs)
        elif op == "!=":
            result = np.not_equal(lhs, rhs)
        elif op == ">":
            result = np.greater(lhs, rhs)
        elif op == "<":
            result = np.less(lhs, rhs)
        elif op == ">=":
            result = np.greater_equal(lhs, rhs)
        else:
            result = np.less_equal(lhs, rhs)
        return result


def scalar_scalar(op: str, lhs: Scalar, rhs: Scalar) -> Scalar:
    return apply(op, lhs, rhs)


def vector_scalar(
    op: str,
    vector: Vector,
    scalar: Scalar,
    scalar_on_left: bool,
    return_bool: bool,
    incompatible: Callable[[str, str], None] | None = None,
) -> Vector:
    """`incompatible(lhs type, rhs type)` is told of each histogram sample the operator cannot take,
    which is left out (Prometheus' info)."""
    if vector.histograms is not None or op in TRIMS:
        return _vector_scalar_histograms(op, vector, scalar, scalar_on_left, return_bool, incompatible)
    return _vector_scalar(op, vector, scalar, scalar_on_left, return_bool).live()


def _vector_scalar(
    op: str, vector: Vector, scalar: Scalar, scalar_on_left: bool, return_bool: bool
) -> Vector:
    lv, rv = (scalar, vector.values) if scalar_on_left else (vector.values, scalar)
    if op in COMPARISON and not return_bool:
        kept = vector.present & compare(op, lv, rv)
        return Vector(vector.labels, vector.values, kept, vector.drop_name, vector.sample_ts)
    drop = vector.drop_name | (op in ARITHMETIC or return_bool)
    values = compare(op, lv, rv).astype(np.float64) if op in COMPARISON else apply(op, lv, rv)
    return Vector(vector.labels, values, vector.present, drop)


def _vector_scalar_histograms(
    op: str,
    vector: Vector,
    scalar: Scalar,
    scalar_on_left: bool,
    return_bool: bool,
    incompatible: Callable[[str, str], None] | None,
) -> Vector:
    """vectorElemBinop for histogram samples and a float: h * f, f * h, h / f, h </ f and h >/ f give
    histograms; any other operator leaves the sample out, as a trim leaves out float samples."""
    if op in TRIMS:
        floats = vector.floats_only()
        if floats.present.any() and incompatible is not None:
            incompatible("float", "float")
        out = Vector(floats.labels, floats.values, np.zeros_like(floats.present), floats.drop_name)
    else:
        out = _vector_scalar(op, vector.floats_only(), scalar, scalar_on_left, return_bool)
    hists = vector.histograms
    present = out.present.copy()
    if hists is None:
        return out.live()
    results = np.full(hists.shape, None, dtype=object)
    for row, i in zip(*np.nonzero(vector.histogram_mask()), strict=True):
        h: FloatHistogram = hists[row, i]
        f = float(scalar[i])
        if op == "*":
            results[row, i] = h.mul(f).compact()
        elif op == "/" and not scalar_on_left:
            results[row, i] = h.div(f).compact()
        elif op in TRIMS and not scalar_on_left:
            results[row, i] = trim_buckets(h, f, op == "</")
        else:
            if incompatible is not None:
                incompatible(*(("float", "histogram") if scalar_on_left else ("histogram", "float")))
            continue
        present[row, i] = True
    drop = vector.drop_name | (op in ARITHMETIC or return_bool)
    return Vector(out.labels, out.values, present, drop, None, results).live()


@dataclass(frozen=True)
class Matching:
    card: str  # "one-to-one" | "many-to-one" | "one-to-many" | "many-to-many"
    on: bool
    labels: tuple[str, ...]
    include: tuple[str, ...]
    # The fill modifiers' values for a missing left / right side (promql-binop-fill-modifiers).
    fill_lhs: float | None = None
    fill_rhs: float | None = None

    def signature(self, labels: Labels) -> Labels:
        if self.on:
            return keep(labels, self.labels)
        return without(labels, (*self.labels, METRIC_NAME))


def set_op(op: str, lhs: Vector, rhs: Vector, matching: Matching, n: int) -> Vector:
    rhs_present: dict[Labels, Mask] = {}
    for s in rhs:
        sig = matching.signature(s.labels)
        rhs_present[sig] = rhs_present.get(sig, np.zeros(n, dtype=bool)) | s.present
    none = np.zeros(n, dtype=bool)
    if op == "and":
        out = [_masked(s, s.present & rhs_present.get(matching.signature(s.labels), none)) for s in lhs]
    elif op == "unless":
        out = [_masked(s, s.present & ~rhs_present.get(matching.signature(s.labels), none)) for s in lhs]
    else:
        lhs_present: dict[Labels, Mask] = {}
        for s in lhs:
            sig = matching.signature(s.labels)
            lhs_present[sig] = lhs_present.get(sig, np.zeros(n, dtype=bool)) | s.present
        out = [*lhs] + [
            _masked(s, s.present & ~lhs_present.get(matching.signature(s.labels), none)) for s in rhs
        ]
    return Vector.of([s for s in out if s.present.any()], n)


def _masked(s: StepSeries, mask: Mask) -> StepSeries:
    return StepSeries(s.labels, s.values, mask, s.drop_name, s.sample_ts, s.histograms)


def _result_labels(lhs: Labels, rhs: Labels, op: str, matching: Matching) -> Labels:
    labels = dict(lhs)
    if op in ARITHMETIC:
        for name in METADATA_LABELS:
            labels.pop(name, None)
    if matching.card == "one-to-one":
        if matching.on:
            labels = {k: v for k, v in labels.items() if k in matching.labels}
        else:
            for name in matching.labels:
                labels.pop(name, None)
    for name in matching.include:
        value = get(rhs, name)
        if value:
            labels[name] = value
        else:
            labels.pop(name, None)
    return tuple(sorted(labels.items()))


# note(level, text): an annotation ("warning" or "info") of a histogram operation.
Note = Callable[[str, str], None]


def elem_histograms(
    op: str, lv: float, rv: float, lh: FloatHistogram | None, rh: FloatHistogram | None, note: Note
) -> tuple[float, FloatHistogram | None, bool, bool]:
    """vectorElemBinop where a side is a histogram: the value, the histogram, whether kept and
    whether it failed (an operation the types do not allow, noted; never answered, even with bool)."""
    if lh is None and rh is not None and op == "*":
        return 0.0, rh.mul(lv).compact(), True, False
    if lh is not None and rh is None and op in ("*", "/"):
        return 0.0, (lh.mul(rv) if op == "*" else lh.div(rv)).compact(), True, False
    if lh is not None and rh is None and op in TRIMS:
        return 0.0, trim_buckets(lh, rv, op == "</"), True, False
    if lh is not None and rh is not None and op in ("+", "-"):
        try:
            res, collision, reconciled = lh.add(rh) if op == "+" else lh.sub(rh)
        except HistogramError:
            note("warning", f'incompatible bucket layout encountered for binary operator "{op}"')
            return 0.0, None, False, True
        if op == "-":
            res.counter_reset_hint = CounterResetHint.GAUGE
        operation = "addition" if op == "+" else "subtraction"
        if reconciled:
            note("info", f"mismatched custom buckets were reconciled during {operation}")
        if collision:
            note("warning", f"conflicting counter resets during histogram {operation}")
            return 0.0, None, False, True
        return 0.0, res.compact(), True, False
    if lh is not None and rh is not None and op in ("==", "!="):
        return 0.0, lh, lh.equals(rh) == (op == "=="), False
    types = f"{'float' if lh is None else 'histogram'} {op} {'float' if rh is None else 'histogram'}"
    note("info", f'incompatible sample types encountered for binary operator "{op}": {types}')
    return 0.0, None, False, True


def vector_vector(
    op: str,
    lhs: Vector,
    rhs: Vector,
    matching: Matching,
    return_bool: bool,
    n: int,
    note: Note | None = None,
) -> Vector:
    """Arithmetic and comparison between two vectors, checked step by step as Prometheus does.

    With fill modifiers (`fill_right(v)`, `fill_left(v)`), a series with no match at a step is
    matched with `v` standing for the missing side, labelled by the match signature; as in
    Prometheus, under group_right the sides are those of the swapped operands."""
    swapped = matching.card == "one-to-many"
    if swapped:
        lhs, rhs = rhs, lhs
    fill_lhs, fill_rhs = matching.fill_lhs, matching.fill_rhs
    filling = fill_lhs is not None or fill_rhs is not None
    if (not lhs and not rhs) or ((not lhs or not rhs) and not filling):
        return Vector.empty(n)
    none = np.zeros(n, dtype=bool)
    everywhere = np.ones(n, dtype=bool)
    # Without fill values a step with no left series short-circuits before the check.
    lhs_any = np.logical_or.reduce([s.present for s in lhs]) if lhs and not filling else everywhere
    by_sig: dict[Labels, list[StepSeries]] = {}
    for s in rhs:
        by_sig.setdefault(matching.signature(s.labels), []).append(s)
    for sig, group in by_sig.items():
        if len(group) < 2:
            continue
        counts = np.sum([s.present for s in group], axis=0)
        bad = np.nonzero((counts > 1) & lhs_any)[0]
        if len(bad):
            step = bad[0]
            dupes = sorted(format_labels(s.labels) for s in group if s.present[step])[:2]
            side = "left" if swapped else "right"
            raise QueryError(
                f"found duplicate series for the match group {format_labels(sig)} on the {side} "
                f"hand-side of the operation: [{dupes[0]}, {dupes[1]}];many-to-many matching not allowed: "
                "matching labels must be unique on one side"
            )
    lhs_by_sig: dict[Labels, list[StepSeries]] = {}
    for s in lhs:
        lhs_by_sig.setdefault(matching.signature(s.labels), []).append(s)
    outputs: dict[Labels, StepSeries] = {}
    order: list[Labels] = []

    def combine(
        l_labels: Labels,
        r_labels: Labels,
        l_values: Values,
        r_values: Values,
        both: Mask,
        seen: dict[Labels, Mask],
        l_hists: Histograms | None = None,
        r_hists: Histograms | None = None,
    ) -> None:
        metric = _result_labels(l_labels, r_labels, op, matching)
        if matching.card != "one-to-one":
            prior = seen.get(metric)
            if prior is not None and (prior & both).any():
                raise QueryError("multiple matches for labels: grouping labels must ensure unique matches")
            seen[metric] = both if prior is None else prior | both
        lv, rv = (r_values, l_values) if swapped else (l_values, r_values)
        if op in COMPARISON:
            cond = compare(op, lv, rv)
            if return_bool:
                values, mask = cond.astype(np.float64), both
            else:
                values, mask = np.broadcast_to(lv, (n,)), both & cond
        else:
            values, mask = np.broadcast_to(apply(op, lv, rv), (n,)), both
        hists = None
        if l_hists is not None or r_hists is not None or op in TRIMS:
            lh_all, rh_all = (r_hists, l_hists) if swapped else (l_hists, r_hists)
            values, mask = np.array(values, dtype=np.float64), mask.copy()
            hists = np.full(n, None, dtype=object)
            for i in np.flatnonzero(both).tolist():
                lh = None if lh_all is None else lh_all[i]
                rh = None if rh_all is None else rh_all[i]
                if lh is None and rh is None and op not in TRIMS:
                    continue
                value, h, kept, failed = elem_histograms(
                    op, float(lv[i]), float(rv[i]), lh, rh, note or _ignore
                )
                if failed:
                    mask[i] = False
                elif return_bool:
                    values[i], hists[i], mask[i] = (1.0 if kept else 0.0), None, True
                else:
                    values[i], hists[i], mask[i] = value, h, kept
        if not mask.any():
            return
        existing = outputs.get(metric)
        if existing is None:
            outputs[metric] = StepSeries(
                metric, values.copy(), mask.copy(), drop_name=return_bool, histograms=hists
            )
            order.append(metric)
        else:
            if (existing.present & mask).any():
                raise QueryError(_MANY_TO_ONE_IMPLICIT)
            existing.values[mask] = values[mask]
            existing.present |= mask
            if hists is not None:
                if existing.histograms is None:
                    existing.histograms = np.full(n, None, dtype=object)
                existing.histograms[mask] = hists[mask]

    for sig in [*lhs_by_sig, *(s for s in by_sig if s not in lhs_by_sig)]:
        lgroup = lhs_by_sig.get(sig, [])
        rgroup = by_sig.get(sig, [])
        if (not rgroup and fill_rhs is None) or (not lgroup and fill_lhs is None):
            continue
        r_any = np.logical_or.reduce([r.present for r in rgroup]) if rgroup else none
        l_any = np.logical_or.reduce([ls.present for ls in lgroup]) if lgroup else none
        if matching.card == "one-to-one" and len(lgroup) > 1:
            covered = r_any if fill_rhs is None else everywhere
            matched = np.sum([ls.present & covered for ls in lgroup], axis=0)
            if (matched > 1).any():
                raise QueryError(_MANY_TO_ONE_IMPLICIT)
        seen_metric: dict[Labels, Mask] = {}
        for ls in lgroup:
            for rs in rgroup:
                both = ls.present & rs.present
                if both.any():
                    combine(
                        ls.labels,
                        rs.labels,
                        ls.values,
                        rs.values,
                        both,
                        seen_metric,
                        ls.histograms,
                        rs.histograms,
                    )
            if fill_rhs is not None:
                alone = ls.present & ~r_any
                if alone.any():
                    combine(ls.labels, sig, ls.values, np.full(n, fill_rhs), alone, seen_metric)
        if fill_lhs is not None:
            for rs in rgroup:
                alone = rs.present & ~l_any
                if alone.any():
                    combine(sig, rs.labels, np.full(n, fill_lhs), rs.values, alone, seen_metric)
    return Vector.of([outputs[m] for m in order], n)


def _ignore(level: str, text: str) -> None:
    """No one to tell of an annotation."""


def matching_of(
    card: str,
    on: bool,
    labels: Sequence[str],
    include: Sequence[str],
    fill: tuple[float | None, float | None] = (None, None),
) -> Matching:
    return Matching(card, on, tuple(labels), tuple(include), *fill)
