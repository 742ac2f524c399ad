"""Runner of Prometheus' promqltest files (`promql/promqltest/testdata/*.test`).

The format: `load <interval>` blocks of series in expanding notation, `clear`, and
`eval instant at <t> <expr>` / `eval range from <t> to <t> step <d> <expr>` blocks with the
expected result and `expect ...` lines. Results are compared as promqltest does: same set of
series, floats equal within a relative 1e-6, order only when `ordered`; an instant eval is
also re-run as a range query around its time and must agree.

Every directive of the current format is read: `expect fail|warn|no_warn|info|no_info|ordered` (with
`msg:` or `regex:`), `expect range vector from <t> to <t> step <d>` (an instant query returning a
range vector), `expect string`, `eval_fail|_warn|_info|_ordered`, `load_with_nhcb` and `metric@st` lines
(start timestamps, kept with the load). `{{...}}` samples are native histograms (query/histogram.py),
loaded with the counter reset hints Prometheus' TSDB reads back and compared as promqltest does; a
case whose evaluation meets an operation the engine does not implement for histograms (the engine
raises NativeHistogramsUnsupported) is counted as unsupported, never as passed or failed.
"""

from __future__ import annotations

import ast
import itertools
import math
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from alerting_common.durations import parse_duration
from alerting_server.errors import InvalidArgument
from alerting_server.query import mathx
from alerting_server.query.engine import Engine
from alerting_server.query.errors import NativeHistogramsUnsupported, QueryError
from alerting_server.query.features import KNOWN_FEATURES, USE_START_TIMESTAMPS
from alerting_server.query.histogram import CounterResetHint, FloatHistogram, HistogramError, parse_histogram
from alerting_server.query.labels import METRIC_NAME, Labels, Matcher, format_series, from_pairs
from alerting_server.query.result import Result, ValueKind
from alerting_server.query.storage import STALE_NAN, SeriesData, is_stale
from alerting_server.query.tsdb import TSDB, Sample

EPSILON = 1e-6

_NUMBER = r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[iI]nf|[nN]a[nN])"
_ITEM = re.compile(rf"^(?P<base>{_NUMBER}|stale)(?:(?P<delta>{_NUMBER})?x(?P<times>\d+))?$")
_BLANK = re.compile(r"^_(?:x(?P<times>\d+))?$")
_EVAL_INSTANT = re.compile(r"^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$")
_EVAL_RANGE = re.compile(
    r"^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$"
)
_EXPECT = re.compile(r"^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$")
_EXPECT_RANGE = re.compile(r"^expect range vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$")
_LOAD = re.compile(r"^load(?:_(with_nhcb))?\s+(.+?)$")
_CONTEXT_FUNCS = re.compile(r"(start|end|range|step)\(\)")


@dataclass(frozen=True)
class HistogramValue:
    """A `{{...}}` native-histogram sample; `hint_set` when its description names its counter reset
    hint (only then does an expected histogram's hint have to match)."""

    histogram: FloatHistogram
    hint_set: bool


SeqValue = float | None | HistogramValue  # None = omitted (`_`)


class TestFileError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")


class UnusableTestFile(Exception):
    """A file that cannot be read, or is no test file; the message names it and says why."""


def parse_number(text: str) -> float:
    try:
        return float(int(text, 0))
    except ValueError:
        return float(text)


def _duration_ms(text: str) -> int:
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text) * 1000
    return parse_duration(text)


def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    value = ast.literal_eval(text)
    assert isinstance(value, str)
    return value


_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`'
_IDENT = r"[a-zA-Z_:][a-zA-Z0-9_:.]*"
_LABEL = re.compile(
    rf"\s*(?:(?P<name>{_IDENT}|{_STRING})\s*(?P<op>=~|!~|!=|=)\s*(?P<value>{_STRING})|(?P<bare>{_STRING}))\s*"
)


def parse_series_desc(text: str, line: int) -> tuple[Labels, list[SeqValue]]:
    """`name{a="b"} 1+2x3 _ stale {{...}}` -> labels and the expanded values."""
    text = text.strip()
    pairs: list[tuple[str, str]] = []
    m = re.match(_IDENT, text)
    pos = 0
    if m:
        pairs.append((METRIC_NAME, m.group(0)))
        pos = m.end()
    if pos < len(text) and text[pos] == "{":
        pos += 1
        while True:
            if text[pos:].lstrip().startswith("}"):
                pos = text.index("}", pos) + 1
                break
            lm = _LABEL.match(text, pos)
            if not lm:
                raise TestFileError(line, f"bad label set in {text!r}")
            if lm.group("bare"):
                pairs.append((METRIC_NAME, _unquote(lm.group("bare"))))
            else:
                name = lm.group("name")
                pairs.append((_unquote(name) if name[0] in "\"'`" else name, _unquote(lm.group("value"))))
            pos = lm.end()
            if text[pos] == ",":
                pos += 1
    return from_pairs(pairs), parse_values(text[pos:], line)


