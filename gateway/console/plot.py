"""A rule's query over time as a small inline SVG, drawn on the server: no script, nothing fetched.

When the expression is `<expr> <op> <number>` (the usual alerting rule), the plot shows `<expr>` and
the threshold as a dashed line, which says more than the filtered series would: how far from firing
each series is. The split reads the expression as PromQL's grammar would at its top level: the
comparison must be the outermost operator (not inside parentheses, a selector's braces, a range's
brackets or a string), with nothing of lower precedence (`and`, `or`, `unless`) around it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.console.page import esc

COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
_NUMBER = re.compile(
    r"\s*(?:bool\s+)?([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:Inf|NaN)|0x[0-9a-fA-F]+)\s*",
    re.IGNORECASE,
)
_SET_OPERATORS = re.compile(r"\b(and|or|unless)\b", re.IGNORECASE)
WIDTH, HEIGHT = 640, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 12, 12, 28
# Series beyond this are left out of the drawing (the page says how many).
MAX_SERIES = 12
PALETTE_SIZE = 6


@dataclass(frozen=True)
class Threshold:
    expr: str
    op: str
    value: float


@dataclass(frozen=True)
class Line:
    labels: Mapping[str, str]
    points: Sequence[tuple[int, float]]


def _top_level(expr: str) -> list[tuple[int, str]]:
    """(position, text) of each stretch of `expr` outside brackets and strings, character by character."""
    depth = 0
    quote = ""
    escaped = False
    out = []
    for i, c in enumerate(expr):
        if quote:
            if escaped:
                escaped = False
            elif c == "\\" and quote != "`":
                escaped = True
            elif c == quote:
                quote = ""
            continue
        if c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            out.append((i, c))
    return out


def split_threshold(expr: str) -> Threshold | None:
    """`avg(cpu) > 80` as (`avg(cpu)`, `>`, 80.0); None when the expression is not of that form."""
    outside = _top_level(expr)
    positions = {i for i, _ in outside}
    found = None
    for i, _ in outside:
        for op in COMPARISONS:
            end = i + len(op)
            if expr.startswith(op, i) and all(j in positions for j in range(i, end)):
                # `>=` is one operator, not `>` then `=`; `=~` and `!~` are matchers, never here.
                if op in (">", "<") and expr[end : end + 1] == "=":
                    continue
                if op in ("==", "!=") or expr[i - 1 : i] not in ("=", "!", "<", ">"):
                    found = (i, op)
                break
    if found is None:
        return None
    at, op = found
    left, right = expr[:at].strip(), expr[at + len(op) :]
    number = _NUMBER.fullmatch(right)
    if number is None or not left:
        return None
    outside_left = "".join(c for i, c in outside if i < at)
    if _SET_OPERATORS.search(outside_left):
        return None
    text = number.group(1)
    value = float(int(text, 16)) if text.lower().startswith("0x") else float(text)
    return Threshold(left, op, value)


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M")


def _tick(value: float) -> str:
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:.4g}"


def series_name(labels: Mapping[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def svg_plot(
    lines: Sequence[Line], start_ms: int, end_ms: int, step_ms: int, threshold: Threshold | None, title: str
) -> str:
    """The lines between `start_ms` and `end_ms` with the threshold, and a legend under them."""
    drawn = [
        Line(line.labels, [(t, v) for t, v in line.points if math.isfinite(v)]) for line in lines[:MAX_SERIES]
    ]
    values = [v for line in drawn for _, v in line.points]
    if threshold is not None and math.isfinite(threshold.value):
        values.append(threshold.value)
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad
    span_ms = max(1, end_ms - start_ms)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(t: int) -> float:
        return _LEFT + (t - start_ms) / span_ms * plot_w

    def y(v: float) -> float:
        return _TOP + (high - v) / (high - low) * plot_h

    parts = [
        f'<rect class="frame" x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="none"/>',
    ]
    for v in (high - pad, (high + low) / 2, low + pad):
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text class="tick" x="{_LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{esc(_tick(v))}</text>'
        )
    parts.append(
        f'<text class="tick" x="{_LEFT}" y="{HEIGHT - 8}" text-anchor="start">{_clock(start_ms)}</text>'
        f'<text class="tick" x="{WIDTH - _RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{_clock(end_ms)} UTC</text>"
    )
    for n, line in enumerate(drawn):
        commands = []
        previous = None
        for t, v in line.points:
            # A gap longer than two steps is no data, not a straight line.
            move = previous is None or t - previous > 2 * step_ms
            commands.append(f"{'M' if move else 'L'}{x(t):.1f} {y(v):.1f}")
            previous = t
        if len(line.points) == 1:
            commands.append("h0.1")  # a single sample still shows as a dot
        if commands:
            parts.append(
                f'<path class="series series-{n % PALETTE_SIZE}" fill="none" d="{" ".join(commands)}">'
                f"<title>{esc(series_name(line.labels))}</title></path>"
            )
    if threshold is not None and math.isfinite(threshold.value):
        ty = y(threshold.value)
        parts.append(
            f'<line class="threshold" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="threshold-label" x="{WIDTH - _RIGHT - 4}" y="{ty - 5:.1f}" text-anchor="end">'
            f"{esc(threshold.op)} {esc(_tick(threshold.value))}</text>"
        )
    described = f"{len(lines)} series from {_clock(start_ms)} to {_clock(end_ms)} UTC" + (
        f"; threshold {threshold.op} {_tick(threshold.value)}" if threshold is not None else ""
    )
    svg = (
        f'<svg class="plot" id="plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="plot-title plot-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="plot-title">{esc(title)}</title><desc id="plot-desc">{esc(described)}</desc>'
        f"{''.join(parts)}</svg>"
    )
    legend = "".join(
        f'<li><span class="swatch series-{n % PALETTE_SIZE}" aria-hidden="true"></span>'
        f"<code>{esc(series_name(line.labels))}</code></li>"
        for n, line in enumerate(drawn)
    )
    hidden = len(lines) - len(drawn)
    more = f'<p class="status">{hidden} more series not drawn.</p>' if hidden > 0 else ""
    empty = "" if lines else '<p class="status" id="plot-empty">No data in this range.</p>'
    return f'<figure class="plot">{svg}<ul class="legend">{legend}</ul>{more}{empty}</figure>'
