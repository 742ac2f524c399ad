"""Functions over range vectors: each gets the samples of one series inside one window."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alerting_server.query.errors import QueryError
from alerting_server.query.mathx import kahan_inc, mean, quantile
from alerting_server.query.storage import Timestamps, Values


@dataclass(frozen=True)
class Window:
    """One evaluation step: the window is (start, end]; `t` is the step's evaluation time."""

    start: int
    end: int
    range_ms: int
    t: int
    params: tuple[float, ...]


RangeFn = Callable[[Timestamps, Values, Window], float | None]


def _extrapolated(ts: Timestamps, vs: Values, w: Window, is_counter: bool, is_rate: bool) -> float | None:
    n = len(ts)
    if n < 2:
        return None
    first_t, last_t = int(ts[0]), int(ts[-1])
    result = float(vs[-1] - vs[0])
    if is_counter:
        drops = vs[1:] < vs[:-1]
        if drops.any():
            result += float(vs[:-1][drops].sum())
    duration_to_start = (first_t - w.start) / 1000
    duration_to_end = (w.end - last_t) / 1000
    sampled = (last_t - first_t) / 1000
    avg_between = sampled / (n - 1)
    threshold = avg_between * 1.1
    if duration_to_start >= threshold:
        duration_to_start = avg_between / 2
    if is_counter:
        duration_to_zero = duration_to_start
        if result > 0 and vs[0] >= 0:
            duration_to_zero = sampled * (float(vs[0]) / result)
        if duration_to_zero < duration_to_start:
            duration_to_start = duration_to_zero
    if duration_to_end >= threshold:
        duration_to_end = avg_between / 2
    factor = (sampled + duration_to_start + duration_to_end) / sampled
    if is_rate:
        factor /= w.range_ms / 1000
    return result * factor


