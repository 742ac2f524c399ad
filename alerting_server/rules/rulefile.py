"""Prometheus rule files (the `groups:` YAML of rulefmt) to and from our Rule model.

A rule's `severity` is the label `severity` of the file; every other field maps one to one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from alerting_common import yamlerrors
from alerting_common.durations import format_duration, parse_duration
from alerting_server.errors import InvalidArgument, Violations
from alerting_server.model import Rule, RuleType
from alerting_server.model.rule import DEFAULT_GROUP
from alerting_server.rules import goyaml

_GROUP_KEYS = {"name", "interval", "rules", "query_offset", "limit", "labels"}
_RULE_KEYS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}
# Where our field names differ from the file's.
_FILE_FIELD = {"query": "expr", "duration": "for", "name": "alert"}


@dataclass(frozen=True)
class RuleGroup:
    name: str
    interval: int | None
    rules: tuple[Rule, ...]


def file_field(field: str) -> str:
    """The rule-file name of a Rule field, for error messages about a file."""
    head, dot, rest = field.partition(".")
    return _FILE_FIELD.get(head, head) + dot + rest


def _duration(value: Any, path: str, violations: Violations) -> int | None:
    if value is None:
        return None
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        violations.add(path, str(exc))
        return None


def _string_map(value: Any, path: str, violations: Violations) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        violations.add(path, "must be a map of strings")
        return {}
    result: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            violations.add(f"{path}.{k}", "must be a string")
            continue
        result[str(k)] = v
    return result


def _parse_rule(
    node: Any, group: str, interval: int | None, path: str, violations: Violations
) -> Rule | None:
    if not isinstance(node, dict):
        violations.add(path, "must be a map")
        return None
    for key in node:
        if key not in _RULE_KEYS:
            violations.add(f"{path}.{key}", f"field {key} not found in type rulefmt.Rule")
    alert, record = node.get("alert"), node.get("record")
    if (alert is None) == (record is None):
        violations.add(path, "one of 'record' or 'alert' must be set")
        return None
    expr = node.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        violations.add(f"{path}.expr", "field 'expr' must be set in rule")
        expr = ""
    labels = _string_map(node.get("labels"), f"{path}.labels", violations)
    annotations = _string_map(node.get("annotations"), f"{path}.annotations", violations)
    if record is not None:
        for key in ("for", "keep_firing_for", "annotations"):
            if node.get(key) is not None:
                violations.add(f"{path}.{key}", f"invalid field '{key}' in recording rule")
        return Rule(
            name=str(record),
            query=expr,
            type=RuleType.RECORDING,
            labels=labels,
            group=group,
            interval=interval,
        )
    severity = labels.pop("severity", "")
    return Rule(
        name=str(alert),
        query=expr,
        type=RuleType.ALERTING,
        duration=_duration(node.get("for"), f"{path}.for", violations) or 0,
        keep_firing_for=_duration(node.get("keep_firing_for"), f"{path}.keep_firing_for", violations) or 0,
        severity=severity,
        labels=labels,
        annotations=annotations,
        group=group,
        interval=interval,
    )


def parse_rule_file(content: str, field: str = "content") -> list[RuleGroup]:
    """The groups of a rule file; InvalidArgument naming `field` and the place in the file when malformed."""
    try:
        doc = goyaml.load(content)
    except yaml.YAMLError as exc:
        raise InvalidArgument.field(
            field, f"not a valid YAML rule file: {yamlerrors.describe(exc)}"
        ) from None
    if doc is None:
        return []
    if not isinstance(doc, dict) or set(doc) - {"groups"}:
        raise InvalidArgument.field(field, "a rule file is a map with the single key 'groups'")
    groups_node = doc.get("groups") or []
    if not isinstance(groups_node, list):
        raise InvalidArgument.field(f"{field}.groups", "must be a list")
    violations = Violations()
    groups: list[RuleGroup] = []
    seen: set[str] = set()
    for gi, gnode in enumerate(groups_node):
        gpath = f"{field}.groups[{gi}]"
        if not isinstance(gnode, dict):
            violations.add(gpath, "must be a map")
            continue
        for key in gnode:
            if key not in _GROUP_KEYS:
                violations.add(f"{gpath}.{key}", f"field {key} not found in type rulefmt.RuleGroup")
        name = gnode.get("name")
        if not isinstance(name, str) or not name:
            violations.add(f"{gpath}.name", "groupname must not be empty")
            continue
        if name in seen:
            violations.add(f"{gpath}.name", f"groupname: {name!r} is repeated in the same file")
        seen.add(name)
        interval = _duration(gnode.get("interval"), f"{gpath}.interval", violations)
        rules_node = gnode.get("rules") or []
        if not isinstance(rules_node, list):
            violations.add(f"{gpath}.rules", "must be a list")
            continue
        rules = []
        for ri, rnode in enumerate(rules_node):
            rule = _parse_rule(rnode, name, interval, f"{gpath}.rules[{ri}]", violations)
            if rule is not None:
                rules.append(rule)
        groups.append(RuleGroup(name, interval, tuple(rules)))
    violations.raise_if_any()
    return groups


def _rule_node(rule: Rule) -> dict[str, Any]:
    labels = dict(rule.labels)
    if rule.type is RuleType.RECORDING:
        node: dict[str, Any] = {"record": rule.name, "expr": rule.query}
        if labels:
            node["labels"] = labels
        return node
    node = {"alert": rule.name, "expr": rule.query}
    if rule.duration:
        node["for"] = format_duration(rule.duration)
    if rule.keep_firing_for:
        node["keep_firing_for"] = format_duration(rule.keep_firing_for)
    if rule.severity:
        labels["severity"] = rule.severity
    if labels:
        node["labels"] = labels
    if rule.annotations:
        node["annotations"] = dict(rule.annotations)
    return node


def dump_rule_file(rules: Iterable[Rule]) -> str:
    """A Prometheus rule file holding `rules`, grouped by group in first-seen order."""
    groups: dict[str, list[Rule]] = {}
    for rule in rules:
        groups.setdefault(rule.group or DEFAULT_GROUP, []).append(rule)
    doc_groups = []
    for name, members in groups.items():
        gnode: dict[str, Any] = {"name": name}
        interval = next((r.interval for r in members if r.interval is not None), None)
        if interval is not None:
            gnode["interval"] = format_duration(interval)
        gnode["rules"] = [_rule_node(r) for r in members]
        doc_groups.append(gnode)
    return yaml.safe_dump({"groups": doc_groups}, sort_keys=False, allow_unicode=True)
