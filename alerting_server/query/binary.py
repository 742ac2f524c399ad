"""Binary operators: arithmetic, comparison and set operations with vector matching."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alerting_server.query.errors import QueryError
from alerting_server.query.labels import (
    METADATA_LABELS,
    METRIC_NAME,
    Labels,
    format_labels,
    get,
    keep,
    without,
)
from alerting_server.query.steps import Mask, Scalar, StepSeries, Vector
from alerting_server.query.storage import Values

ARITHMETIC = {"+", "-", "*", "/", "^", "%", "atan2"}
COMPARISON = {"==", "!=", ">", "<", ">=", "<="}
SET_OPS = {"and", "or", "unless"}
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


def vector_scalar(op: str, vector: Vector, scalar: Scalar, scalar_on_left: bool, return_bool: bool) -> Vector:
    lv, rv = (scalar, vector.values) if scalar_on_left else (vector.values, scalar)
    if op in COMPARISON and not return_bool:
        kept = vector.present & compare(op, lv, rv)
        return Vector(vector.labels, vector.values, kept, vector.drop_name, vector.sample_ts).live()
    drop = vector.drop_name | (op in ARITHMETIC or return_bool)
    values = compare(op, lv, rv).astype(np.float64) if op in COMPARISON else apply(op, lv, rv)
    return Vector(vector.labels, values, vector.present, drop).live()


@dataclass(frozen=True)
class Matching:
    card: str  # "one-to-one" | "many-to-one" | "one-to-many" | "many-to-many"
    on: bool
    labels: tuple[str, ...]
    include: tuple[str, ...]

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
    return StepSeries(s.labels, s.values, mask, s.drop_name, s.sample_ts)


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


def vector_vector(op: str, lhs: Vector, rhs: Vector, matching: Matching, return_bool: bool, n: int) -> Vector:
    """Arithmetic and comparison between two vectors, checked step by step as Prometheus does."""
    swapped = matching.card == "one-to-many"
    if swapped:
        lhs, rhs = rhs, lhs
    if not lhs or not rhs:
        return Vector.empty(n)
    lhs_any = np.logical_or.reduce([s.present for s in lhs])
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
    for sig, lgroup in lhs_by_sig.items():
        rgroup = by_sig.get(sig)
        if not rgroup:
            continue
        r_any = np.logical_or.reduce([r.present for r in rgroup])
        if matching.card == "one-to-one" and len(lgroup) > 1:
            matched = np.sum([ls.present & r_any for ls in lgroup], axis=0)
            if (matched > 1).any():
                raise QueryError(_MANY_TO_ONE_IMPLICIT)
        seen_metric: dict[Labels, Mask] = {}
        for ls in lgroup:
            for rs in rgroup:
                both = ls.present & rs.present
                if not both.any():
                    continue
                metric = _result_labels(ls.labels, rs.labels, op, matching)
                if matching.card != "one-to-one":
                    prior = seen_metric.get(metric)
                    if prior is not None and (prior & both).any():
                        raise QueryError(
                            "multiple matches for labels: grouping labels must ensure unique matches"
                        )
                    seen_metric[metric] = both if prior is None else prior | both
                lv, rv = (rs.values, ls.values) if swapped else (ls.values, rs.values)
                if op in COMPARISON:
                    cond = compare(op, lv, rv)
                    if return_bool:
                        values, mask = cond.astype(np.float64), both
                    else:
                        values, mask = lv, both & cond
                else:
                    values, mask = apply(op, lv, rv), both
                if not mask.any():
                    continue
                existing = outputs.get(metric)
                if existing is None:
                    outputs[metric] = StepSeries(metric, values.copy(), mask.copy(), drop_name=return_bool)
                    order.append(metric)
                else:
                    if (existing.present & mask).any():
                        raise QueryError(_MANY_TO_ONE_IMPLICIT)
                    existing.values[mask] = values[mask]
                    existing.present |= mask
    return Vector.of([outputs[m] for m in order], n)


def matching_of(card: str, on: bool, labels: Sequence[str], include: Sequence[str]) -> Matching:
    return Matching(card, on, tuple(labels), tuple(include))
