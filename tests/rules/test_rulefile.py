from __future__ import annotations

import pytest

from alerting_server.errors import InvalidArgument
from alerting_server.model import Rule, RuleType
from alerting_server.rules.rulefile import dump_rule_file, parse_rule_file

FILE = """
groups:
  - name: node
    interval: 1m
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {tier: "1"}
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        keep_firing_for: 10m
        labels: {severity: page, team: ops}
        annotations:
          summary: "{{ $labels.instance }} down"
  - name: other
    rules: []
"""


def test_parse_maps_every_field() -> None:
    node, other = parse_rule_file(FILE)
    assert (node.name, node.interval, other.name, other.rules) == ("node", 60_000, "other", ())
    record, alert = node.rules
    assert record == Rule(
        name="job:up:sum",
        query="sum by (job) (up)",
        type=RuleType.RECORDING,
        labels={"tier": "1"},
        group="node",
        interval=60_000,
    )
    assert alert == Rule(
        name="InstanceDown",
        query="up == 0",
        duration=300_000,
        keep_firing_for=600_000,
        severity="page",
        labels={"team": "ops"},
        annotations={"summary": "{{ $labels.instance }} down"},
        group="node",
        interval=60_000,
    )


def test_dump_then_parse_is_identity() -> None:
    rules = [r for g in parse_rule_file(FILE) for r in g.rules]
    assert [r for g in parse_rule_file(dump_rule_file(rules)) for r in g.rules] == rules


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("groups: [{name: g, rules: [{alert: A, expr: up, for: 5x}]}]", "content.groups[0].rules[0].for"),
        ("groups: [{name: g, rules: [{expr: up}]}]", "content.groups[0].rules[0]"),
        ("groups: [{name: g, rules: [{alert: A, record: b, expr: up}]}]", "content.groups[0].rules[0]"),
        ("groups: [{name: g, rules: [{alert: A}]}]", "content.groups[0].rules[0].expr"),
        (
            "groups: [{name: g, rules: [{alert: A, expr: up, colour: red}]}]",
            "content.groups[0].rules[0].colour",
        ),
        ("groups: [{name: g, rules: [{record: r, expr: up, for: 1m}]}]", "content.groups[0].rules[0].for"),
        ("groups: [{name: g, rules: []}, {name: g, rules: []}]", "content.groups[1].name"),
        ("groups: [{rules: []}]", "content.groups[0].name"),
        ("groups: {name: g}", "content.groups"),
        ("rules: []", "content"),
        ("groups: [", "content"),
    ],
)
def test_bad_files_name_the_place(text: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        parse_rule_file(text)
    assert field in [v.field for v in info.value.violations]


def test_empty_file_has_no_groups() -> None:
    assert parse_rule_file("") == []


def test_scalars_are_strings_as_go_reads_them() -> None:
    [group] = parse_rule_file(
        "groups: [{name: g, rules: [{alert: 1, expr: 1, labels: {severity: 2, on: true}}]}]"
    )
    [rule] = group.rules
    assert (rule.name, rule.query, rule.severity, rule.labels) == ("1", "1", "2", {"on": "true"})