def parse_values(text: str, line: int) -> list[SeqValue]:
    values: list[SeqValue] = []
    tokens = re.findall(r"\{\{.*?\}\}(?:[+-]\{\{.*?\}\})?(?:x\d+)?|\S+", text)
    for token in tokens:
        if token.startswith("{{"):
            values.extend(_histogram_series(token, line))
            continue
        blank = _BLANK.match(token)
        if blank:
            values.extend([None] * (int(blank.group("times")) if blank.group("times") else 1))
            continue
        item = _ITEM.match(token)
        if not item:
            raise TestFileError(line, f"bad sample value {token!r}")
        base = STALE_NAN if item.group("base") == "stale" else parse_number(item.group("base"))
        if item.group("times") is None:
            values.append(base)
            continue
        delta = parse_number(item.group("delta")) if item.group("delta") else 0.0
        current = base
        values.append(current)
        for _ in range(int(item.group("times"))):
            current += delta
            values.append(current)
    return values


_HISTOGRAM_ITEM = re.compile(
    r"^(?P<base>\{\{.*?\}\})(?:(?P<op>[+-])(?P<inc>\{\{.*?\}\}))?(?:x(?P<times>\d+))?$"
)


def _histogram(text: str, line: int) -> HistogramValue:
    try:
        h = parse_histogram(text)
    except HistogramError as e:
        raise TestFileError(line, str(e)) from None
    return HistogramValue(h, "counter_reset_hint:" in text)


def _histogram_series(token: str, line: int) -> list[SeqValue]:
    """`{{...}}`, `{{...}}x3` (4 copies), `{{...}}+{{...}}x3` and `{{...}}-{{...}}x3` (the base, then
    the increment added or subtracted 3 times)."""
    m = _HISTOGRAM_ITEM.match(token)
    if not m or (m.group("inc") and m.group("times") is None):
        raise TestFileError(line, f"bad histogram sample value {token!r}")
    base = _histogram(m.group("base"), line)
    if m.group("times") is None:
        return [base]
    times = int(m.group("times"))
    if not m.group("inc"):
        return [base] * (times + 1)
    inc = _histogram(m.group("inc"), line)
    out: list[SeqValue] = [HistogramValue(base.histogram, inc.hint_set)]
    current = base.histogram
    for _ in range(times):
        if current.schema > inc.histogram.schema:
            raise TestFileError(
                line,
                "error combining histograms: cannot merge from schema "
                f"{inc.histogram.schema} to {current.schema}",
            )
        try:
            current, _, _ = current.add(inc.histogram) if m.group("op") == "+" else current.sub(inc.histogram)
        except HistogramError as e:
            raise TestFileError(line, f"error combining histograms: {e}") from None
        out.append(HistogramValue(current, inc.hint_set))
    return out


@dataclass
class LoadCmd:
    line: int
    interval_ms: int
    with_nhcb: bool
    series: list[tuple[Labels, list[SeqValue]]] = field(default_factory=list)
    # `metric@st` lines: per sample, the offset in ms of its start timestamp (None = none).
    start_offsets: dict[Labels, list[int | None]] = field(default_factory=dict)


@dataclass
class ClearCmd:
    line: int


@dataclass
class Expect:
    message: str | None = None
    regex: re.Pattern[str] | None = None

    def matches(self, text: str) -> bool:
        if self.regex is not None:
            return self.regex.search(text) is not None
        return self.message is None or self.message == text


@dataclass
class EvalCmd:
    line: int
    expr: str
    is_range: bool
    start_ms: int
    end_ms: int = 0
    step_ms: int = 0
    fail: bool = False
    ordered: bool = False
    warn: bool = False
    info: bool = False
    fail_message: str | None = None
    fail_regexp: re.Pattern[str] | None = None
    expects: dict[str, list[Expect]] = field(default_factory=dict)
    expected: dict[Labels, tuple[int, list[SeqValue]]] = field(default_factory=dict)
    expect_scalar: bool = False
    expected_string: str | None = None
    exclude_from_range: bool = False
    uses_histograms: bool = False
    range_vector: bool = False  # `expect range vector ...`: an instant query returning a matrix

    def is_ordered(self) -> bool:
        return self.ordered or bool(self.expects.get("ordered"))

    def is_fail(self) -> bool:
        return self.fail or bool(self.expects.get("fail"))


Command = LoadCmd | ClearCmd | EvalCmd


def parse_file(text: str) -> list[Command]:
    lines = []
    for raw in text.split("\n"):
        stripped = raw.strip()
        lines.append("" if stripped.startswith("#") else stripped)
    cmds: list[Command] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        word = re.split(r"[\t ]+", line, maxsplit=1)[0].lower()
        if word == "clear":
            cmds.append(ClearCmd(i + 1))
            i += 1
        elif word.startswith("load"):
            i, load = _parse_load(lines, i)
            cmds.append(load)
        elif word.startswith("eval"):
            i, ev = _parse_eval(lines, i)
            cmds.append(ev)
        else:
            raise TestFileError(i + 1, f"invalid command {line!r}")
    return cmds


