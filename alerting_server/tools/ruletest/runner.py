"""`promtool test rules`: run Prometheus rule unit-test files, with promtool's output and exit codes.

Each test group loads its input series into a fresh store, evaluates every rule group from
time 0 (or `start_timestamp`) to the last `eval_time` every `evaluation_interval`, feeding
input samples lazily up to each evaluation time as promtool's LazyLoader does; alert tests are
checked after the evaluation at or just before their `eval_time`, PromQL tests at the end.
Input series and expected samples may be native histograms (`{{schema:0 count:3 ...}}`), compared
as promtool does, by their test expression.
"""

from __future__ import annotations

import glob
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from alerting_common.durations import format_duration
from alerting_server.errors import AlertingError, InvalidArgument
from alerting_server.model.alert import AlertState
from alerting_server.query.engine import Engine, parse
from alerting_server.query.labels import Labels, format_labels
from alerting_server.query.tsdb import TSDB, Sample, histogram_sample
from alerting_server.rules.alerting import ALERT_NAME_LABEL, AlertingRule
from alerting_server.rules.group import Group
from alerting_server.rules.rulefile import RuleGroup, parse_rule_file
from alerting_server.rules.vector import engine_query_func
from alerting_server.templating.gofmt import format_float
from alerting_server.templating.gotime import format_duration as go_duration
from alerting_server.templating.strconv import go_quote
from alerting_server.tools.promqltest import HistogramValue, parse_series_desc, parse_values
from alerting_server.tools.promqltest import TestFileError as SeriesError
from alerting_server.tools.ruletest.testfile import (
    TestFileError,
    TestGroup,
    UnitTestFile,
    parse_unit_test_file,
)

_NO_RETENTION_MS = 1 << 62


@dataclass(frozen=True)
class _LoadedGroup:
    file: str
    group: RuleGroup


def run_rule_tests(paths: Sequence[str], out: TextIO, err: TextIO | None = None) -> int:
    """RulesUnitTest: 0 when every test of every file passes, 1 otherwise (failures go to `err`)."""
    err = err or out
    failed = False
    for path in paths:
        out.write(f"Unit Testing:  {path}\n")
        errors = _run_file(path, err)
        if errors:
            err.write("  FAILED:\n")
            for e in errors:
                err.write(e + "\n")
                out.write("\n")
            failed = True
        else:
            out.write("  SUCCESS\n")
        out.write("\n")
    return 1 if failed else 0


def _run_file(path: str, err: TextIO) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            spec = parse_unit_test_file(f.read())
    except OSError as exc:
        return [f"open {path}: {exc.strerror}"]
    except UnicodeDecodeError:
        return [f"read {path}: not a text file"]
    except TestFileError as exc:
        return [str(exc)]
    order: dict[str, int] = {}
    for i, name in enumerate(spec.group_eval_order):
        if name in order:
            return [f"group name repeated in evaluation order: {name}"]
        order[name] = i
    rule_files = _resolve(os.path.dirname(path), spec.rule_files, err)
    errors: list[str] = []
    for tg in spec.tests:
        errors.extend(_run_group(tg, spec, rule_files, order))
    return errors


def _resolve(base: str, patterns: Sequence[str], err: TextIO) -> list[str]:
    files: list[str] = []
    for pattern in patterns:
        full = pattern if not pattern or os.path.isabs(pattern) else os.path.join(base, pattern)
        matches = sorted(glob.glob(full))
        if not matches:
            err.write(f"  WARNING: no file match pattern {full}\n")
        files.extend(matches)
    return files


def _load_rules(files: Sequence[str]) -> tuple[list[_LoadedGroup], list[str]]:
    groups: list[_LoadedGroup] = []
    errors: list[str] = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                parsed = parse_rule_file(f.read(), field=path)
        except OSError as exc:
            errors.append(f"{path}: {exc.strerror}")
            continue
        except UnicodeDecodeError:
            errors.append(f"{path}: not a text file")
            continue
        except InvalidArgument as exc:
            errors.extend(f"{v.field}: {v.description}" for v in exc.violations)
            continue
        for group in parsed:
            for i, rule in enumerate(group.rules):
                try:
                    parse(rule.query)
                except InvalidArgument as exc:
                    errors.append(
                        f"{path}: group {go_quote(group.name)}, rule {i + 1}, {go_quote(rule.name)}: "
                        f"could not parse expression: {exc.message}"
                    )
            groups.append(_LoadedGroup(path, group))
    return groups, errors


