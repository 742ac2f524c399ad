"""Ported from Alertmanager dispatch/route_test.go (TestRouteMatchers, TestRouteWalk, group_by)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from alerting_server.alerts import RouteOpts, compile_routes, format_labels
from alerting_server.model import Route

MIN = 60_000
DEF = RouteOpts("notify-def", frozenset(), False, 30_000, 5 * MIN, 4 * 60 * MIN, "")

TREE = Route(
    receiver="notify-def",
    routes=(
        Route(
            matchers=('owner="team-A"', 'level!="critical"'),
            receiver="notify-A",
            routes=(
                Route(
                    matchers=('env="testing"', 'baz!~".*quux"'), receiver="notify-testing", group_by=("...",)
                ),
                Route(
                    matchers=('env="production"',),
                    receiver="notify-productionA",
                    group_wait=MIN,
                    continue_=True,
                ),
                Route(
                    matchers=('env=~"produ.*"', 'job=~".*"'),
                    receiver="notify-productionB",
                    group_wait=30_000,
                    group_interval=5 * MIN,
                    repeat_interval=60 * MIN,
                    group_by=("job",),
                ),
            ),
        ),
        Route(
            matchers=('owner=~"team-(B|C)"',),
            group_by=("foo", "bar"),
            group_wait=2 * MIN,
            receiver="notify-BC",
        ),
        Route(
            matchers=('group_by="role"',),
            group_by=("role",),
            routes=(
                Route(
                    matchers=('env="testing"',),
                    receiver="notify-testing",
                    routes=(Route(matchers=('wait="long"',), group_wait=2 * MIN),),
                ),
            ),
        ),
    ),
)


A = '{}/{level!="critical",owner="team-A"}'


@pytest.mark.parametrize(
    ("labels", "expected", "keys"),
    [
        ({"owner": "team-A"}, [replace(DEF, receiver="notify-A")], [A]),
        ({"owner": "team-A", "env": "unset"}, [replace(DEF, receiver="notify-A")], [A]),
        (
            {"owner": "team-C"},
            [replace(DEF, receiver="notify-BC", group_by=frozenset({"foo", "bar"}), group_wait=2 * MIN)],
            ['{}/{owner=~"team-(B|C)"}'],
        ),
        (
            {"owner": "team-A", "env": "testing"},
            [replace(DEF, receiver="notify-testing", group_by_all=True)],
            [A + '/{baz!~".*quux",env="testing"}'],
        ),
        (
            {"owner": "team-A", "env": "production"},
            [
                replace(DEF, receiver="notify-productionA", group_wait=MIN),
                replace(
                    DEF, receiver="notify-productionB", group_by=frozenset({"job"}), repeat_interval=60 * MIN
                ),
            ],
            [A + '/{env="production"}', A + '/{env=~"produ.*",job=~".*"}'],
        ),
        ({"group_by": "role"}, [replace(DEF, group_by=frozenset({"role"}))], ['{}/{group_by="role"}']),
        (
            {"env": "testing", "group_by": "role"},
            [replace(DEF, receiver="notify-testing", group_by=frozenset({"role"}))],
            ['{}/{group_by="role"}/{env="testing"}'],
        ),
        (
            {"env": "testing", "group_by": "role", "wait": "long"},
            [replace(DEF, receiver="notify-testing", group_by=frozenset({"role"}), group_wait=2 * MIN)],
            ['{}/{group_by="role"}/{env="testing"}/{wait="long"}'],
        ),
        # level="critical" fails the team-A route, so the root itself matches.
        ({"owner": "team-A", "level": "critical"}, [DEF], ["{}"]),
    ],
)
def test_route_match(labels: dict[str, str], expected: list[RouteOpts], keys: list[str]) -> None:
    matches = compile_routes(TREE).match(labels)
    assert [m.opts for m in matches] == expected
    assert [m.route_key for m in matches] == keys


def test_route_ids_add_the_position_among_siblings() -> None:
    matches = compile_routes(TREE).match({"owner": "team-A", "env": "production"})
    assert [m.route_id for m in matches] == [A + '/{env="production"}/1', A + '/{env=~"produ.*",job=~".*"}/2']
    assert compile_routes(TREE).match({})[0].route_id == "{}"


def test_a_match_says_where_its_route_sits_in_the_tree() -> None:
    matches = compile_routes(TREE).match({"owner": "team-A", "env": "production"})
    assert [m.path for m in matches] == ["routes[0].routes[1]", "routes[0].routes[2]"]
    assert compile_routes(TREE).match({})[0].path == ""


def test_walk_is_depth_first() -> None:
    assert [n.opts.receiver for n in compile_routes(TREE).walk()] == [
        "notify-def",
        "notify-A",
        "notify-testing",
        "notify-productionA",
        "notify-productionB",
        "notify-BC",
        "notify-def",
        "notify-testing",
        "notify-testing",
    ]


def test_inherit_parent_group_by_all() -> None:
    tree = compile_routes(
        Route(
            receiver="r",
            routes=(
                Route(
                    matchers=('env="parent"',),
                    group_by=("...",),
                    routes=(
                        Route(matchers=('env="child1"',)),
                        Route(matchers=('env="child2"',), group_by=("foo",)),
                        Route(matchers=('env="child3"',), group_by=()),
                    ),
                ),
            ),
        )
    )
    parent = tree.children[0]
    child1, child2, child3 = parent.children
    assert parent.opts.group_by_all
    assert child1.opts.group_by_all
    assert child3.opts.group_by_all
    assert not child2.opts.group_by_all
    assert child2.opts.group_by == frozenset({"foo"})


def test_continue_on_the_last_matching_sibling_and_first_match_stops() -> None:
    tree = compile_routes(
        Route(
            receiver="root",
            routes=(
                Route(matchers=('a="1"',), receiver="first", continue_=True),
                Route(matchers=('a=~"1|2"',), receiver="second"),
                Route(matchers=('a="1"',), receiver="never"),
            ),
        )
    )
    assert [m.receiver for m in tree.match({"a": "1"})] == ["first", "second"]
    assert [m.receiver for m in tree.match({"a": "2"})] == ["second"]
    assert [m.receiver for m in tree.match({"a": "3"})] == ["root"]


def test_escalation_policy_and_timers_inherit() -> None:
    tree = compile_routes(
        Route(
            receiver="root",
            escalation_policy_id="p1",
            group_interval=MIN,
            routes=(
                Route(matchers=('team="a"',), repeat_interval=10 * MIN),
                Route(matchers=('team="b"',), escalation_policy_id="p2", receiver="b"),
            ),
        )
    )
    (a,) = tree.match({"team": "a"})
    assert (a.receiver, a.opts.escalation_policy_id, a.opts.group_interval, a.opts.repeat_interval) == (
        "root",
        "p1",
        MIN,
        10 * MIN,
    )
    (b,) = tree.match({"team": "b"})
    assert (b.receiver, b.opts.escalation_policy_id) == ("b", "p2")


def test_group_labels_and_label_set_format() -> None:
    (m,) = compile_routes(Route(receiver="r", group_by=("alertname", "missing"))).match({})
    assert m.opts.group_labels({"alertname": "X", "job": "j"}) == {"alertname": "X"}
    assert format_labels({"b": 'say "hi"', "a": "1"}) == '{a="1", b="say \\"hi\\""}'