def _parse_load(lines: list[str], i: int) -> tuple[int, LoadCmd]:
    m = _LOAD.match(lines[i])
    if not m:
        raise TestFileError(i + 1, "invalid load command")
    cmd = LoadCmd(i + 1, _duration_ms(m.group(2)), m.group(1) == "with_nhcb")
    i += 1
    defined: dict[Labels, list[SeqValue]] = {}
    pending: tuple[int, Labels, list[int | None]] | None = None
    while i < len(lines) and lines[i]:
        if _is_st_line(lines[i]):
            if pending is not None:
                raise TestFileError(pending[0], "@st line has no following sample line")
            st_labels, offsets = _parse_st_line(lines[i], i + 1)
            pending = (i + 1, st_labels, offsets)
            i += 1
            continue
        labels, values = parse_series_desc(lines[i], i + 1)
        if pending is not None:
            if pending[1] != labels:
                raise TestFileError(pending[0], "@st metric does not match the following sample line metric")
            if len(pending[2]) != len(values):
                raise TestFileError(
                    pending[0], f"@st line has {len(pending[2])} values but sample line has {len(values)}"
                )
            cmd.start_offsets[labels] = pending[2]
            pending = None
        defined[labels] = values  # a later definition of the same series replaces the earlier one
        i += 1
    if pending is not None:
        raise TestFileError(pending[0], "@st line has no following sample line")
    cmd.series = list(defined.items())
    return i, cmd


def _is_st_line(line: str) -> bool:
    head = re.split(r"[\t ]", line, maxsplit=1)
    return len(head) == 2 and head[0].endswith("@st")


_ST_DURATION = re.compile(r"(?P<sign>[+-]?)(?P<digits>\d+)(?P<unit>[a-wyzA-Z]*)")


def _parse_st_line(line: str, number: int) -> tuple[Labels, list[int | None]]:
    """`metric{...}@st <offsets>`: per sample, its start timestamp as an offset from its time."""
    head, rest = re.split(r"[\t ]", line, maxsplit=1)
    labels, _ = parse_series_desc(head.removesuffix("@st") + " _", number)
    offsets: list[int | None] = []
    for item in rest.split():
        try:
            offsets.extend(_parse_st_item(item))
        except ValueError as e:
            raise TestFileError(number, f"invalid @st sequence: invalid ST item {item!r}: {e}") from None
    return labels, offsets


def _st_duration(text: str) -> tuple[int, str]:
    m = _ST_DURATION.match(text)
    if not m:
        raise ValueError(f"invalid duration in {text!r}")
    if m.group("unit"):
        ms = parse_duration(m.group("digits") + m.group("unit"))
    elif int(m.group("digits")) == 0:
        ms = 0
    else:
        raise ValueError(f"missing unit in duration {m.group(0)!r}")
    return (-ms if m.group("sign") == "-" else ms), text[m.end() :]


def _parse_st_item(item: str) -> list[int | None]:
    if item == "_":
        return [None]
    if item.startswith("_x"):
        if not item[2:].isdigit() or int(item[2:]) == 0:
            raise ValueError("invalid repeat count")
        return [None] * int(item[2:])
    base, rest = _st_duration(item)
    if not rest:
        return [base]
    if rest[0] == "x":
        if not rest[1:].isdigit():
            raise ValueError("invalid repeat count")
        return [base] * (int(rest[1:]) + 1)
    if rest[0] not in "+-":
        raise ValueError(f"unexpected character {rest[0]!r} after duration")
    delta, tail = _st_duration(rest[1:])
    if rest[0] == "-":
        delta = -delta
    if not tail.startswith("x") or not tail[1:].isdigit():
        raise ValueError("expected 'x<count>' after step duration")
    return [base + k * delta for k in range(int(tail[1:]) + 1)]


