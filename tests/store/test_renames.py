"""Renaming a channel, a user or a schedule: the routes and escalation levels that named it by name
name it by its new name, in the same transaction, on both backends; references by id are unchanged."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from alerting_server.errors import FailedPrecondition
from alerting_server.model import (
    Channel,
    ChannelType,
    EscalationLevel,
    EscalationPolicy,
    Layer,
    Route,
    Schedule,
    User,
)
from alerting_server.store import Store

NOW = 1_767_225_600_000


async def test_a_renamed_channel_is_still_what_routes_and_levels_send_to(store: Store) -> None:
    slack = await store.channels.create(Channel(name="ops-slack", type=ChannelType.SLACK), NOW)
    email = await store.channels.create(Channel(name="email", type=ChannelType.EMAIL), NOW)
    policy = await store.escalation_policies.create(
        EscalationPolicy(
            name="infra",
            levels=(EscalationLevel(0, ("ops-slack", "email")), EscalationLevel(600_000, (slack.id,))),
        ),
        NOW,
    )
    tree = Route(
        receiver="email",
        routes=(
            Route(matchers=('severity="critical"',), receiver="ops-slack"),
            Route(matchers=('team="db"',), receiver=slack.id),
        ),
    )
    await store.routing.put(tree, NOW)

    await store.channels.update(slack.id, dataclasses.replace(slack, name="ops-chat"), NOW + 1)

    routed = await store.routing.get()
    assert routed is not None
    assert [r.receiver for r in routed.routes] == ["ops-chat", slack.id]
    assert routed.receiver == "email"
    levels = (await store.escalation_policies.get(policy.id)).levels
    assert [level.channels for level in levels] == [("ops-chat", "email"), (slack.id,)]
    # Renaming another channel leaves these alone.
    await store.channels.update(email.id, dataclasses.replace(email, name="mail"), NOW + 2)
    routed = await store.routing.get()
    assert routed is not None
    assert routed.receiver == "mail"
    assert [r.receiver for r in routed.routes] == ["ops-chat", slack.id]


async def test_a_name_that_is_also_a_receiver_keeps_naming_the_receiver(store: Store) -> None:
    first = await store.channels.create(Channel(name="ops", type=ChannelType.SLACK, receiver="ops"), NOW)
    await store.channels.create(Channel(name="ops-2", type=ChannelType.EMAIL, receiver="ops"), NOW)
    await store.routing.put(Route(receiver="ops"), NOW)
    await store.channels.update(first.id, dataclasses.replace(first, name="ops-slack"), NOW + 1)
    routed = await store.routing.get()
    assert routed is not None
    assert routed.receiver == "ops"


async def test_renamed_people_and_schedules_are_still_paged(store: Store) -> None:
    ana = await store.users.create(User(name="ana", email="ana@example.org", time_zone="UTC"), NOW)
    schedule = await store.schedules.create(
        Schedule(
            name="primary",
            time_zone="UTC",
            layers=(Layer(name="w", start=NOW, turn_length=7 * 86_400_000, users=(ana.id,)),),
        ),
        NOW,
    )
    await store.channels.create(Channel(name="email", type=ChannelType.EMAIL), NOW)
    policy = await store.escalation_policies.create(
        EscalationPolicy(
            name="infra",
            levels=(EscalationLevel(0, ("email",), users=("ana",), schedules=("primary",)),),
        ),
        NOW,
    )
    await store.users.update(ana.id, dataclasses.replace(ana, name="ana.b"), NOW + 1)
    await store.schedules.update(schedule.id, dataclasses.replace(schedule, name="primary-oncall"), NOW + 1)
    level = (await store.escalation_policies.get(policy.id)).levels[0]
    assert (level.channels, level.users, level.schedules) == (("email",), ("ana.b",), ("primary-oncall",))


async def test_a_channel_that_routes_of_a_file_name_is_not_renamed_and_nothing_changes(store: Store) -> None:
    slack = await store.channels.create(Channel(name="ops-slack", type=ChannelType.SLACK), NOW)
    await store.routing.put(Route(receiver="ops-slack"), NOW)
    async with store.transaction() as connection:
        await connection.execute(sa.text("UPDATE routing SET source = 'alertmanager.yml'"))

    with pytest.raises(FailedPrecondition, match="rename it in the file"):
        await store.channels.update(slack.id, dataclasses.replace(slack, name="ops-chat"), NOW + 1)

    assert (await store.channels.get(slack.id)).name == "ops-slack"
    routed = await store.routing.get()
    assert routed is not None
    assert routed.receiver == "ops-slack"
