"""Prometheus' extended range selectors (`--enable-feature=promql-extended-range-selectors`):
`rate(x[5m] anchored)`, `increase(x[5m] smoothed)`, `x smoothed`.

`anchored` measures a window from the last sample at or before its start (looked for within the
lookback delta) instead of extrapolating; `smoothed` interpolates the values at the window's two
ends from the samples around them (and, on an instant selector, the value at the evaluation time).
Over native histograms the same is done histogram by histogram (a window holding both floats and
histograms gives nothing, with a warning); a bare anchored or smoothed range selector refuses them,
as Prometheus does.

promql-parser does not know the two keywords. They are taken out of the query text before it is
parsed and left on their selector as a matcher on a label no series has (`__anchored__=""`); such a
matcher matches every series, and selector_matchers() drops it, so that only the tree carries it.
"""

from __future__ import annotations

import bisect
import re

import numpy as np
import promql_parser as pp

from alerting_server.query.errors import QueryError
from alerting_server.query.extrapolated import (
    MIXED_SCHEMAS,
    NOT_COUNTER,
    NOT_GAUGE,
    RECONCILED_ADD,
    RECONCILED_SUB,
)
from alerting_server.query.histogram import CounterResetHint, FloatHistogram, HistogramError
from alerting_server.query.storage import Timestamps, Values
from alerting_server.query.syntax_lexer import T, Token, lex

FEATURE = "promql-extended-range-selectors"
ANCHORED = "anchored"
SMOOTHED = "smoothed"
MODIFIERS = (ANCHORED, SMOOTHED)
# The label of the matcher that carries a modifier on its selector.
LABELS = {f"__{m}__": m for m in MODIFIERS}

# promql/functions.go AnchoredSafeFunctions and SmoothedSafeFunctions.
SAFE_FUNCTIONS = {
    ANCHORED: ("changes", "delta", "increase", "rate", "resets"),
    SMOOTHED: ("delta", "increase", "rate"),
}


class ModifierError(ValueError):
    """A modifier where Prometheus' parser refuses one (a subquery, a function call)."""


def rewrite(query: str) -> str:
    """The query with each `anchored` / `smoothed` moved into its selector as a matcher; the query
    itself when it has none. Raises ModifierError where a modifier follows no selector."""
    if "anchored" not in query.lower() and "smoothed" not in query.lower():
        return query
    tokens = [t for t in lex(query) if t.typ is not T.COMMENT]
    edits: list[tuple[int, int, str]] = []
    depth = 0
    for i, token in enumerate(tokens):
        if token.typ is T.LEFT_BRACE:
            depth += 1
        elif token.typ is T.RIGHT_BRACE:
            depth -= 1
        modifier = token.val.lower()
        if depth or token.typ is not T.IDENTIFIER or modifier not in MODIFIERS or i == 0:
            continue
        if tokens[i - 1].typ in (T.LEFT_PAREN, T.COMMA):
            # A label name in a grouping (`by (smoothed)`) or a metric name as an argument.
            continue
        found = _insertion(tokens, i - 1, modifier)
        if found is None:
            continue
        where, text = found
        edits.append((token.pos, token.pos + len(token.val), ""))
        edits.append((where, where, text))
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        query = query[:start] + text + query[end:]
    return query


def _insertion(tokens: list[Token], j: int, modifier: str) -> tuple[int, str] | None:
    """Where in the text the matcher of the selector ending at token j goes, and its text; None when
    the word follows an operator or keyword, where it is a metric name."""
    j = _before_time_modifiers(tokens, j)
    if j >= 0 and tokens[j].typ is T.RIGHT_BRACKET:
        opening = _matching(tokens, j, T.LEFT_BRACKET, T.RIGHT_BRACKET)
        if any(t.typ is T.COLON for t in tokens[opening:j]):
            raise ModifierError(f"{modifier} modifier is not supported for subqueries")
        j = opening - 1
    matcher = f'__{modifier}__=""'
    if j >= 0 and tokens[j].typ is T.RIGHT_BRACE:
        before = tokens[j - 1]
        separator = "" if before.typ in (T.LEFT_BRACE, T.COMMA) else ", "
        return tokens[j].pos, separator + matcher
    if j >= 0 and tokens[j].typ in (T.IDENTIFIER, T.METRIC_IDENTIFIER):
        return tokens[j].pos + len(tokens[j].val), "{" + matcher + "}"
    if j >= 0 and tokens[j].typ is T.RIGHT_PAREN:
        raise ModifierError(f"{modifier} modifier not implemented")
    return None