def _parse_eval(lines: list[str], i: int) -> tuple[int, EvalCmd]:
    head = lines[i]
    inst = _EVAL_INSTANT.match(head)
    rng = None if inst else _EVAL_RANGE.match(head)
    if inst:
        mod, expr = inst.group(1), inst.group(3)
        cmd = EvalCmd(i + 1, expr, False, _duration_ms(inst.group(2) or "0s"))
    elif rng:
        mod, expr = rng.group(1), rng.group(5)
        cmd = EvalCmd(i + 1, expr, True, _duration_ms(rng.group(2)), _duration_ms(rng.group(3)))
        cmd.step_ms = _duration_ms(rng.group(4))
    else:
        raise TestFileError(i + 1, f"invalid eval command {head!r}")
    cmd.fail = mod == "fail"
    cmd.ordered = mod == "ordered"
    cmd.warn = mod == "warn"
    cmd.info = mod == "info"
    pos = 1
    i += 1
    while i < len(lines) and lines[i]:
        line = lines[i]
        i += 1
        if cmd.fail and line.startswith("expected_fail_message"):
            cmd.fail_message = line.removeprefix("expected_fail_message").strip()
            break
        if cmd.fail and line.startswith("expected_fail_regexp"):
            cmd.fail_regexp = re.compile(line.removeprefix("expected_fail_regexp").strip())
            break
        if line.startswith("expect range vector"):
            rm = _EXPECT_RANGE.match(line)
            if not rm:
                raise TestFileError(i, f"invalid range vector definition {line!r}")
            start, end = _duration_ms(rm.group(1)), _duration_ms(rm.group(2))
            if end < start:
                raise TestFileError(i, f"end timestamp {rm.group(2)} is before start timestamp {rm.group(1)}")
            cmd.start_ms, cmd.end_ms, cmd.step_ms = start, end, _duration_ms(rm.group(3))
            cmd.range_vector = True
            cmd.exclude_from_range = True
            continue
        if line.startswith("expect string"):
            cmd.expected_string = _unquote(line.removeprefix("expect string").strip())
            cmd.exclude_from_range = True
            continue
        if line.split(" ")[0] == "expect":
            em = _EXPECT.match(line)
            if not em:
                raise TestFileError(i, f"invalid expect line {line!r}")
            expect = Expect()
            if em.group(2) == "msg":
                expect.message = em.group(3).strip()
            elif em.group(2) == "regex":
                expect.regex = re.compile(em.group(3).strip())
            cmd.expects.setdefault(em.group(1), []).append(expect)
            _validate_expects(cmd, i)
            continue
        try:
            cmd.expected[()] = (0, [parse_number(line)])
            cmd.expect_scalar = True
            break
        except ValueError:
            pass
        labels, values = parse_series_desc(line, i)
        if len(values) > 1 and not cmd.is_range and not cmd.range_vector:
            raise TestFileError(
                i,
                "expecting multiple values in instant evaluation not allowed. consider using "
                "'expect range vector' directive to enable a range vector result for an instant query",
            )
        if any(isinstance(v, HistogramValue) for v in values):
            cmd.uses_histograms = True
        cmd.expected[labels] = (pos, values)
        pos += 1
    return i, cmd


def _validate_expects(cmd: EvalCmd, line: int) -> None:
    for a, b in (("info", "no_info"), ("warn", "no_warn")):
        if cmd.expects.get(a) and cmd.expects.get(b):
            raise TestFileError(line, f"invalid expect lines, {a} and {b} cannot be used together")
    if len(cmd.expects.get("fail", [])) > 1:
        raise TestFileError(line, "invalid expect lines, multiple expect fail lines are not allowed")


def almost_equal(a: float, b: float, epsilon: float = EPSILON) -> bool:
    """util/almost.Equal: both NaN is equal; otherwise a relative tolerance."""
    return mathx.almost_equal(a, b, epsilon)


class _Mismatch(Exception):
    pass


def _fmt(v: float) -> str:
    return repr(v).replace("inf", "Inf").replace("nan", "NaN")


def compare_result(cmd: EvalCmd, result: Result, start_ms: int, step_ms: int, end_ms: int) -> None:
    """Raise _Mismatch with promqltest's wording when `result` is not what `cmd` expects."""
    kind = result.kind
    if kind is ValueKind.STRING:
        if cmd.expected_string != result.string:
            raise _Mismatch(f'expected string "{cmd.expected_string}" but got "{result.string}"')
        return
    if kind is ValueKind.SCALAR:
        if not cmd.expect_scalar:
            raise _Mismatch(f"expected vector or matrix result, but got scalar {_fmt(result.scalar)}")
        exp = cmd.expected[()][1][0]
        assert isinstance(exp, float)
        if not almost_equal(exp, result.scalar):
            raise _Mismatch(f"expected scalar {_fmt(exp)} but got {_fmt(result.scalar)}")
        return
    if cmd.expect_scalar:
        raise _Mismatch(f"expected scalar result, but got {kind.value} {result.describe()}")
    seen: set[Labels] = set()
    if kind is ValueKind.VECTOR:
        for index, series in enumerate(result.series):
            got_h = series.histogram_at(0)
            if series.labels not in cmd.expected:
                shown = _fmt(float(series.values[0])) if got_h is None else got_h.test_expression()
                raise _Mismatch(
                    f"unexpected metric {format_series(series.labels)} in result, has value {shown}"
                )
            pos, vals = cmd.expected[series.labels]
            if cmd.is_ordered() and pos != index + 1:
                raise _Mismatch(
                    f"expected metric {format_series(series.labels)} at position {pos} but was at {index + 1}"
                )
            exp = vals[0]
            if isinstance(exp, HistogramValue) or got_h is not None:
                _compare_histogram_point(exp, got_h, float(series.values[0]), series.labels)
                seen.add(series.labels)
                continue
            assert isinstance(exp, float)
            got = float(series.values[0])
            if not almost_equal(exp, got):
                raise _Mismatch(
                    f"expected {_fmt(exp)} for {format_series(series.labels)} but got {_fmt(got)}"
                )
            seen.add(series.labels)
    else:
        if cmd.is_ordered():
            raise _Mismatch("expected ordered result, but query returned a matrix")
        for series in result.series:
            if series.labels not in cmd.expected:
                raise _Mismatch(
                    f"unexpected metric {format_series(series.labels)} in result, has {series.describe()}"
                )
            seen.add(series.labels)
            expected_points: list[tuple[int, float | HistogramValue]] = []
            for index, value in enumerate(cmd.expected[series.labels][1]):
                t = start_ms + index * step_ms
                if t > end_ms:
                    raise _Mismatch(
                        f"expected more points for {format_series(series.labels)} than the range has"
                    )
                if value is not None:
                    expected_points.append((t, value))
            actual = list(zip(series.timestamps.tolist(), series.values.tolist(), strict=True))
            if len(actual) != len(expected_points) or any(
                te != tg or not _point_matches(ve, vg, series.histogram_at(i))
                for i, ((te, ve), (tg, vg)) in enumerate(zip(expected_points, actual, strict=False))
            ):
                raise _Mismatch(
                    f"expected {[(t, _fmt_value(v)) for t, v in expected_points]} for "
                    f"{format_series(series.labels)}, got {series.describe()}"
                )
    for labels in cmd.expected:
        if labels not in seen:
            raise _Mismatch(f"expected metric {format_series(labels)} not found")