def _rate(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _extrapolated(ts, vs, w, True, True)


def _increase(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _extrapolated(ts, vs, w, True, False)


def _delta(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _extrapolated(ts, vs, w, False, False)


def _instant_value(ts: Timestamps, vs: Values, is_rate: bool) -> float | None:
    if len(ts) < 2:
        return None
    interval = int(ts[-1] - ts[-2])
    if interval == 0:
        return None
    last, prev = float(vs[-1]), float(vs[-2])
    result = last if is_rate and last < prev else last - prev
    if is_rate:
        result /= interval / 1000
    return result


def _irate(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _instant_value(ts, vs, True)


def _idelta(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _instant_value(ts, vs, False)


def linear_regression(ts: Timestamps, vs: Values, intercept_time: int) -> tuple[float, float]:
    init_y = float(vs[0])
    if bool(np.all(vs == init_y)) and not math.isnan(init_y):
        if math.isinf(init_y):
            return math.nan, math.nan
        return 0.0, init_y
    n = 0.0
    sum_x = c_x = sum_y = c_y = sum_xy = c_xy = sum_x2 = c_x2 = 0.0
    for t, y in zip(ts.tolist(), vs.tolist(), strict=True):
        n += 1.0
        x = (t - intercept_time) / 1e3
        sum_x, c_x = kahan_inc(x, sum_x, c_x)
        sum_y, c_y = kahan_inc(y, sum_y, c_y)
        sum_xy, c_xy = kahan_inc(x * y, sum_xy, c_xy)
        sum_x2, c_x2 = kahan_inc(x * x, sum_x2, c_x2)
    sum_x += c_x
    sum_y += c_y
    sum_xy += c_xy
    sum_x2 += c_x2
    cov_xy = sum_xy - sum_x * sum_y / n
    var_x = sum_x2 - sum_x * sum_x / n
    slope = cov_xy / var_x if var_x != 0 else (math.nan if cov_xy == 0 else math.copysign(math.inf, cov_xy))
    intercept = sum_y / n - slope * sum_x / n
    return slope, intercept


def _deriv(ts: Timestamps, vs: Values, w: Window) -> float | None:
    if len(ts) < 2:
        return None
    return linear_regression(ts, vs, int(ts[0]))[0]


def _predict_linear(ts: Timestamps, vs: Values, w: Window) -> float | None:
    if len(ts) < 2:
        return None
    slope, intercept = linear_regression(ts, vs, w.t)
    return slope * w.params[0] + intercept


def _sum_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    total, c = 0.0, 0.0
    for v in vs.tolist():
        total, c = kahan_inc(v, total, c)
    return total if math.isinf(total) else total + c


def _avg_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return mean(vs.tolist())


def _count_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return float(len(vs))


def _compare_over_time(vs: Values, better: Callable[[float, float], bool]) -> float:
    best = float(vs[0])
    for v in vs.tolist():
        if better(v, best):
            best = v
    return best


def _max_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _compare_over_time(vs, lambda cur, m: cur > m or math.isnan(m))


def _min_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _compare_over_time(vs, lambda cur, m: cur < m or math.isnan(m))


def _ts_of_compare(ts: Timestamps, vs: Values, better: Callable[[float, float], bool]) -> float:
    best, best_t = float(vs[0]), int(ts[0])
    for t, v in zip(ts.tolist(), vs.tolist(), strict=True):
        if better(v, best):
            best, best_t = v, t
    return best_t / 1000


def _ts_of_max_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _ts_of_compare(ts, vs, lambda cur, m: cur >= m or math.isnan(m))


def _ts_of_min_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _ts_of_compare(ts, vs, lambda cur, m: cur <= m or math.isnan(m))


def _variance(vs: Values) -> float:
    count = 0.0
    avg = c_avg = aux = c_aux = 0.0
    for f in vs.tolist():
        count += 1
        delta = f - (avg + c_avg)
        avg, c_avg = kahan_inc(delta / count, avg, c_avg)
        aux, c_aux = kahan_inc(delta * (f - (avg + c_avg)), aux, c_aux)
    return (aux + c_aux) / count


def _stdvar_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return _variance(vs)


def _stddev_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return math.sqrt(_variance(vs))


def _quantile_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return quantile(w.params[0], vs.tolist())


def _mad_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    values = vs.tolist()
    if np.isnan(vs).any():
        return math.nan
    median = quantile(0.5, values)
    return quantile(0.5, [abs(v - median) for v in values])


def _last_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return float(vs[-1])


def _first_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return float(vs[0])


def _ts_of_last_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return int(ts[-1]) / 1000


def _ts_of_first_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return int(ts[0]) / 1000


def _present_over_time(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return 1.0


def _changes(ts: Timestamps, vs: Values, w: Window) -> float | None:
    prev, cur = vs[:-1], vs[1:]
    differ = (cur != prev) & ~(np.isnan(cur) & np.isnan(prev))
    return float(np.count_nonzero(differ))


def _resets(ts: Timestamps, vs: Values, w: Window) -> float | None:
    return float(np.count_nonzero(vs[1:] < vs[:-1]))


def _double_exponential_smoothing(ts: Timestamps, vs: Values, w: Window) -> float | None:
    sf, tf = w.params
    if sf <= 0 or sf >= 1:
        raise QueryError(f"invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:f}")
    if tf <= 0 or tf >= 1:
        raise QueryError(f"invalid trend factor. Expected: 0 < tf < 1, got: {tf:f}")
    values = vs.tolist()
    if len(values) < 2:
        return None
    s0, s1 = 0.0, values[0]
    b = values[1] - values[0]
    for i in range(1, len(values)):
        x = sf * values[i]
        b = b if i - 1 == 0 else tf * (s1 - s0) + (1 - tf) * b
        y = (1 - sf) * (s1 + b)
        s0, s1 = s1, x + y
    return float(s1)


RANGE_FUNCTIONS: dict[str, RangeFn] = {
    "rate": _rate,
    "increase": _increase,
    "delta": _delta,
    "irate": _irate,
    "idelta": _idelta,
    "deriv": _deriv,
    "predict_linear": _predict_linear,
    "sum_over_time": _sum_over_time,
    "avg_over_time": _avg_over_time,
    "count_over_time": _count_over_time,
    "max_over_time": _max_over_time,
    "min_over_time": _min_over_time,
    "ts_of_max_over_time": _ts_of_max_over_time,
    "ts_of_min_over_time": _ts_of_min_over_time,
    "stddev_over_time": _stddev_over_time,
    "stdvar_over_time": _stdvar_over_time,
    "quantile_over_time": _quantile_over_time,
    "mad_over_time": _mad_over_time,
    "last_over_time": _last_over_time,
    "first_over_time": _first_over_time,
    "ts_of_last_over_time": _ts_of_last_over_time,
    "ts_of_first_over_time": _ts_of_first_over_time,
    "present_over_time": _present_over_time,
    "absent_over_time": _present_over_time,
    "changes": _changes,
    "resets": _resets,
    "double_exponential_smoothing": _double_exponential_smoothing,
}

# last/first_over_time act like an offset and keep the metric name.
KEEPS_NAME = {"last_over_time", "first_over_time"}