def _before_time_modifiers(tokens: list[Token], j: int) -> int:
    """Back over the `offset <d>` and `@ <t>` after a selector."""
    while j >= 1:
        if (
            tokens[j].typ is T.RIGHT_PAREN
            and j >= 3
            and tokens[j - 2].typ in (T.START, T.END)
            and tokens[j - 3].typ is T.AT
        ):
            j -= 4
            continue
        if tokens[j].typ in (T.NUMBER, T.DURATION):
            k = j - 1
            if tokens[k].typ in (T.SUB, T.ADD):
                k -= 1
            if k >= 0 and tokens[k].typ in (T.AT, T.OFFSET):
                j = k - 1
                continue
        break
    return j


def _matching(tokens: list[Token], j: int, opening: T, closing: T) -> int:
    depth = 0
    for k in range(j, -1, -1):
        if tokens[k].typ is closing:
            depth += 1
        elif tokens[k].typ is opening:
            depth -= 1
            if depth == 0:
                return k
    raise ModifierError("unbalanced brackets")


def modifier_of(vs: pp.VectorSelector) -> str | None:
    """`anchored`, `smoothed` or None."""
    groups = vs.matchers.or_matchers or [vs.matchers.matchers]
    for group in groups:
        for m in group:
            found = LABELS.get(m.name)
            if found is not None:
                return found
    return None


_MARK = re.compile(r'\{__(?:anchored|smoothed)__=""\}|,\s*__(?:anchored|smoothed)__=""')


def unmarked(text: str) -> str:
    """The text of an expression without the matchers that carry the modifiers (as written)."""
    return _MARK.sub("", text) if "__" in text else text


def check_function(modifier: str, function: str) -> None:
    safe = SAFE_FUNCTIONS[modifier]
    if function not in safe:
        raise QueryError(
            f"{modifier} modifier can only be used with: {', '.join(safe)} - not with {function}"
        )


# --- the arithmetic (promql/functions.go), over the samples of one series --------------------


def _interpolate(t1: int, v1: float, t2: int, v2: float, t: int, is_counter: bool) -> float:
    if is_counter and v2 < v1:
        v1 = 0.0
    return v1 + (v2 - v1) * (t - t1) / (t2 - t1)


def _ends_at(ts: list[int], start: int, end: int, smoothed: bool) -> tuple[int, int] | None:
    """The indexes of the samples that stand for the window's two ends, or None when there is no
    sample or none after its start (promql/functions.go extendedRate, engine.go extendFloats)."""
    if not ts:
        return None
    last = len(ts) - 1
    first = max(0, bisect.bisect_right(ts, start, 0, last) - 1)
    if smoothed:
        last = bisect.bisect_left(ts, end, 0, last)
    if ts[last] <= start:
        return None
    return first, last


def _rate_ends(ts: list[int], start: int, end: int, smoothed: bool) -> tuple[int, int] | None:
    """_ends_at for extendedRate, which has nothing either when smoothed and the first end sample
    comes after the window."""
    found = _ends_at(ts, start, end, smoothed)
    return None if found is None or (smoothed and ts[found[0]] > end) else found


def _inside(ts: list[int], first: int, last: int, start: int, end: int) -> tuple[int, int]:
    """The end samples' indexes narrowed to the samples strictly inside the window."""
    return first + (ts[first] <= start), last - (ts[last] >= end)


def _ends(
    ts: list[int], vs: list[float], first: int, last: int, start: int, end: int, smoothed: bool, counter: bool
) -> tuple[float, float]:
    left = vs[first]
    if smoothed and ts[first] < start:
        left = _interpolate(ts[first], vs[first], ts[first + 1], vs[first + 1], start, counter)
    right = vs[last]
    if smoothed and last > 0 and ts[last] > end:
        right = _interpolate(ts[last - 1], vs[last - 1], ts[last], vs[last], end, counter)
    return left, right


