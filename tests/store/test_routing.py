from __future__ import annotations

from alerting_server.model import Route
from alerting_server.store import Store, route_from_json, route_to_json

NOW = 1_700_000_000_000

TREE = Route(
    receiver="ops-slack",
    group_by=("alertname",),
    group_wait=30_000,
    group_interval=300_000,
    repeat_interval=14_400_000,
    routes=(
        Route(
            matchers=('severity="critical"',),
            receiver="pager",
            continue_=True,
            escalation_policy_id="infra",
            routes=(Route(matchers=('team=~"db|storage"', 'env!="dev"'), group_by=()),),
        ),
        Route(matchers=('severity="warning"',), group_wait=0),
    ),
)


async def test_get_before_put_is_none(store: Store) -> None:
    assert await store.routing.get() is None


async def test_nested_tree_round_trips(store: Store) -> None:
    assert await store.routing.put(TREE, NOW) == TREE
    assert await store.routing.get() == TREE


async def test_put_replaces_the_whole_tree(store: Store) -> None:
    await store.routing.put(TREE, NOW)
    await store.routing.put(Route(receiver="other"), NOW + 1)
    assert await store.routing.get() == Route(receiver="other")


def test_json_keeps_unset_apart_from_empty() -> None:
    # group_by None inherits from the parent; () groups by nothing: both must survive.
    data = route_to_json(TREE)
    assert data["group_by"] == ["alertname"]
    assert data["routes"][0]["group_by"] is None
    assert data["routes"][0]["routes"][0]["group_by"] == []
    assert data["routes"][0]["continue"] is True
    assert route_from_json(data) == TREE
