from __future__ import annotations

import pytest

from alerting_server.errors import AlreadyExists, NotFound
from alerting_server.model import Channel, ChannelType
from alerting_server.pagination import PageRequest
from alerting_server.store import Store

NOW = 1_700_000_000_000
SLACK = Channel(
    name="ops-slack",
    type=ChannelType.SLACK,
    config={"webhook_url": "https://hooks.slack.com/x", "channel": "#alerts"},
)


async def test_create_get_and_get_by_name(store: Store) -> None:
    created = await store.channels.create(SLACK, NOW)
    assert created.id
    assert (created.created_at, created.updated_at) == (NOW, NOW)
    assert await store.channels.get(created.id) == created
    assert await store.channels.get_by_name("ops-slack") == created


async def test_nested_config_round_trips(store: Store) -> None:
    webhook = Channel(
        name="hook",
        type=ChannelType.WEBHOOK,
        config={"url": "http://x", "headers": {"X-A": "1"}, "retries": 3, "verify": True, "to": ["a", "b"]},
    )
    created = await store.channels.create(webhook, NOW)
    assert (await store.channels.get(created.id)).config == webhook.config


async def test_not_found_names_the_id_or_name(store: Store) -> None:
    with pytest.raises(NotFound, match="'c1'"):
        await store.channels.get("c1")
    with pytest.raises(NotFound, match="'ops'"):
        await store.channels.get_by_name("ops")
    with pytest.raises(NotFound, match="'c1'"):
        await store.channels.update("c1", SLACK, NOW)
    with pytest.raises(NotFound, match="'c1'"):
        await store.channels.delete("c1")


async def test_duplicate_name_is_already_exists_and_writes_nothing(store: Store) -> None:
    first = await store.channels.create(SLACK, NOW)
    other = Channel(name="ops-slack", type=ChannelType.PAGERDUTY, config={"routing_key": "k"})
    with pytest.raises(AlreadyExists, match="ops-slack"):
        await store.channels.create(other, NOW + 1)
    assert await store.channels.all() == [first]


async def test_update_keeps_id_and_created_at_and_checks_the_name(store: Store) -> None:
    created = await store.channels.create(SLACK, NOW)
    pager = await store.channels.create(Channel(name="pager", type=ChannelType.PAGERDUTY), NOW + 1)
    renamed = Channel(name="ops-2", type=ChannelType.SLACK, config={"webhook_url": "https://y"})
    updated = await store.channels.update(created.id, renamed, NOW + 5)
    assert (updated.id, updated.name, updated.created_at, updated.updated_at) == (
        created.id,
        "ops-2",
        NOW,
        NOW + 5,
    )
    assert await store.channels.get(created.id) == updated
    with pytest.raises(AlreadyExists, match="pager"):
        await store.channels.update(created.id, Channel(name="pager", type=ChannelType.SLACK), NOW + 6)
    assert await store.channels.all() == [updated, pager]


async def test_delete_frees_the_name(store: Store) -> None:
    created = await store.channels.create(SLACK, NOW)
    await store.channels.delete(created.id)
    assert await store.channels.all() == []
    await store.channels.create(SLACK, NOW + 1)


async def test_list_pages(store: Store) -> None:
    created = [
        await store.channels.create(Channel(name=f"c{i}", type=ChannelType.SLACK), NOW + i) for i in range(3)
    ]
    first = await store.channels.list(PageRequest.parse(2, "", "channels"))
    second = await store.channels.list(PageRequest.parse(2, first.next_page_token, "channels"))
    assert first.items + second.items == created
    assert second.next_page_token == ""