def extended_rate(
    timestamps: Timestamps,
    values: Values,
    start: int,
    end: int,
    *,
    smoothed: bool,
    is_counter: bool,
    range_s: float | None,
) -> float | None:
    """rate (range_s given), increase or delta (is_counter False) of an anchored or smoothed window
    (start, end]; the samples span the lookback delta before it (and after it, smoothed)."""
    ts, vs = timestamps.tolist(), values.tolist()
    found = _rate_ends(ts, start, end, smoothed)
    if found is None:
        return None
    first, last = found
    left, right = _ends(ts, vs, first, last, start, end, smoothed, is_counter)
    result = right - left
    if is_counter:
        # Resets at the ends are in the interpolation already; those between the ends are added.
        first, last = _inside(ts, first, last, start, end)
        previous = left
        for value in vs[first : last + 1]:
            if value < previous:
                result += previous
            previous = value
        if right < previous:
            result += previous
    return result / range_s if range_s is not None else result


def anchored_first(timestamps: Timestamps, start: int) -> int | None:
    """changes() and resets() of an anchored window read from the last sample at or before its start
    (a float or a histogram, whichever is later) on: its index, None when no sample is after the start
    (promql/functions.go pickFirstSampleIndices)."""
    after = int(np.searchsorted(timestamps, start, side="right"))
    if after >= len(timestamps):
        return None
    return max(after - 1, 0)


def extend_floats(
    timestamps: Timestamps, values: Values, start: int, end: int, smoothed: bool
) -> tuple[Timestamps, Values] | None:
    """A bare anchored or smoothed range selector: the window's samples with a sample at each end
    (promql/engine.go extendFloats); None when it has none."""
    ts, vs = timestamps.tolist(), values.tolist()
    found = _ends_at(ts, start, end, smoothed)
    if found is None:
        return None
    first, last = found
    left, right = _ends(ts, vs, first, last, start, end, smoothed, False)
    first, last = _inside(ts, first, last, start, end)
    inner_t = ts[first : last + 1] if last >= first else []
    inner_v = vs[first : last + 1] if last >= first else []
    return (
        np.array([start, *inner_t, end], dtype=np.int64),
        np.array([left, *inner_v, right], dtype=np.float64),
    )


def smoothed_value(timestamps: Timestamps, values: Values, at: int) -> float | None:
    """A smoothed instant selector at `at`: the sample there, else the line between the samples on
    either side, else the last one before (the samples span the lookback delta on each side)."""
    i = int(np.searchsorted(timestamps, at, side="left"))
    if i < len(timestamps) and int(timestamps[i]) == at:
        return float(values[i])
    if i == 0:
        return None
    if i < len(timestamps):
        return _interpolate(
            int(timestamps[i - 1]), float(values[i - 1]), int(timestamps[i]), float(values[i]), at, False
        )
    return float(values[i - 1])


# --- the same over native histograms ----------------------------------------------------------


def interpolate_histograms(
    h1: FloatHistogram, t1: int, h2: FloatHistogram, t2: int, t: int, is_counter: bool, notes: set[str]
) -> FloatHistogram:
    """The histogram at t on the line from (t1, h1) to (t2, h2); after a counter reset the counter is
    taken to start from zero. Raises HistogramError where the two mix exponential and custom buckets
    (promql/functions.go interpolateHistograms)."""
    if t == t1:
        return h1.copy()
    if t == t2:
        return h2.copy()
    fraction = (t - t1) / (t2 - t1)
    if is_counter and h2.detect_reset(h1):
        return h2.mul(fraction)
    result, _, reconciled = h2.sub(h1)
    if reconciled:
        notes.add(RECONCILED_SUB)
    result, _, reconciled = result.mul(fraction).add(h1)
    if reconciled:
        notes.add(RECONCILED_ADD)
    return result


def _histogram_ends(
    ts: list[int],
    hs: list[FloatHistogram],
    first: int,
    last: int,
    start: int,
    end: int,
    smoothed: bool,
    is_counter: bool,
    notes: set[str],
) -> tuple[FloatHistogram, FloatHistogram]:
    left = hs[first].copy()
    if smoothed and ts[first] < start:
        left = interpolate_histograms(
            hs[first], ts[first], hs[first + 1], ts[first + 1], start, is_counter, notes
        )
    right = hs[last].copy()
    if smoothed and last > 0 and ts[last] > end:
        right = interpolate_histograms(hs[last - 1], ts[last - 1], hs[last], ts[last], end, is_counter, notes)
    return left, right


