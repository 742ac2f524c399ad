"""The test files of `promtool test rules`, read as strictly as promtool's yaml.UnmarshalStrict does."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from alerting_common import yamlerrors
from alerting_common.durations import parse_duration
from alerting_server.rules import goyaml

DEFAULT_EVALUATION_INTERVAL_MS = 60_000


class TestFileError(Exception):
    """A test file that cannot be read: promtool reports it and fails the file."""

    __test__ = False  # not a pytest class


@dataclass(frozen=True)
class InputSeries:
    series: str
    values: str


@dataclass(frozen=True)
class ExpAlert:
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True)
class AlertTestCase:
    eval_time: int
    alertname: str
    exp_alerts: tuple[ExpAlert, ...]


@dataclass(frozen=True)
class ExpSample:
    labels: str
    value: float
    histogram: str = ""


@dataclass(frozen=True)
class PromqlTestCase:
    expr: str
    eval_time: int
    exp_samples: tuple[ExpSample, ...]


@dataclass(frozen=True)
class TestGroup:
    __test__ = False

    interval: int
    input_series: tuple[InputSeries, ...] = ()
    alert_rule_test: tuple[AlertTestCase, ...] = ()
    promql_expr_test: tuple[PromqlTestCase, ...] = ()
    external_labels: dict[str, str] = field(default_factory=dict)
    external_url: str = ""
    name: str = ""
    start_ms: int = 0


@dataclass(frozen=True)
class UnitTestFile:
    rule_files: tuple[str, ...]
    evaluation_interval: int
    group_eval_order: tuple[str, ...]
    tests: tuple[TestGroup, ...]
    fuzzy_compare: bool = False


def _map(node: Any, go_type: str, keys: set[str]) -> Mapping[str, Any]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise TestFileError(f"cannot unmarshal {type(node).__name__} into {go_type}")
    for key in node:
        if key not in keys:
            raise TestFileError(f"field {key} not found in type {go_type}")
    return node


def _list(node: Any, what: str) -> list[Any]:
    if node is None:
        return []
    if not isinstance(node, list):
        raise TestFileError(f"{what} must be a list")
    return node


def _str(node: Any, what: str) -> str:
    if node is None:
        return ""
    if not isinstance(node, str):
        raise TestFileError(f"{what} must be a string")
    return node


def _duration(node: Any, what: str) -> int:
    text = _str(node, what)
    if not text:
        return 0
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise TestFileError(f"{what}: {exc}") from None


def _string_map(node: Any, what: str) -> dict[str, str]:
    if node is None:
        return {}
    if not isinstance(node, dict):
        raise TestFileError(f"{what} must be a map of strings")
    return {str(k): _str(v, f"{what}.{k}") for k, v in node.items()}


def _float(node: Any, what: str) -> float:
    text = _str(node, what) or "0"
    try:
        return float(int(text, 0)) if text.lstrip("+-").isdigit() else float(text)
    except ValueError:
        raise TestFileError(f"{what}: cannot unmarshal {text!r} into float64") from None


def _start_ms(node: Any) -> int:
    """start_timestamp: RFC 3339 or Unix seconds."""
    text = _str(node, "start_timestamp")
    if not text:
        return 0
    try:
        return round(float(text) * 1000)
    except ValueError:
        pass
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise TestFileError(f"start_timestamp: cannot parse {text!r} as RFC3339 or Unix time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return round(parsed.timestamp() * 1000)


def _alert_test(node: Any) -> AlertTestCase:
    m = _map(node, "main.alertTestCase", {"eval_time", "alertname", "exp_alerts"})
    exp = []
    for a in _list(m.get("exp_alerts"), "exp_alerts"):
        am = _map(a, "main.alert", {"exp_labels", "exp_annotations"})
        exp.append(
            ExpAlert(
                _string_map(am.get("exp_labels"), "exp_labels"),
                _string_map(am.get("exp_annotations"), "exp_annotations"),
            )
        )
    return AlertTestCase(
        _duration(m.get("eval_time"), "eval_time"), _str(m.get("alertname"), "alertname"), tuple(exp)
    )


def _promql_test(node: Any) -> PromqlTestCase:
    m = _map(node, "main.promqlTestCase", {"expr", "eval_time", "exp_samples"})
    samples = []
    for s in _list(m.get("exp_samples"), "exp_samples"):
        sm = _map(s, "main.sample", {"labels", "value", "histogram"})
        samples.append(
            ExpSample(
                _str(sm.get("labels"), "labels"),
                _float(sm.get("value"), "value"),
                _str(sm.get("histogram"), "histogram"),
            )
        )
    return PromqlTestCase(
        _str(m.get("expr"), "expr"), _duration(m.get("eval_time"), "eval_time"), tuple(samples)
    )


_GROUP_KEYS = {
    "interval",
    "input_series",
    "alert_rule_test",
    "promql_expr_test",
    "external_labels",
    "external_url",
    "name",
    "start_timestamp",
}


def _test_group(node: Any, default_interval: int) -> TestGroup:
    m = _map(node, "main.testGroup", _GROUP_KEYS)
    series = []
    for s in _list(m.get("input_series"), "input_series"):
        sm = _map(s, "main.series", {"series", "values"})
        series.append(InputSeries(_str(sm.get("series"), "series"), _str(sm.get("values"), "values")))
    return TestGroup(
        interval=_duration(m.get("interval"), "interval") or default_interval,
        input_series=tuple(series),
        alert_rule_test=tuple(_alert_test(a) for a in _list(m.get("alert_rule_test"), "alert_rule_test")),
        promql_expr_test=tuple(_promql_test(p) for p in _list(m.get("promql_expr_test"), "promql_expr_test")),
        external_labels=_string_map(m.get("external_labels"), "external_labels"),
        external_url=_str(m.get("external_url"), "external_url"),
        name=_str(m.get("name"), "name"),
        start_ms=_start_ms(m.get("start_timestamp")),
    )


def parse_unit_test_file(text: str) -> UnitTestFile:
    try:
        doc = goyaml.load(text)
    except yaml.YAMLError as exc:
        raise TestFileError(f"yaml: {yamlerrors.describe(exc)}") from None
    m = _map(
        doc,
        "main.unitTestFile",
        {"rule_files", "evaluation_interval", "group_eval_order", "tests", "fuzzy_compare"},
    )
    interval = (
        _duration(m.get("evaluation_interval"), "evaluation_interval") or DEFAULT_EVALUATION_INTERVAL_MS
    )
    fuzzy = _str(m.get("fuzzy_compare"), "fuzzy_compare")
    if fuzzy not in ("", "true", "false"):
        raise TestFileError(f"fuzzy_compare: cannot unmarshal {fuzzy!r} into bool")
    return UnitTestFile(
        rule_files=tuple(_str(f, "rule_files") for f in _list(m.get("rule_files"), "rule_files")),
        evaluation_interval=interval,
        group_eval_order=tuple(
            _str(g, "group_eval_order") for g in _list(m.get("group_eval_order"), "group_eval_order")
        ),
        tests=tuple(_test_group(t, interval) for t in _list(m.get("tests"), "tests")),
        fuzzy_compare=fuzzy == "true",
    )
