"""Users with their channels, schedules with their overrides, and what refuses their deletion, on both
backends."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from alerting_server.errors import AlreadyExists, FailedPrecondition, NotFound
from alerting_server.model import (
    Channel,
    ChannelType,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    Layer,
    Override,
    Schedule,
    User,
)
from alerting_server.store import Store

NOW = 1_767_225_600_000
HOOK = ContactMethod(ChannelType.WEBHOOK, "https://hooks.example.org/ana")
ANA = User(name="ana", email="ana@example.org", time_zone="UTC", contact_methods=(HOOK, HOOK))


def weekly(*users: str) -> Schedule:
    return Schedule(
        name="primary",
        time_zone="UTC",
        layers=(Layer(name="w", start=NOW, turn_length=7 * 86_400_000, users=users),),
    )


async def test_a_user_owns_one_channel_per_contact_method(store: Store) -> None:
    user = await store.users.create(ANA, NOW)
    assert [m.address for m in user.contact_methods] == [HOOK.address, HOOK.address]
    channels = await store.channels.all()
    assert sorted(c.name for c in channels) == ["ana-webhook", "ana-webhook-2"]
    assert {c.owner for c in channels} == {user.id}
    assert {c.id for c in channels} == {m.channel_id for m in user.contact_methods}
    assert await store.users.get(user.id) == user
    with pytest.raises(AlreadyExists, match="'ana'"):
        await store.users.create(User(name="ana", email="a@example.org", time_zone="UTC"), NOW)


async def test_a_contact_methods_channel_name_taken_by_another_channel_writes_nothing(store: Store) -> None:
    await store.users.create(User(name="ana-webhook", email="x@example.org", time_zone="UTC"), NOW)
    await store.channels.create(Channel(name="bo-webhook", type=ChannelType.WEBHOOK), NOW)
    with pytest.raises(AlreadyExists, match="'bo-webhook'"):
        await store.users.create(
            User(name="bo", email="b@example.org", time_zone="UTC", contact_methods=(HOOK,)), NOW
        )
    assert [u.name for u in await store.users.all()] == ["ana-webhook"]


async def test_schedules_overrides_and_deletes_refused_while_in_use(store: Store) -> None:
    user = await store.users.create(ANA, NOW)
    schedule = await store.schedules.create(weekly(user.id), NOW)
    assert await store.schedules.get(schedule.id) == schedule
    override = await store.schedules.add_override(
        Override(user=user.id, start=NOW, end=NOW + 1000, schedule_id=schedule.id), NOW
    )
    assert await store.schedules.overrides(schedule.id, start=NOW + 999) == [override]
    assert await store.schedules.overrides(schedule.id, start=NOW + 1000) == []
    policy = await store.escalation_policies.create(
        EscalationPolicy(
            name="infra", levels=(EscalationLevel(0, (), users=("ana",), schedules=(schedule.id,)),)
        ),
        NOW,
    )
    with pytest.raises(FailedPrecondition) as refused:
        await store.users.delete(user.id)
    assert [v.subject for v in refused.value.violations] == [
        f"escalation_policies/{policy.id}.levels[0].users",
        f"schedules/{schedule.id}.layers[0].users",
        f"overrides/{override.id}",
    ]
    with pytest.raises(FailedPrecondition, match="level 0 of escalation policy 'infra'"):
        await store.schedules.delete(schedule.id)
    await store.escalation_policies.delete(policy.id)
    await store.schedules.delete(schedule.id)
    assert await store.schedules.all_overrides() == []
    await store.users.delete(user.id)
    assert await store.channels.all() == []
    with pytest.raises(NotFound):
        await store.users.get(user.id)


async def test_a_contact_method_that_a_route_or_level_names_is_kept(store: Store) -> None:
    user = await store.users.create(ANA, NOW)
    first = user.contact_methods[0]
    await store.escalation_policies.create(
        EscalationPolicy(name="infra", levels=(EscalationLevel(0, ("ana-webhook",)),)), NOW
    )
    with pytest.raises(FailedPrecondition, match="channel 'ana-webhook' \\(a contact method\\) is in use"):
        await store.users.update(user.id, dataclasses.replace(user, contact_methods=()), NOW)
    with pytest.raises(FailedPrecondition, match="level 0 of escalation policy 'infra' notifies it"):
        await store.users.delete(user.id)
    # Kept by its channel id, the contact method may change.
    changed = dataclasses.replace(first, address="https://hooks.example.org/ana-2")
    updated = await store.users.update(user.id, dataclasses.replace(user, contact_methods=(changed,)), NOW)
    assert [m.channel_id for m in updated.contact_methods] == [first.channel_id]
    assert (await store.channels.get(first.channel_id)).config["url"] == "https://hooks.example.org/ana-2"


async def test_postgresql_replicas_hear_of_changes_to_people_and_schedules(pg_url: str) -> None:
    store = await Store.open(pg_url)
    try:
        await store.migrate()
        async with store.transaction() as connection:
            rows = await connection.execute(
                sa.text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname = 'alerting_config_changed'"
                )
            )
            tables = set(rows.scalars())
    finally:
        await store.close()
    assert {"users", "schedules", "schedule_overrides", "channels"} <= tables


async def test_the_pipeline_reads_people_schedules_and_the_overrides_not_yet_over(store: Store) -> None:
    user = await store.users.create(ANA, NOW)
    schedule = await store.schedules.create(weekly(user.id), NOW)
    over = Override(user=user.id, start=NOW, end=NOW + 10, schedule_id=schedule.id)
    await store.schedules.add_override(over, NOW)
    later = await store.schedules.add_override(Override(user.id, NOW, NOW + 20, schedule_id=schedule.id), NOW)
    config = await store.pipeline_config(NOW + 10)
    assert (config.users, config.schedules, config.overrides) == ([user], [schedule], [later])