def _valid_range(hs: list[FloatHistogram], is_counter: bool, notes: set[str]) -> bool:
    """False (and a note) where the samples mix exponential and custom buckets; a note for each
    gauge among them when a counter is asked for (validateHistogramRange)."""
    custom = hs[0].uses_custom_buckets()
    for h in hs:
        if h.uses_custom_buckets() != custom:
            notes.add(MIXED_SCHEMAS)
            return False
        if is_counter and h.counter_reset_hint == CounterResetHint.GAUGE:
            notes.add(NOT_COUNTER)
    return True


def _histogram_correction(
    ts: list[int],
    hs: list[FloatHistogram],
    first: int,
    last: int,
    left: FloatHistogram,
    right: FloatHistogram,
    start: int,
    smoothed: bool,
    notes: set[str],
) -> FloatHistogram | None:
    """What the counter resets between the window's two ends add (correctForCounterResetsHistogram);
    None when there are none. Raises HistogramError where the histograms cannot be added."""
    # hs[first] is stood for by left; hs[last] (or its interpolation, which keeps its hint) by right.
    begin, prev = first + 1, left
    if smoothed and ts[first] < start and hs[first + 1].detect_reset(hs[first]):
        # The left interpolation spanned that reset already.
        prev = hs[first + 1]
        begin += 1
    correction: FloatHistogram | None = None

    def add(h: FloatHistogram) -> FloatHistogram:
        if correction is None:
            return h.copy()
        total, _, reconciled = correction.add(h)
        if reconciled:
            notes.add(RECONCILED_ADD)
        return total

    if begin > last:
        return None
    for h in hs[begin:last]:
        if h.detect_reset(prev):
            correction = add(prev)
        prev = h
    if right.detect_reset(prev):
        correction = add(prev)
    return correction


def extended_histogram_rate(
    ts: list[int],
    hs: list[FloatHistogram],
    start: int,
    end: int,
    *,
    smoothed: bool,
    is_counter: bool,
    range_s: float | None,
    notes: set[str],
) -> FloatHistogram | None:
    """extended_rate of a window of histogram samples (promql/functions.go extendedHistogramRate);
    what calls for an annotation is added to `notes`."""
    found = _rate_ends(ts, start, end, smoothed)
    if found is None:
        return None
    first, last = found
    if not _valid_range(hs[first : last + 1], is_counter, notes):
        return None
    try:
        left, right = _histogram_ends(ts, hs, first, last, start, end, smoothed, is_counter, notes)
    except HistogramError:
        notes.add(MIXED_SCHEMAS)
        return None
    if not is_counter and not left.counter_reset_hint == right.counter_reset_hint == CounterResetHint.GAUGE:
        notes.add(NOT_GAUGE)
    try:
        result, _, reconciled = right.sub(left)
        if reconciled:
            notes.add(RECONCILED_SUB)
        if is_counter:
            correction = _histogram_correction(ts, hs, first, last, left, right, start, smoothed, notes)
            if correction is not None:
                result, _, reconciled = result.add(correction)
                if reconciled:
                    notes.add(RECONCILED_ADD)
    except HistogramError:
        notes.add(MIXED_SCHEMAS)
        return None
    if range_s is not None:
        result = result.div(range_s)
    result.counter_reset_hint = CounterResetHint.GAUGE
    return result.compact()


def smoothed_histogram(
    ts: list[int], hs: list[FloatHistogram], at: int, notes: set[str]
) -> FloatHistogram | None:
    """smoothed_value of histogram samples (promql/engine.go smoothSeries): interpolated as a counter
    unless both samples around `at` are gauges; a value carried forward loses its counter reset
    hint, which tells of the sample before it."""
    i = bisect.bisect_left(ts, at)
    if i < len(ts) and ts[i] == at:
        return hs[i].copy()
    if i == 0:
        return None
    if i < len(ts):
        before, after = hs[i - 1], hs[i]
        if before.uses_custom_buckets() != after.uses_custom_buckets():
            notes.add(MIXED_SCHEMAS)
            return None
        is_counter = not before.counter_reset_hint == after.counter_reset_hint == CounterResetHint.GAUGE
        try:
            return interpolate_histograms(before, ts[i - 1], after, ts[i], at, is_counter, notes)
        except HistogramError:
            notes.add(MIXED_SCHEMAS)
            return None
    carried = hs[i - 1].copy()
    carried.counter_reset_hint = CounterResetHint.UNKNOWN
    return carried