def _input_samples(tg: TestGroup) -> list[Sample]:
    samples: list[Sample] = []
    for s in tg.input_series:
        try:
            labels, _ = parse_series_desc(s.series, 0)
            values = parse_values(s.values, 0)
        except (SeriesError, IndexError, ValueError, SyntaxError) as exc:
            raise TestFileError(f"    input series {go_quote(s.series)}: cannot parse: {exc}") from None
        if not labels:
            raise TestFileError(f"    input series {go_quote(s.series)}: no metric name or labels")
        for i, v in enumerate(values):
            if isinstance(v, HistogramValue):
                samples.append(histogram_sample(labels, tg.start_ms + i * tg.interval, v.histogram))
            elif isinstance(v, float):
                samples.append(Sample(labels, tg.start_ms + i * tg.interval, v))
    samples.sort(key=lambda x: x.t_ms)
    return samples


_Alert = tuple[Labels, Labels]


def _alerts_string(alerts: list[_Alert]) -> str:
    if not alerts:
        return "[]"
    parts = []
    for i, (labels, notes) in enumerate(alerts):
        body = f"\nLabels:{format_labels(labels)}\nAnnotations:{format_labels(notes)}"
        parts.append(f"{i}:" + body.replace("\n", "\n  "))
    return "[\n" + ",\n".join(parts) + "\n]"


# A sample as promtool's parsedSample: labels, value, and the test expression of its histogram ("" for
# a float, whose value is then what counts; a histogram sample's value is 0 as promql.Sample.F is).
_Parsed = tuple[Labels, float, str]


def _samples_string(samples: list[_Parsed]) -> str:
    if not samples:
        return "nil"
    return ", ".join(
        f"{format_labels(labels)} {h}" if h else f"{format_labels(labels)} {format_float(v, 'E', -1)}"
        for labels, v, h in samples
    )


def _expected_histogram(text: str) -> str:
    """The test expression of an expected sample's `histogram` (promtool parses it as a series of one)."""
    if not text:
        return ""
    values = parse_values(text, 0)
    if len(values) != 1:
        raise ValueError(f"expected 1 value, got {len(values)}")
    value = values[0]
    if not isinstance(value, HistogramValue):
        raise ValueError(f"expected histogram, got {value}")
    return value.histogram.test_expression()


def _floats_equal(a: float, b: float, fuzzy: bool) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if fuzzy:
        return abs(a - b) <= max(math.ulp(a), math.ulp(b))
    return a == b