def _fmt_value(value: float | HistogramValue) -> str:
    return value.histogram.test_expression() if isinstance(value, HistogramValue) else _fmt(value)


def _point_matches(expected: float | HistogramValue, got: float, got_h: FloatHistogram | None) -> bool:
    if isinstance(expected, HistogramValue):
        return got_h is not None and histograms_match(expected.histogram, got_h, expected.hint_set)
    return got_h is None and almost_equal(expected, got)


def _compare_histogram_point(
    expected: SeqValue, got_h: FloatHistogram | None, got: float, labels: Labels
) -> None:
    if not isinstance(expected, HistogramValue):
        assert got_h is not None
        raise _Mismatch(
            f"expected float value {_fmt(expected or 0.0)} for {format_series(labels)} but got histogram "
            f"{got_h.test_expression()}"
        )
    if got_h is None:
        raise _Mismatch(
            f"expected histogram {expected.histogram.test_expression()} for {format_series(labels)} but got "
            f"float value {_fmt(got)}"
        )
    if not histograms_match(expected.histogram, got_h, expected.hint_set):
        raise _Mismatch(
            f"expected {expected.histogram.test_expression()} for {format_series(labels)} but got "
            f"{got_h.test_expression()}"
        )


def histograms_match(expected: FloatHistogram, got: FloatHistogram, hint_set: bool) -> bool:
    """promqltest's compareNativeHistogram of both compacted: floats within the tolerance, the same
    layout, the counter reset hint only when the expectation names it."""
    exp, cur = expected.compact(), got.compact()
    if (
        exp.schema != cur.schema
        or not almost_equal(exp.count, cur.count)
        or not almost_equal(exp.sum, cur.sum)
    ):
        return False
    if exp.uses_custom_buckets() and exp.custom_values != cur.custom_values:
        return False
    if exp.zero_threshold != cur.zero_threshold or not almost_equal(exp.zero_count, cur.zero_count):
        return False
    for mine, theirs in ((exp.positive, cur.positive), (exp.negative, cur.negative)):
        if mine.keys() != theirs.keys() or not all(almost_equal(c, theirs[i]) for i, c in mine.items()):
            return False
    return not hint_set or exp.counter_reset_hint == cur.counter_reset_hint


def _check_annotations(cmd: EvalCmd, result: Result) -> None:
    warnings, infos = result.warnings, result.infos
    if cmd.warn and not warnings:
        raise _Mismatch("expected warnings but got none")
    if cmd.info and not infos:
        raise _Mismatch("expected info annotations but got none")
    for kind, actual in (("warn", warnings), ("info", infos)):
        expects = cmd.expects.get(kind, [])
        if not expects:
            continue
        if not actual:
            raise _Mismatch(f"expected {kind} annotations but none were found")
        for e in expects:
            if not any(e.matches(a) for a in actual):
                raise _Mismatch(f"expected {kind} annotation matching {e.message or e.regex}, found {actual}")
        for a in actual:
            if not any(e.matches(a) for e in expects):
                raise _Mismatch(f"unexpected {kind} annotation {a!r}")
    if "no_warn" in cmd.expects and warnings:
        raise _Mismatch(f"unexpected warning annotations: {warnings}")
    if "no_info" in cmd.expects and infos:
        raise _Mismatch(f"unexpected info annotations: {infos}")


def _check_failure(cmd: EvalCmd, error: Exception) -> None:
    text = str(error)
    if cmd.fail_message is not None and cmd.fail_message != text:
        raise _Mismatch(f"expected error {cmd.fail_message!r}, but got: {text}")
    if cmd.fail_regexp is not None and not cmd.fail_regexp.search(text):
        raise _Mismatch(f"expected error matching {cmd.fail_regexp.pattern!r}, but got: {text}")
    fails = cmd.expects.get("fail")
    if fails and not fails[0].matches(text):
        raise _Mismatch(f"expected error matching {fails[0].message or fails[0].regex}, but got: {text}")


