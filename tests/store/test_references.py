"""Deleting a channel or an escalation policy that routes, levels or rules use: refused, naming every
user, and nothing changed; or, with cascade, the references removed in the same transaction."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from alerting_server.errors import FailedPrecondition, InvalidArgument, NotFound, PreconditionViolation
from alerting_server.model import Channel, ChannelType, EscalationLevel, EscalationPolicy, Route, Rule
from alerting_server.store import Store
from alerting_server.store.references import Known, known_in
from alerting_server.store.routing import put_in
from alerting_server.validation import resources as validate

NOW = 1_700_000_000_000


async def _setup(store: Store) -> tuple[Channel, Channel, EscalationPolicy, Route]:
    email = await store.channels.create(Channel(name="email", type=ChannelType.EMAIL), NOW)
    slack = await store.channels.create(Channel(name="ops-slack", type=ChannelType.SLACK), NOW)
    policy = await store.escalation_policies.create(
        EscalationPolicy(
            name="infra",
            levels=(
                EscalationLevel(0, ("email", slack.id)),
                EscalationLevel(600_000, ("ops-slack",)),
                EscalationLevel(1_200_000, ("email",)),
            ),
        ),
        NOW,
    )
    tree = Route(
        receiver="email",
        routes=(
            Route(matchers=('team="db"',), receiver="email"),
            Route(
                matchers=('severity="critical"',),
                receiver="ops-slack",
                escalation_policy_id=policy.id,
                routes=(Route(matchers=('host="a"',), receiver=slack.id),),
            ),
        ),
    )
    await store.routing.put(tree, NOW)
    return email, slack, policy, tree


async def test_a_channel_in_use_is_not_deleted_and_every_user_is_named(store: Store) -> None:
    _, slack, policy, tree = await _setup(store)

    with pytest.raises(FailedPrecondition) as caught:
        await store.channels.delete(slack.id, now=NOW + 1)

    assert caught.value.violations == [
        PreconditionViolation(
            "route", "routing.routes[1].receiver", 'route {severity="critical"} (routes[1]) sends to it'
        ),
        PreconditionViolation(
            "route",
            "routing.routes[1].routes[0].receiver",
            'route {host="a"} (routes[1].routes[0]) sends to it',
        ),
        PreconditionViolation(
            "escalation_policy",
            f"escalation_policies/{policy.id}.levels[0].channels",
            "level 0 of escalation policy 'infra' notifies it",
        ),
        PreconditionViolation(
            "escalation_policy",
            f"escalation_policies/{policy.id}.levels[1].channels",
            "level 1 of escalation policy 'infra' notifies it",
        ),
    ]
    assert caught.value.message.startswith("channel 'ops-slack' is in use: route {severity=")
    assert "cascade=true" in caught.value.message
    assert await store.channels.get(slack.id) == slack
    assert await store.routing.get() == tree
    assert await store.escalation_policies.get(policy.id) == policy


async def test_cascade_removes_the_references_with_the_channel(store: Store) -> None:
    _, slack, policy, tree = await _setup(store)

    await store.channels.delete(slack.id, cascade=True, now=NOW + 1)

    with pytest.raises(NotFound):
        await store.channels.get(slack.id)
    # The routes stay and inherit their parent's receiver, as an unset receiver does.
    critical = dataclasses.replace(
        tree.routes[1], receiver="", routes=(dataclasses.replace(tree.routes[1].routes[0], receiver=""),)
    )
    assert await store.routing.get() == dataclasses.replace(tree, routes=(tree.routes[0], critical))
    # The level that named only the channel goes; the others keep their other channels.
    assert await store.escalation_policies.get(policy.id) == dataclasses.replace(
        policy,
        levels=(EscalationLevel(0, ("email",)), EscalationLevel(1_200_000, ("email",))),
        updated_at=NOW + 1,
    )


async def test_cascade_refuses_what_it_cannot_rewrite_validly(store: Store) -> None:
    email, _, policy, tree = await _setup(store)
    only_email = await store.escalation_policies.create(
        EscalationPolicy(name="mail-only", levels=(EscalationLevel(0, ("email",)),)), NOW
    )

    with pytest.raises(FailedPrecondition) as caught:
        await store.channels.delete(email.id, cascade=True, now=NOW + 1)

    assert [(v.subject, v.description) for v in caught.value.violations] == [
        ("routing.receiver", "the root route sends to it and must keep a receiver"),
        (
            f"escalation_policies/{only_email.id}.levels",
            "it is the only channel of escalation policy 'mail-only'",
        ),
    ]
    assert await store.channels.get(email.id) == email
    assert await store.routing.get() == tree
    assert await store.escalation_policies.get(policy.id) == policy


async def test_a_policy_in_use_is_not_deleted_unless_cascade(store: Store) -> None:
    _, _, policy, tree = await _setup(store)
    rule = await store.rules.create(
        Rule(name="HighCPU", query="up == 0", escalation_policy_id=policy.id), NOW
    )

    with pytest.raises(FailedPrecondition) as caught:
        await store.escalation_policies.delete(policy.id, now=NOW + 1)

    assert [(v.type, v.subject) for v in caught.value.violations] == [
        ("route", "routing.routes[1].escalation_policy_id"),
        ("rule", f"rules/{rule.id}.escalation_policy_id"),
    ]
    assert f"rule 'HighCPU' (id {rule.id}, group 'default') escalates with it" in caught.value.message
    assert await store.escalation_policies.get(policy.id) == policy
    assert await store.rules.get(rule.id) == rule

    await store.escalation_policies.delete(policy.id, cascade=True, now=NOW + 1)

    with pytest.raises(NotFound):
        await store.escalation_policies.get(policy.id)
    assert await store.rules.get(rule.id) == dataclasses.replace(
        rule, escalation_policy_id="", updated_at=NOW + 1
    )
    critical = dataclasses.replace(tree.routes[1], escalation_policy_id="")
    assert await store.routing.get() == dataclasses.replace(tree, routes=(tree.routes[0], critical))


async def test_unused_ones_delete_as_before(store: Store) -> None:
    spare = await store.channels.create(Channel(name="spare", type=ChannelType.WEBHOOK), NOW)
    policy = await store.escalation_policies.create(
        EscalationPolicy(name="p", levels=(EscalationLevel(0, ("spare",)),)), NOW
    )
    await store.escalation_policies.delete(policy.id)
    await store.channels.delete(spare.id)
    assert await store.channels.all() == []


async def test_writes_check_their_references_in_their_transaction(store: Store) -> None:
    email, _, policy, tree = await _setup(store)
    seen: list[Known] = []

    def check(known: Known) -> None:
        seen.append(known)
        validate.validate_route(bad, known.channels, known.policies)

    bad = dataclasses.replace(tree, receiver="nobody")
    with pytest.raises(InvalidArgument, match="receiver: no channel with id or name 'nobody'"):
        await store.routing.put(bad, NOW + 1, check=check)
    assert await store.routing.get() == tree
    [known] = seen
    assert {email.id, "email", "ops-slack"} <= known.channels
    assert known.policies == {policy.id}


async def test_a_delete_waits_for_a_write_that_adds_a_reference(store: Store) -> None:
    email = await store.channels.create(Channel(name="email", type=ChannelType.EMAIL), NOW)
    spare = await store.channels.create(Channel(name="spare", type=ChannelType.WEBHOOK), NOW)
    await store.routing.put(Route(receiver=email.id), NOW)

    async with store.transaction() as connection:
        # A routing write has read (and locked) what its references may name...
        assert "spare" in (await known_in(connection)).channels
        deleting = asyncio.create_task(store.channels.delete(spare.id, now=NOW + 1))
        await asyncio.sleep(0.3)
        # ...so the delete waits for it rather than reading the tree before the write commits.
        assert not deleting.done()
        await put_in(connection, Route(receiver="spare"), NOW + 1)

    with pytest.raises(FailedPrecondition, match="the root route sends to it"):
        await deleting
    assert await store.channels.get(spare.id) == spare


async def test_a_rule_write_checks_its_policy_in_its_transaction(store: Store) -> None:
    _, _, policy, _ = await _setup(store)
    seen: list[Known] = []
    rule = await store.rules.create(
        Rule(name="HighCPU", query="up == 0", escalation_policy_id=policy.id), NOW, check=seen.append
    )
    await store.rules.update(rule.id, rule, NOW + 1, check=seen.append)
    assert [k.policies for k in seen] == [{policy.id}, {policy.id}]


async def test_a_receiver_of_several_channels_is_named_by_routes_until_its_last_channel_goes(
    store: Store,
) -> None:
    first, second = [
        await store.channels.create(Channel(name=f"team-{i}", type=ChannelType.WEBHOOK, receiver="team"), NOW)
        for i in range(2)
    ]
    # The receiver is a name a route may use.
    await store.routing.put(Route(receiver="team"), NOW)

    await store.channels.delete(first.id, now=NOW + 1)
    with pytest.raises(FailedPrecondition) as caught:
        await store.channels.delete(second.id, now=NOW + 2)

    assert [v.subject for v in caught.value.violations] == ["routing.receiver"]
    assert [c.name for c in await store.channels.all()] == ["team-1"]
