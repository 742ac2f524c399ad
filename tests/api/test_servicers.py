"""Servicers in an in-process grpc.aio server, with a real SQLite store and an injected clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc import aio
from grpc_status import rpc_status

from alerting.v1 import (
    channel_service_pb2,
    channel_service_pb2_grpc,
    escalation_policy_service_pb2,
    escalation_policy_service_pb2_grpc,
    routing_service_pb2,
    routing_service_pb2_grpc,
    rule_service_pb2,
    rule_service_pb2_grpc,
    silence_service_pb2,
    silence_service_pb2_grpc,
)
from alerting_server import model
from alerting_server.api import servicers
from alerting_server.api.interceptors import ErrorInterceptor
from alerting_server.store import Store

NOW = 1_700_000_000_000


class FixedClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


class CountingListener:
    def __init__(self) -> None:
        self.reloads = 0

    async def reload(self, groups: object = None) -> None:
        self.reloads += 1

    def status(self, rule_id: str) -> None:
        return None


LISTENER = CountingListener()


class Exploding(servicers.RuleServicer):
    async def GetRule(self, request: Any, context: Any) -> rule_service_pb2.GetRuleResponse:
        raise RuntimeError("secret internals /etc/passwd")

    async def ListRules(self, request: Any, context: Any) -> rule_service_pb2.ListRulesResponse:
        raise NotImplementedError


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[aio.Channel, Store, FixedClock]]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    await store.migrate()
    clock = FixedClock(NOW)
    server = aio.server(interceptors=[ErrorInterceptor()])
    rule_service_pb2_grpc.add_RuleServiceServicer_to_server(servicers.RuleServicer(store, clock), server)
    channel_service_pb2_grpc.add_ChannelServiceServicer_to_server(
        servicers.ChannelServicer(store, clock, LISTENER), server
    )
    silence_service_pb2_grpc.add_SilenceServiceServicer_to_server(
        servicers.SilenceServicer(store, clock, LISTENER), server
    )
    routing_service_pb2_grpc.add_RoutingServiceServicer_to_server(
        servicers.RoutingServicer(store, clock, LISTENER), server
    )
    escalation_policy_service_pb2_grpc.add_EscalationPolicyServiceServicer_to_server(
        servicers.EscalationPolicyServicer(store, clock, LISTENER), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = aio.insecure_channel(f"127.0.0.1:{port}")
    yield channel, store, clock
    await channel.close(None)
    await server.stop(None)
    await store.close()


def _violations(error: aio.AioRpcError) -> list[tuple[str, str]]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    result = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        assert detail.Unpack(bad)
        result += [(v.field, v.description) for v in bad.field_violations]
    return result


def _preconditions(error: aio.AioRpcError) -> list[tuple[str, str, str]]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    result = []
    for detail in status.details:
        failure = error_details_pb2.PreconditionFailure()
        assert detail.Unpack(failure)
        result += [(v.type, v.subject, v.description) for v in failure.violations]
    return result


async def test_create_stamps_the_injected_clock(env: tuple[aio.Channel, Store, FixedClock]) -> None:
    channel, store, clock = env
    stub = rule_service_pb2_grpc.RuleServiceStub(channel)
    created = (
        await stub.CreateRule(
            rule_service_pb2.CreateRuleRequest(rule=rule_service_pb2.Rule(name="r", query="up == 0"))
        )
    ).rule
    assert created.created_at.ToMilliseconds() == NOW
    clock.now = NOW + 5_000
    updated = (
        await stub.UpdateRule(
            rule_service_pb2.UpdateRuleRequest(
                id=created.id, rule=rule_service_pb2.Rule(name="r", query="up == 1")
            )
        )
    ).rule
    assert updated.created_at.ToMilliseconds() == NOW
    assert updated.updated_at.ToMilliseconds() == NOW + 5_000
    assert [r.query for r in await store.rules.all()] == ["up == 1"]


async def test_every_violation_is_reported_and_nothing_written(
    env: tuple[aio.Channel, Store, FixedClock],
) -> None:
    channel, store, _ = env
    stub = rule_service_pb2_grpc.RuleServiceStub(channel)
    bad = rule_service_pb2.Rule(
        name="", query="rate(x[5m]", labels={"__reserved": "x"}, annotations={"s": "{{ nope }}"}
    )
    with pytest.raises(aio.AioRpcError) as info:
        await stub.CreateRule(rule_service_pb2.CreateRuleRequest(rule=bad))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = {f for f, _ in _violations(info.value)}
    assert {"name", "query", "annotations.s"} <= fields
    assert any(f.startswith("labels") for f in fields)
    assert await store.rules.all() == []


async def test_missing_resource_and_missing_id(env: tuple[aio.Channel, Store, FixedClock]) -> None:
    channel, _, _ = env
    stub = rule_service_pb2_grpc.RuleServiceStub(channel)
    with pytest.raises(aio.AioRpcError) as info:
        await stub.GetRule(rule_service_pb2.GetRuleRequest(id="nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(aio.AioRpcError) as info:
        await stub.GetRule(rule_service_pb2.GetRuleRequest())
    assert _violations(info.value) == [("id", "required")]
    with pytest.raises(aio.AioRpcError) as info:
        await stub.CreateRule(rule_service_pb2.CreateRuleRequest())
    assert _violations(info.value) == [("rule", "required")]


async def test_silence_state_follows_the_clock(env: tuple[aio.Channel, Store, FixedClock]) -> None:
    channel, _, clock = env
    stub = silence_service_pb2_grpc.SilenceServiceStub(channel)
    silence = silence_service_pb2.Silence(matchers=['a="b"'], created_by="me", comment="c")
    silence.starts_at.FromMilliseconds(NOW + 60_000)
    silence.ends_at.FromMilliseconds(NOW + 120_000)
    before = LISTENER.reloads
    created = (await stub.CreateSilence(silence_service_pb2.CreateSilenceRequest(silence=silence))).silence
    # The alert pipeline hears of every silence change.
    assert LISTENER.reloads == before + 1
    assert created.state == silence_service_pb2.SILENCE_STATE_PENDING
    clock.now = NOW + 60_000
    got = (await stub.GetSilence(silence_service_pb2.GetSilenceRequest(id=created.id))).silence
    assert got.state == silence_service_pb2.SILENCE_STATE_ACTIVE
    await stub.ExpireSilence(silence_service_pb2.ExpireSilenceRequest(id=created.id))
    got = (await stub.GetSilence(silence_service_pb2.GetSilenceRequest(id=created.id))).silence
    assert got.state == silence_service_pb2.SILENCE_STATE_EXPIRED
    with pytest.raises(aio.AioRpcError) as info:
        await stub.ExpireSilence(silence_service_pb2.ExpireSilenceRequest(id=created.id))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_channel_update_keeps_redacted_secrets(env: tuple[aio.Channel, Store, FixedClock]) -> None:
    channel, store, _ = env
    stub = channel_service_pb2_grpc.ChannelServiceStub(channel)
    msg = channel_service_pb2.Channel(name="hook", type=channel_service_pb2.CHANNEL_TYPE_WEBHOOK)
    msg.config.update({"url": "http://127.0.0.1:9/a", "hmac_secret": "k1"})
    created = (await stub.CreateChannel(channel_service_pb2.CreateChannelRequest(channel=msg))).channel
    assert created.config["hmac_secret"] == "<secret>"
    assert created.config["url"] == "<secret>"
    msg.config.update({"url": "http://127.0.0.1:9/b", "hmac_secret": "<secret>"})
    await stub.UpdateChannel(channel_service_pb2.UpdateChannelRequest(id=created.id, channel=msg))
    stored = await store.channels.get(created.id)
    assert stored.config == {"url": "http://127.0.0.1:9/b", "hmac_secret": "k1"}


async def test_unexpected_errors_are_internal_without_details(
    env: tuple[aio.Channel, Store, FixedClock],
) -> None:
    _, store, clock = env
    server = aio.server(interceptors=[ErrorInterceptor()])
    rule_service_pb2_grpc.add_RuleServiceServicer_to_server(Exploding(store, clock), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = rule_service_pb2_grpc.RuleServiceStub(channel)
            with pytest.raises(aio.AioRpcError) as info:
                await stub.GetRule(rule_service_pb2.GetRuleRequest(id="x"))
            assert info.value.code() == grpc.StatusCode.INTERNAL
            assert "passwd" not in (info.value.details() or "")
            with pytest.raises(aio.AioRpcError) as info:
                await stub.ListRules(rule_service_pb2.ListRulesRequest())
            assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        await server.stop(None)


class SlowListener:
    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.reloaded: list[list[str]] = []

    async def reload(self, groups: Collection[str] | None = None) -> None:
        self.started.set()
        await asyncio.sleep(0.05)
        self.reloaded.append(sorted(groups or ()))

    def status(self, rule_id: str) -> None:
        return None


async def test_a_rule_write_cancelled_after_its_commit_still_reaches_the_engine(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    await store.migrate()
    listener = SlowListener()
    servicer = servicers.RuleServicer(store, FixedClock(NOW), listener)
    content = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n"
    call = asyncio.create_task(
        servicer.ImportRules(rule_service_pb2.ImportRulesRequest(content=content), None)
    )
    await listener.started.wait()
    # The deadline passes while the engine rebuilds: the caller hears so, the rebuild goes on.
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0.2)
    assert listener.reloaded == [["g"]]
    assert [r.name for r in await store.rules.all()] == ["A"]
    await store.close()


async def _named_channel(channel: aio.Channel, name: str) -> channel_service_pb2.Channel:
    stub = channel_service_pb2_grpc.ChannelServiceStub(channel)
    msg = channel_service_pb2.Channel(name=name, type=channel_service_pb2.CHANNEL_TYPE_SLACK)
    msg.config.update({"webhook_url": "https://hooks.slack.com/services/T/B/X", "channel": "#ops"})
    return (await stub.CreateChannel(channel_service_pb2.CreateChannelRequest(channel=msg))).channel


async def test_a_rule_is_reached_by_its_name(env: tuple[aio.Channel, Store, FixedClock]) -> None:
    channel, store, _ = env
    stub = rule_service_pb2_grpc.RuleServiceStub(channel)
    rule = rule_service_pb2.Rule(name="high_cpu", query="up == 0", severity="warning")
    created = (await stub.CreateRule(rule_service_pb2.CreateRuleRequest(rule=rule))).rule
    got = (await stub.GetRule(rule_service_pb2.GetRuleRequest(id="high_cpu"))).rule
    assert got.id == created.id
    rule.query = "up == 1"
    updated = (await stub.UpdateRule(rule_service_pb2.UpdateRuleRequest(id="high_cpu", rule=rule))).rule
    assert (updated.id, updated.query) == (created.id, "up == 1")
    await stub.DeleteRule(rule_service_pb2.DeleteRuleRequest(id="high_cpu"))
    assert await store.rules.all() == []
    with pytest.raises(aio.AioRpcError) as info:
        await stub.GetRule(rule_service_pb2.GetRuleRequest(id="high_cpu"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_rule_name_shared_by_two_rules_is_refused_with_both_ids(
    env: tuple[aio.Channel, Store, FixedClock],
) -> None:
    channel, store, _ = env
    stub = rule_service_pb2_grpc.RuleServiceStub(channel)
    ids = []
    for severity in ("warning", "critical"):
        rule = rule_service_pb2.Rule(name="high_cpu", query="up == 0", severity=severity)
        ids.append((await stub.CreateRule(rule_service_pb2.CreateRuleRequest(rule=rule))).rule.id)
    with pytest.raises(aio.AioRpcError) as info:
        await stub.DeleteRule(rule_service_pb2.DeleteRuleRequest(id="high_cpu"))
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = info.value.details() or ""
    assert all(rule_id in details for rule_id in ids), details
    assert len(await store.rules.all()) == 2
    # An id still names exactly one of them.
    await stub.DeleteRule(rule_service_pb2.DeleteRuleRequest(id=ids[0]))
    assert [r.id for r in await store.rules.all()] == [ids[1]]


async def test_a_channel_is_reached_by_its_name(env: tuple[aio.Channel, Store, FixedClock]) -> None:
    channel, store, _ = env
    stub = channel_service_pb2_grpc.ChannelServiceStub(channel)
    created = await _named_channel(channel, "ops")
    got = (await stub.GetChannel(channel_service_pb2.GetChannelRequest(id="ops"))).channel
    assert got.id == created.id
    # The name reaches the channel before the server says it has no delivery pipeline to test it with.
    with pytest.raises(aio.AioRpcError) as info:
        await stub.TestChannel(channel_service_pb2.TestChannelRequest(id="ops"))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with pytest.raises(aio.AioRpcError) as info:
        await stub.TestChannel(channel_service_pb2.TestChannelRequest(id="nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    await stub.DeleteChannel(channel_service_pb2.DeleteChannelRequest(id="ops"))
    assert await store.channels.all() == []


async def test_deliveries_filter_by_channel_name_or_by_a_deleted_channels_id(
    env: tuple[aio.Channel, Store, FixedClock],
) -> None:
    channel, store, _ = env
    stub = channel_service_pb2_grpc.ChannelServiceStub(channel)
    ops = await _named_channel(channel, "ops")
    await store.deliveries.add(model.Delivery("", ops.id, model.DeliveryStatus.PENDING), {})
    await store.deliveries.add(model.Delivery("", "gone", model.DeliveryStatus.FAILED), {})

    async def listed(channel_id: str) -> list[str]:
        request = channel_service_pb2.ListDeliveriesRequest(channel_id=channel_id)
        return [d.channel_id for d in (await stub.ListDeliveries(request)).deliveries]

    assert await listed("ops") == [ops.id]
    assert await listed("gone") == ["gone"]


async def test_deliveries_list_newest_first_and_a_page_token_keeps_its_order(
    env: tuple[aio.Channel, Store, FixedClock],
) -> None:
    channel, store, _ = env
    stub = channel_service_pb2_grpc.ChannelServiceStub(channel)
    ops = await _named_channel(channel, "ops")
    for at in (1000, 3000, 2000):
        delivery = model.Delivery("", ops.id, model.DeliveryStatus.PENDING, group_key=str(at), created_at=at)
        await store.deliveries.add(delivery, {})

    async def keys(newest_first: bool, page_token: str = "") -> tuple[list[str], str]:
        request = channel_service_pb2.ListDeliveriesRequest(
            page_size=2, newest_first=newest_first, page_token=page_token
        )
        listed = await stub.ListDeliveries(request)
        return [d.group_key for d in listed.deliveries], listed.next_page_token

    first, token = await keys(newest_first=True)
    assert first == ["3000", "2000"]
    assert (await keys(newest_first=True, page_token=token))[0] == ["1000"]
    assert (await keys(newest_first=False))[0] == ["1000", "2000"]
    # An offset into one order means nothing in the other: the token is refused, not misread.
    with pytest.raises(aio.AioRpcError) as info:
        await keys(newest_first=False, page_token=token)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_escalation_policy_is_reached_and_referred_to_by_its_name(
    env: tuple[aio.Channel, Store, FixedClock],
) -> None:
    channel, store, _ = env
    await _named_channel(channel, "ops")
    policies = escalation_policy_service_pb2_grpc.EscalationPolicyServiceStub(channel)
    policy = escalation_policy_service_pb2.EscalationPolicy(
        name="infra", levels=[escalation_policy_service_pb2.EscalationLevel(channels=["ops"])]
    )
    created = (
        await policies.CreateEscalationPolicy(
            escalation_policy_service_pb2.CreateEscalationPolicyRequest(escalation_policy=policy)
        )
    ).escalation_policy
    got = await policies.GetEscalationPolicy(
        escalation_policy_service_pb2.GetEscalationPolicyRequest(id="infra")
    )
    assert got.escalation_policy.id == created.id
    policy.repeat = 2
    await policies.UpdateEscalationPolicy(
        escalation_policy_service_pb2.UpdateEscalationPolicyRequest(id="infra", escalation_policy=policy)
    )
    assert (await store.escalation_policies.get(created.id)).repeat == 2

    # References by name are stored as the id, which a rename does not break.
    rules = rule_service_pb2_grpc.RuleServiceStub(channel)
    rule = rule_service_pb2.Rule(name="r", query="up == 0", escalation_policy_id="infra")
    stored = (await rules.CreateRule(rule_service_pb2.CreateRuleRequest(rule=rule))).rule
    assert stored.escalation_policy_id == created.id
    routing = routing_service_pb2_grpc.RoutingServiceStub(channel)
    route = routing_service_pb2.Route(
        receiver="ops",
        routes=[routing_service_pb2.Route(matchers=['team="infra"'], escalation_policy_id="infra")],
    )
    tree = (await routing.UpdateRouting(routing_service_pb2.UpdateRoutingRequest(route=route))).route
    assert tree.routes[0].escalation_policy_id == created.id
    route.routes[0].escalation_policy_id = "nope"
    with pytest.raises(aio.AioRpcError) as info:
        await routing.UpdateRouting(routing_service_pb2.UpdateRoutingRequest(route=route))
    assert _violations(info.value) == [
        ("routes[0].escalation_policy_id", "no escalation policy with id or name 'nope'")
    ]

    # In use by the rule and the route: only a cascade deletes it.
    await policies.DeleteEscalationPolicy(
        escalation_policy_service_pb2.DeleteEscalationPolicyRequest(id="infra", cascade=True)
    )
    assert await store.escalation_policies.all() == []


def _webhook(name: str) -> channel_service_pb2.Channel:
    msg = channel_service_pb2.Channel(name=name, type=channel_service_pb2.CHANNEL_TYPE_WEBHOOK)
    msg.config.update({"url": f"http://127.0.0.1:9/{name}"})
    return msg


async def test_deleting_a_channel_in_use_is_refused_naming_its_users_or_cascades(
    env: tuple[aio.Channel, Store, FixedClock],
) -> None:
    channel, store, clock = env
    channels = channel_service_pb2_grpc.ChannelServiceStub(channel)
    routing = routing_service_pb2_grpc.RoutingServiceStub(channel)
    policies = escalation_policy_service_pb2_grpc.EscalationPolicyServiceStub(channel)
    for name in ("email", "ops-slack"):
        await channels.CreateChannel(channel_service_pb2.CreateChannelRequest(channel=_webhook(name)))
    slack = await store.channels.get_by_name("ops-slack")
    policy = (
        await policies.CreateEscalationPolicy(
            escalation_policy_service_pb2.CreateEscalationPolicyRequest(
                escalation_policy=escalation_policy_service_pb2.EscalationPolicy(
                    name="infra",
                    levels=[escalation_policy_service_pb2.EscalationLevel(channels=["email", "ops-slack"])],
                )
            )
        )
    ).escalation_policy
    tree = routing_service_pb2.Route(
        receiver="email",
        routes=[routing_service_pb2.Route(matchers=['severity="critical"'], receiver="ops-slack")],
    )
    await routing.UpdateRouting(routing_service_pb2.UpdateRoutingRequest(route=tree))
    reloads = LISTENER.reloads

    with pytest.raises(aio.AioRpcError) as info:
        await channels.DeleteChannel(channel_service_pb2.DeleteChannelRequest(id=slack.id))

    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "channel 'ops-slack' is in use" in (info.value.details() or "")
    assert _preconditions(info.value) == [
        ("route", "routing.routes[0].receiver", 'route {severity="critical"} (routes[0]) sends to it'),
        (
            "escalation_policy",
            f"escalation_policies/{policy.id}.levels[0].channels",
            "level 0 of escalation policy 'infra' notifies it",
        ),
    ]
    assert await store.channels.get(slack.id) == slack
    assert LISTENER.reloads == reloads

    clock.now = NOW + 1
    await channels.DeleteChannel(channel_service_pb2.DeleteChannelRequest(id=slack.id, cascade=True))

    assert LISTENER.reloads == reloads + 1
    stored = (await routing.GetRouting(routing_service_pb2.GetRoutingRequest())).route
    assert [r.receiver for r in stored.routes] == [""]
    assert list(stored.problems) == []
    got = await policies.GetEscalationPolicy(
        escalation_policy_service_pb2.GetEscalationPolicyRequest(id=policy.id)
    )
    assert list(got.escalation_policy.levels[0].channels) == ["email"]


async def test_get_routing_reports_what_cannot_deliver(env: tuple[aio.Channel, Store, FixedClock]) -> None:
    channel, store, _ = env
    channels = channel_service_pb2_grpc.ChannelServiceStub(channel)
    routing = routing_service_pb2_grpc.RoutingServiceStub(channel)
    for name in ("email", "ops-slack"):
        await channels.CreateChannel(channel_service_pb2.CreateChannelRequest(channel=_webhook(name)))
    tree = routing_service_pb2.Route(
        receiver="email", routes=[routing_service_pb2.Route(matchers=['team="db"'], receiver="ops-slack")]
    )
    await routing.UpdateRouting(routing_service_pb2.UpdateRoutingRequest(route=tree))
    slack = await store.channels.get_by_name("ops-slack")
    # The tree names the channel by name: renamed, it is still the route's receiver.
    await channels.UpdateChannel(
        channel_service_pb2.UpdateChannelRequest(id=slack.id, channel=_webhook("db-slack"))
    )
    got = (await routing.GetRouting(routing_service_pb2.GetRoutingRequest())).route
    assert [r.receiver for r in got.routes] == ["db-slack"]
    assert list(got.problems) == []
    # A tree stored before its receiver went (written under an older version, say) is reported.
    await store.routing.put(
        model.Route(receiver="email", routes=(model.Route(matchers=('team="db"',), receiver="ops-slack"),)),
        NOW,
    )

    got = (await routing.GetRouting(routing_service_pb2.GetRoutingRequest())).route

    assert [(p.field, p.description) for p in got.problems] == [
        ("routes[0].receiver", "no channel with id or name 'ops-slack'")
    ]
    # Output only: the tree sent back as read is stored as it was.
    await routing.UpdateRouting(
        routing_service_pb2.UpdateRoutingRequest(
            route=routing_service_pb2.Route(receiver="email", problems=got.problems)
        )
    )
    assert list((await routing.GetRouting(routing_service_pb2.GetRoutingRequest())).route.problems) == []


async def test_a_rule_naming_no_escalation_policy_is_refused(
    env: tuple[aio.Channel, Store, FixedClock],
) -> None:
    channel, store, _ = env
    stub = rule_service_pb2_grpc.RuleServiceStub(channel)
    rule = rule_service_pb2.Rule(name="r", query="up == 0", escalation_policy_id="nope")
    with pytest.raises(aio.AioRpcError) as info:
        await stub.CreateRule(rule_service_pb2.CreateRuleRequest(rule=rule))
    assert _violations(info.value) == [
        ("escalation_policy_id", "no escalation policy with id or name 'nope'")
    ]
    assert await store.rules.all() == []