class _TestStorage:
    """The store plus the series that hold native histograms (kept beside it)."""

    def __init__(self) -> None:
        self.tsdb = TSDB(retention_ms=1 << 62)
        # Series with native-histogram samples: (time, float or histogram) in time order.
        self.native: dict[Labels, list[tuple[int, float | FloatHistogram]]] = {}
        # The start times of the samples of those series that have any, by sample time.
        self.native_starts: dict[Labels, dict[int, int]] = {}

    def select(self, matchers: Sequence[Matcher], mint_ms: int, maxt_ms: int) -> list[SeriesData]:
        found = self.tsdb.select(matchers, mint_ms, maxt_ms)
        marked: list[SeriesData] = []
        floats = {s.labels: s for s in found}
        for labels, samples in self.native.items():
            if not all(m.matches(_get(labels, m.name)) for m in matchers):
                continue
            inside = [(t, v) for t, v in samples if mint_ms <= t <= maxt_ms]
            loaded = floats.pop(labels, None)
            starts = dict(self.native_starts.get(labels, {}))
            if loaded is not None and loaded.start_timestamps is not None:
                starts.update(zip(loaded.timestamps.tolist(), loaded.start_timestamps.tolist(), strict=True))
            if loaded is not None:
                # Float samples of the series loaded apart from its histograms.
                times = {t for t, _ in inside}
                extra = zip(loaded.timestamps.tolist(), loaded.values.tolist(), strict=True)
                inside = sorted(inside + [(t, v) for t, v in extra if t not in times], key=lambda p: p[0])
            if not inside:
                continue  # as the store: a series without a sample in the window is not selected
            marked.append(
                SeriesData(
                    labels,
                    np.array([t for t, _ in inside], dtype=np.int64),
                    np.array([v if isinstance(v, float) else math.nan for _, v in inside], dtype=np.float64),
                    histograms=tuple(v if isinstance(v, FloatHistogram) else None for _, v in inside),
                    start_timestamps=(
                        np.array([starts.get(t, 0) for t, _ in inside], dtype=np.int64) if starts else None
                    ),
                )
            )
        if not marked:
            return found
        return sorted([*floats.values(), *marked], key=lambda s: s.labels)

    def load(self, cmd: LoadCmd) -> None:
        batch: list[Sample] = []
        for labels, values in cmd.series:
            offsets = cmd.start_offsets.get(labels) or [None] * len(values)
            # A sample's start time: its time plus the offset given for it, 0 (unknown) where none is.
            starts = [
                0 if offset is None else index * cmd.interval_ms + offset
                for index, offset in enumerate(offsets)
            ]
            if any(isinstance(v, HistogramValue) for v in values):
                self.native[labels] = _as_stored(values, cmd.interval_ms)
                if any(starts):
                    self.native_starts[labels] = {
                        index * cmd.interval_ms: st
                        for index, st in enumerate(starts)
                        if st and values[index] is not None
                    }
                continue
            for index, value in enumerate(values):
                if isinstance(value, float):
                    batch.append(Sample(labels, index * cmd.interval_ms, value, st_ms=starts[index]))
        result = self.tsdb.append(batch)
        if result.rejected:
            raise TestFileError(cmd.line, f"load rejected samples: {result.errors[:3]}")
        if cmd.with_nhcb:
            for labels, histograms in _custom_bucket_histograms(cmd).items():
                self.native[labels] = _as_stored(histograms, cmd.interval_ms)


class _ClassicHistogram:
    """The classic histogram of one series and time, gathered from its `_bucket`, `_count` and
    `_sum` samples (convertnhcb.TempHistogram)."""

    def __init__(self) -> None:
        self.buckets: dict[float, float] = {}
        self.count: float | None = None
        self.sum = 0.0

    def convert(self, line: int) -> FloatHistogram:
        """A histogram of custom buckets (TempHistogram.Convert)."""
        bounds = sorted(self.buckets)
        cumulative = [self.buckets[le] for le in bounds]
        if any(c < 0 for c in cumulative) or any(b < a for a, b in itertools.pairwise(cumulative)):
            raise TestFileError(line, "classic histogram buckets are not cumulative and non-negative")
        count = self.count if self.count is not None else (cumulative[-1] if cumulative else 0.0)
        if not bounds or bounds[-1] != math.inf:
            bounds.append(math.inf)
            cumulative.append(count)
        if count != cumulative[-1]:
            raise TestFileError(line, f"count mismatch: count={mathx.go_g(count)} != +Inf bucket")
        positive = {i: c - (cumulative[i - 1] if i else 0.0) for i, c in enumerate(cumulative)}
        h = FloatHistogram(schema=-53, count=count, sum=self.sum, positive=positive)
        h.custom_values = tuple(bounds[:-1])
        return h.compact()