def _run_group(
    tg: TestGroup, spec: UnitTestFile, rule_files: Sequence[str], order: dict[str, int]
) -> list[str]:
    try:
        pending = _input_samples(tg)
    except TestFileError as exc:
        return [str(exc)]
    loaded, load_errors = _load_rules(rule_files)
    if load_errors:
        return load_errors
    loaded.sort(key=lambda lg: order.get(lg.group.name, 0))
    groups = [
        Group(
            lg.group.name,
            lg.group.rules,
            tg.interval,
            file=lg.file,
            external_labels=tg.external_labels,
            external_url=tg.external_url,
        )
        for lg in loaded
    ]
    storage = TSDB(retention_ms=_NO_RETENTION_MS)
    engine = Engine(storage, subquery_step_ms=spec.evaluation_interval)
    query = engine_query_func(engine)

    for a in tg.alert_rule_test:
        if not a.alertname:
            where = f" (in TestGroup {tg.name})" if tg.name else ""
            return [
                "an item under alert_rule_test misses required attribute alertname at eval_time "
                f"{format_duration(a.eval_time)}{where}"
            ]
    alert_times = sorted({a.eval_time for a in tg.alert_rule_test})
    max_eval = max(
        [a.eval_time for a in tg.alert_rule_test] + [p.eval_time for p in tg.promql_expr_test] + [0]
    )
    mint = tg.start_ms
    errors: list[str] = []
    curr = 0
    loaded_upto = 0
    interval = spec.evaluation_interval
    ts = mint
    while ts <= mint + max_eval:
        end = loaded_upto
        while end < len(pending) and pending[end].t_ms <= ts:
            end += 1
        storage.append(pending[loaded_upto:end])
        loaded_upto = end
        eval_errors = []
        for g in groups:
            g.eval(ts, query, storage)
            for rule, status in zip(g.rules, g.status, strict=True):
                if status.last_error:
                    at = go_duration(ts * 1_000_000)
                    eval_errors.append(f"    rule: {rule.name}, time: {at}, err: {status.last_error}")
        errors.extend(eval_errors)
        if eval_errors:
            return errors
        while curr < len(alert_times) and ts - mint <= alert_times[curr] < ts + interval - mint:
            errors.extend(_check_alerts(tg, groups, alert_times[curr]))
            curr += 1
        ts += interval

    for p in tg.promql_expr_test:
        try:
            got_vector = query(p.expr, mint + p.eval_time)
        except AlertingError as exc:
            errors.append(
                f"    expr: {go_quote(p.expr)}, time: {format_duration(p.eval_time)}, err: {exc.message}"
            )
            continue
        try:
            exp = sorted(
                (parse_series_desc(s.labels, 0)[0], s.value, _expected_histogram(s.histogram))
                for s in p.exp_samples
            )
        except (SeriesError, IndexError, ValueError, SyntaxError) as exc:
            errors.append(f"    expr: {go_quote(p.expr)}, time: {format_duration(p.eval_time)}, err: {exc}")
            continue
        got = sorted(
            (s.labels, s.value, "" if s.histogram is None else s.histogram.test_expression())
            for s in got_vector
        )
        same = len(exp) == len(got) and all(
            el == gl and _floats_equal(ev, gv, spec.fuzzy_compare) and eh == gh
            for (el, ev, eh), (gl, gv, gh) in zip(exp, got, strict=True)
        )
        if not same:
            errors.append(
                f"    expr: {go_quote(p.expr)}, time: {format_duration(p.eval_time)},\n"
                f"        exp: {_samples_string(exp)}\n        got: {_samples_string(got)}"
            )
    return errors


def _check_alerts(tg: TestGroup, groups: list[Group], eval_time: int) -> list[str]:
    wanted = {a.alertname for a in tg.alert_rule_test if a.eval_time == eval_time}
    got: dict[str, list[_Alert]] = {}
    for g in groups:
        for rule in g.rules:
            if isinstance(rule, AlertingRule) and rule.name in wanted:
                got.setdefault(rule.name, []).extend(
                    (tuple(sorted(a.labels.items())), tuple(sorted(a.annotations.items())))
                    for a in rule.alerts()
                    if a.state is AlertState.FIRING
                )
    errors = []
    for case in (a for a in tg.alert_rule_test if a.eval_time == eval_time):
        exp = sorted(
            (
                tuple(sorted({**e.labels, ALERT_NAME_LABEL: case.alertname}.items())),
                tuple(sorted(e.annotations.items())),
            )
            for e in case.exp_alerts
        )
        actual = sorted(got.get(case.alertname, []))
        if exp != actual:
            name = f"    name: {tg.name},\n" if tg.name else ""
            exp_s = _alerts_string(exp).replace("\n", "\n            ")
            got_s = _alerts_string(actual).replace("\n", "\n            ")
            errors.append(
                f"{name}    alertname: {case.alertname}, time: {format_duration(case.eval_time)}, \n"
                f"        exp:{exp_s}, \n        got:{got_s}"
            )
    return errors


def main(argv: Sequence[str] | None = None) -> int:
    return run_rule_tests(list(sys.argv[1:] if argv is None else argv), sys.stdout, sys.stderr)
