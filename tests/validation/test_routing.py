from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from alerting_server.model import InhibitRule, Route
from alerting_server.validation.resources import validate_inhibit_rule, validate_route
from tests.validation.helpers import violations_of

CHANNELS = {"ops-slack", "ch-1", "pager"}
POLICIES = {"pol-1"}
ROOT = Route(
    receiver="ops-slack",
    group_by=("alertname",),
    group_wait=30_000,
    group_interval=300_000,
    repeat_interval=14_400_000,
    routes=(
        Route(matchers=('severity="critical"',), receiver="pager", escalation_policy_id="pol-1"),
        Route(
            matchers=('team=~"db|infra"',),
            continue_=True,
            group_by=("...",),
            routes=(Route(matchers=("env=prod",), receiver="ch-1", group_wait=0),),
        ),
    ),
)


def route_errors(route: Route) -> dict[str, str]:
    return violations_of(lambda: validate_route(route, CHANNELS, POLICIES))


def test_valid_tree() -> None:
    validate_route(ROOT, CHANNELS, POLICIES)
    validate_route(Route(receiver="ch-1"), CHANNELS, POLICIES)


def child(**changes: Any) -> Route:
    """ROOT with its second route's child replaced by one with `changes`."""
    leaf = dataclasses.replace(ROOT.routes[1].routes[0], **changes)
    middle = dataclasses.replace(ROOT.routes[1], routes=(leaf,))
    return dataclasses.replace(ROOT, routes=(ROOT.routes[0], middle))


@pytest.mark.parametrize(
    ("route", "field", "reason"),
    [
        (dataclasses.replace(ROOT, receiver=""), "receiver", "the root route must have a receiver"),
        (dataclasses.replace(ROOT, receiver="nope"), "receiver", "no channel with id or name 'nope'"),
        (dataclasses.replace(ROOT, matchers=("a=b",)), "matchers", "must not have matchers"),
        (dataclasses.replace(ROOT, continue_=True), "continue", "the root route cannot have continue"),
        (dataclasses.replace(ROOT, group_by=("bad-label",)), "group_by[0]", "invalid label name 'bad-label'"),
        (dataclasses.replace(ROOT, group_by=("a", "a")), "group_by[1]", "duplicated label 'a'"),
        (dataclasses.replace(ROOT, group_by=("...", "a")), "group_by", 'cannot group by "..." (all labels)'),
        (dataclasses.replace(ROOT, group_wait=-1), "group_wait", "must not be negative"),
        (dataclasses.replace(ROOT, group_interval=0), "group_interval", "must be greater than zero"),
        (dataclasses.replace(ROOT, repeat_interval=0), "repeat_interval", "must be greater than zero"),
        (child(receiver="ghost"), "routes[1].routes[0].receiver", "no channel with id or name 'ghost'"),
        (child(matchers=("a=b", "c!")), "routes[1].routes[0].matchers[1]", "bad matcher format: c!"),
        (
            child(escalation_policy_id="nope"),
            "routes[1].routes[0].escalation_policy_id",
            "no escalation policy",
        ),
        (child(repeat_interval=-5), "routes[1].routes[0].repeat_interval", "must not be negative"),
        (child(group_by=("ok", "1bad")), "routes[1].routes[0].group_by[1]", "invalid label name '1bad'"),
    ],
)
def test_invalid_routes(route: Route, field: str, reason: str) -> None:
    found = route_errors(route)
    assert list(found) == [field]
    assert reason in found[field]


def test_child_routes_may_inherit_everything() -> None:
    validate_route(dataclasses.replace(ROOT, routes=(Route(),)), CHANNELS, POLICIES)


def test_depth_and_size_caps() -> None:
    deep = Route(receiver="ch-1")
    for _ in range(40):
        deep = Route(routes=(deep,))
    found = route_errors(Route(receiver="ch-1", routes=(deep,)))
    assert list(found) == ["routes[0]" + ".routes[0]" * 31 + ".routes"]
    assert "at most 32 levels deep" in next(iter(found.values()))
    wide = Route(receiver="ch-1", routes=tuple(Route() for _ in range(2500)))
    assert route_errors(wide) == {"routes": "at most 2000 routes in the tree, got 2001"}


def test_every_bad_field_in_the_tree_is_reported() -> None:
    bad = dataclasses.replace(
        ROOT,
        receiver="",
        group_interval=0,
        routes=(Route(matchers=("x",), receiver="nope"), Route(routes=(Route(group_wait=-1),))),
    )
    assert set(route_errors(bad)) == {
        "receiver",
        "group_interval",
        "routes[0].matchers[0]",
        "routes[0].receiver",
        "routes[1].routes[0].group_wait",
    }


INHIBIT = InhibitRule(
    source_matchers=('severity="critical"',),
    target_matchers=('severity=~"warning|info"',),
    equal=("host", "cluster"),
)


def inhibit_errors(**changes: Any) -> dict[str, str]:
    return violations_of(lambda: validate_inhibit_rule(dataclasses.replace(INHIBIT, **changes)))


def test_valid_inhibit_rules() -> None:
    validate_inhibit_rule(INHIBIT)
    validate_inhibit_rule(dataclasses.replace(INHIBIT, equal=()))


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"source_matchers": ()}, "source_matchers", "at least one matcher is required"),
        ({"target_matchers": ()}, "target_matchers", "at least one matcher is required"),
        ({"source_matchers": ("severity=",)}, "source_matchers[0]", "matcher value is not present"),
        ({"target_matchers": ('a="1"', 'b=~"["')}, "target_matchers[1]", "missing closing ]"),
        ({"equal": ("host", "bad label")}, "equal[1]", "invalid label name 'bad label'"),
        ({"equal": ("host", "host")}, "equal[1]", "duplicated label 'host'"),
        ({"equal": tuple(f"l{i}" for i in range(65))}, "equal", "at most 64 labels"),
    ],
)
def test_invalid_inhibit_rules(changes: dict[str, Any], field: str, reason: str) -> None:
    found = inhibit_errors(**changes)
    assert list(found) == [field]
    assert reason in found[field]