def _custom_bucket_histograms(cmd: LoadCmd) -> dict[Labels, list[SeqValue]]:
    """The classic histograms of a `load_with_nhcb` as histograms of custom buckets, by the series
    of their base name, sample by sample (promqltest's appendCustomHistogram)."""
    gathered: dict[Labels, dict[int, _ClassicHistogram]] = {}
    for labels, values in cmd.series:
        name = _get(labels, METRIC_NAME)
        suffix = next((x for x in ("_bucket", "_count", "_sum") if name.endswith(x)), None)
        if suffix is None:
            continue
        le = math.nan
        if suffix == "_bucket":
            try:
                le = mathx.go_parse_float(_get(labels, "le"))
            except ValueError:
                continue
            if math.isnan(le):
                continue
        base = tuple(
            sorted((k, name.removesuffix(suffix) if k == METRIC_NAME else v) for k, v in labels if k != "le")
        )
        by_index = gathered.setdefault(base, {})
        for index, value in enumerate(values):
            if not isinstance(value, float) or is_stale(value):
                continue
            h = by_index.setdefault(index, _ClassicHistogram())
            if suffix == "_bucket":
                h.buckets.setdefault(le, value)
            elif suffix == "_count":
                h.count = value
            else:
                h.sum = value
    out: dict[Labels, list[SeqValue]] = {}
    for base, by_index in gathered.items():
        samples: list[SeqValue] = [None] * (max(by_index) + 1)
        for index, h in by_index.items():
            samples[index] = HistogramValue(h.convert(cmd.line), False)
        out[base] = samples
    return out


def _as_stored(values: list[SeqValue], interval_ms: int) -> list[tuple[int, float | FloatHistogram]]:
    """The samples of a series as Prometheus' TSDB gives them back: a counter histogram that follows
    another without a reset is marked not a reset; the first of a chunk (after a float, a gauge or
    a reset) is unknown unless it says it is a reset."""
    out: list[tuple[int, float | FloatHistogram]] = []
    prev: FloatHistogram | None = None
    for index, v in enumerate(values):
        if v is None:
            continue
        if not isinstance(v, HistogramValue):
            out.append((index * interval_ms, v))
            prev = None
            continue
        h = v.histogram.copy()
        if h.counter_reset_hint != CounterResetHint.GAUGE:
            if h.counter_reset_hint == CounterResetHint.COUNTER_RESET:
                pass
            elif prev is None:
                h.counter_reset_hint = CounterResetHint.UNKNOWN
            else:
                probe = h.copy()
                probe.counter_reset_hint = CounterResetHint.UNKNOWN
                reset = probe.detect_reset(prev)
                # A reset starts a new chunk, whose first sample reads back as unknown (Prometheus
                # issue 15346).
                h.counter_reset_hint = (
                    CounterResetHint.UNKNOWN if reset else CounterResetHint.NOT_COUNTER_RESET
                )
            prev = h
        else:
            prev = None
        out.append((index * interval_ms, h))
    return out


def _get(labels: Labels, name: str) -> str:
    for k, v in labels:
        if k == name:
            return v
    return ""


@dataclass
class CaseResult:
    status: str  # "passed" | "failed" | "unsupported"
    detail: str = ""


def run_eval(engine: Engine, cmd: EvalCmd) -> CaseResult:
    try:
        _run_eval(engine, cmd)
    except NativeHistogramsUnsupported as e:
        return CaseResult("unsupported", str(e))
    except _Mismatch as e:
        return CaseResult("failed", str(e))
    except Exception as e:
        return CaseResult("failed", f"engine crashed: {type(e).__name__}: {e}")
    return CaseResult("passed")


def _run_eval(engine: Engine, cmd: EvalCmd) -> None:
    try:
        if cmd.is_range:
            result = engine.range(cmd.expr, cmd.start_ms, cmd.end_ms, cmd.step_ms)
        elif cmd.range_vector:
            result = engine.instant(cmd.expr, cmd.end_ms)
        else:
            result = engine.instant(cmd.expr, cmd.start_ms)
    except NativeHistogramsUnsupported:
        raise
    except (QueryError, InvalidArgument) as e:
        if cmd.is_fail():
            _check_failure(cmd, e)
            return
        raise _Mismatch(f"error evaluating query: {e}") from e
    if cmd.is_fail():
        raise _Mismatch(f"expected error evaluating query but got none; result {result.describe()}")
    _check_annotations(cmd, result)
    if cmd.is_range or cmd.range_vector:
        compare_result(cmd, result, cmd.start_ms, cmd.step_ms, cmd.end_ms)
        return
    compare_result(cmd, result, cmd.start_ms, 0, cmd.start_ms)
    if cmd.exclude_from_range or _CONTEXT_FUNCS.search(cmd.expr) or cmd.is_ordered():
        return
    # promqltest re-runs every instant query as a range query and checks the middle step.
    try:
        ranged = engine.range(cmd.expr, cmd.start_ms - 60_000, cmd.start_ms + 60_000, 60_000)
    except NativeHistogramsUnsupported:
        raise
    except QueryError as e:
        raise _Mismatch(f"error evaluating query in range mode: {e}") from e
    middle = ranged.at(cmd.start_ms)
    if result.kind is ValueKind.SCALAR:
        middle = Result.of_scalar(float(middle.series[0].values[0]), cmd.start_ms)
    try:
        compare_result(cmd, middle, cmd.start_ms, 0, cmd.start_ms)
    except _Mismatch as e:
        raise _Mismatch(f"range mode: {e}") from e


@dataclass
class FileReport:
    path: str
    passed: int = 0
    failed: int = 0
    unsupported: int = 0
    known: int = 0
    failures: list[tuple[int, str, str, bool]] = field(default_factory=list)  # line, expr, detail, known

    @property
    def figures(self) -> str:
        """passed / all cases (the unsupported ones included)."""
        return f"{self.passed}/{self.passed + self.failed + self.unsupported}"

    @property
    def rate(self) -> float:
        total = self.passed + self.failed
        return self.passed / total if total else 1.0


def read_test_file(path: str) -> list[Command]:
    """The commands of a test file; UnusableTestFile when it cannot be read or tests nothing."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UnusableTestFile(f"{path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UnusableTestFile(f"{path}: not a text file") from None
    try:
        commands = parse_file(text)
    except TestFileError as e:
        raise UnusableTestFile(f"{path}: {e}") from None
    # A file of no test would pass, and so hide that it is the wrong file.
    if not any(isinstance(cmd, EvalCmd) for cmd in commands):
        raise UnusableTestFile(f"{path}: no eval command: not a PromQL test file")
    return commands


def run_file(
    path: str, known_failures: Mapping[str, str] | None = None, features: frozenset[str] = frozenset()
) -> FileReport:
    return _run_commands(path, read_test_file(path), known_failures, features)


def _run_commands(
    path: str, commands: list[Command], known_failures: Mapping[str, str] | None, features: frozenset[str]
) -> FileReport:
    report = FileReport(path)
    name = Path(path).name
    storage = _TestStorage()
    # Prometheus' test engine reads start timestamps (promqltest NewTestEngine: UseStartTimestamps).
    features = features | {USE_START_TIMESTAMPS}
    engine = Engine(storage, features=features)
    for cmd in commands:
        if isinstance(cmd, ClearCmd):
            storage = _TestStorage()
            engine = Engine(storage, features=features)
        elif isinstance(cmd, LoadCmd):
            storage.load(cmd)
        else:
            outcome = run_eval(engine, cmd)
            if outcome.status == "passed":
                report.passed += 1
            elif outcome.status == "unsupported":
                report.unsupported += 1
            else:
                report.failed += 1
                known = known_failures is not None and f"{name}:{cmd.line}" in known_failures
                report.known += known
                report.failures.append((cmd.line, cmd.expr, outcome.detail, known))
    return report


def run_files(
    paths: list[str],
    out: TextIO,
    known_failures: Mapping[str, str] | None = None,
    features: frozenset[str] = frozenset(),
) -> int:
    """Run test files, print per-file and total counts and every failing case.

    `features` are the engine's enabled Prometheus features (query/features.py). Returns 0 only when
    every failure is in `known_failures` (keys `file.test:line`). Every file is read first:
    UnusableTestFile, before any test ran, when one cannot be.
    """
    files = [(path, read_test_file(path)) for path in paths]
    totals = FileReport("total")
    unexpected = 0
    for path, commands in files:
        try:
            report = _run_commands(path, commands, known_failures, features)
        except TestFileError as e:
            out.write(f"{path}: cannot run: {e}\n")
            unexpected += 1
            continue
        name = Path(path).name
        for line, expr, detail, known in report.failures:
            tag = "KNOWN FAILURE" if known else "FAIL"
            out.write(f"{tag} {name}:{line}: {expr}\n    {detail}\n")
        out.write(
            f"{name}: passed {report.passed}, failed {report.failed} ({report.known} known), "
            f"unsupported {report.unsupported}, pass rate {report.rate:.1%}, passed/all {report.figures}\n"
        )
        totals.passed += report.passed
        totals.failed += report.failed
        totals.unsupported += report.unsupported
        totals.known += report.known
        unexpected += report.failed - report.known
    out.write(
        f"TOTAL: passed {totals.passed}, failed {totals.failed} ({totals.known} known), "
        f"unsupported {totals.unsupported}, pass rate {totals.rate:.1%}, passed/all {totals.figures}\n"
    )
    return 0 if unexpected == 0 else 1


def load_known_failures(path: str | Path) -> dict[str, str]:
    """`file.test:line reason...` per line; `#` starts a comment."""
    known: dict[str, str] = {}
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, reason = line.partition(" ")
        known[key] = reason.strip()
    return known


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    known = None
    features: set[str] = set()
    while args[:1] and args[0].startswith("--"):
        if args[0] == "--known-failures" and len(args) > 1:
            known = load_known_failures(args[1])
            args = args[2:]
        elif args[0].startswith("--enable-feature=") and args[0].partition("=")[2] in KNOWN_FEATURES:
            features.add(args[0].partition("=")[2])
            args = args[1:]
        else:
            sys.stderr.write(f"promqltest: unknown option {args[0]!r}\n")
            return 2
    if not args:
        sys.stderr.write(
            "usage: python -m alerting_server.tools.promqltest [--known-failures FILE] "
            f"[--enable-feature=NAME ({', '.join(sorted(KNOWN_FEATURES))})]... FILE...\n"
        )
        return 2
    try:
        return run_files(args, sys.stdout, known, frozenset(features))
    except UnusableTestFile as e:
        sys.stderr.write(f"promqltest: {e}\n")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
