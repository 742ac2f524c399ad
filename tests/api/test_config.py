"""The ConfigService and the ownership of what a configuration loads, in an in-process grpc.aio
server over a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc import aio

from alerting.v1 import (
    channel_service_pb2,
    channel_service_pb2_grpc,
    config_service_pb2,
    config_service_pb2_grpc,
    routing_service_pb2,
    routing_service_pb2_grpc,
)
from alerting_server.amconfig import load
from alerting_server.amconfig.service import AlertmanagerConfigs
from alerting_server.api import servicers
from alerting_server.api.config import ConfigServicer
from alerting_server.api.convert import struct_to_pb as struct
from alerting_server.api.interceptors import ErrorInterceptor
from alerting_server.errors import InvalidArgument
from alerting_server.outbound import OutboundPolicy
from alerting_server.store import Store

NOW = 1_700_000_000_000

GOOD = """\
global:
  resolve_timeout: 2m
route:
  receiver: ops
  group_by: [alertname]
  routes:
    - matchers: [severity="none"]
      receiver: blackhole
receivers:
  - name: ops
    webhook_configs:
      - url: http://127.0.0.1:9/ops-token
        http_config:
          authorization: {credentials: abc}
  - name: pager
    pagerduty_configs: [{routing_key: rk}]
    email_configs: [{to: a@example.org, from: am@example.org, smarthost: 'localhost:25'}]
  - name: blackhole
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
time_intervals:
  - name: nights
    time_intervals: [{times: [{start_time: '00:00', end_time: '06:00'}]}]
"""


class Clock:
    def now_ms(self) -> int:
        return NOW


class Listener:
    def __init__(self) -> None:
        self.reloads = 0

    async def reload(self) -> None:
        self.reloads += 1


@dataclass
class Env:
    store: Store
    config: config_service_pb2_grpc.ConfigServiceAsyncStub
    channels: channel_service_pb2_grpc.ChannelServiceAsyncStub
    routing: routing_service_pb2_grpc.RoutingServiceAsyncStub
    listener: Listener


async def _env(tmp_path: Path, path: str = "") -> AsyncIterator[Env]:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    await store.migrate()
    listener = Listener()
    clock = Clock()
    server = aio.server(interceptors=[ErrorInterceptor()])
    configs = AlertmanagerConfigs(store, clock, listener, path)
    config_service_pb2_grpc.add_ConfigServiceServicer_to_server(ConfigServicer(store, configs), server)
    channel_service_pb2_grpc.add_ChannelServiceServicer_to_server(
        servicers.ChannelServicer(store, clock, listener), server
    )
    routing_service_pb2_grpc.add_RoutingServiceServicer_to_server(
        servicers.RoutingServicer(store, clock, listener), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Env(
            store,
            config_service_pb2_grpc.ConfigServiceStub(channel),
            channel_service_pb2_grpc.ChannelServiceStub(channel),
            routing_service_pb2_grpc.RoutingServiceStub(channel),
            listener,
        )
    finally:
        await channel.close(None)
        await server.stop(None)
        await store.close()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async for e in _env(tmp_path):
        yield e


async def test_check_reports_problems_with_field_and_line(env: Env) -> None:
    bad = await env.config.CheckConfig(
        config_service_pb2.CheckConfigRequest(content="route: {receiver: x}\nreceivers: [{name: y}]\n")
    )
    assert not bad.valid
    assert [(p.field, p.line, p.message) for p in bad.problems] == [
        ("route.receiver", 1, 'undefined receiver "x" used in route')
    ]
    good = await env.config.CheckConfig(config_service_pb2.CheckConfigRequest(content=GOOD))
    assert good.valid
    assert (good.summary.receivers, good.summary.inhibit_rules, good.summary.time_intervals) == (3, 1, 1)
    assert list(good.summary.channels) == ["ops", "pager-email-0", "pager-pagerduty-0"]
    # Checking stores nothing.
    assert await env.store.channels.all() == []


async def test_import_then_export_and_ownership(env: Env) -> None:
    made = await env.channels.CreateChannel(
        channel_service_pb2.CreateChannelRequest(
            channel=channel_service_pb2.Channel(
                name="api-hook",
                type=channel_service_pb2.CHANNEL_TYPE_WEBHOOK,
                config=struct({"url": "http://h/x"}),
            )
        )
    )
    imported = await env.config.ImportConfig(
        config_service_pb2.ImportConfigRequest(content=GOOD, name="am.yml")
    )
    assert sorted(imported.created_channels) == ["ops", "pager-email-0", "pager-pagerduty-0"]
    assert env.listener.reloads >= 2
    listed = await env.channels.ListChannels(channel_service_pb2.ListChannelsRequest())
    sources = {c.name: (c.source, c.receiver) for c in listed.channels}
    assert sources == {
        "api-hook": ("", ""),
        "ops": ("import:am.yml", "ops"),
        "pager-email-0": ("import:am.yml", "pager"),
        "pager-pagerduty-0": ("import:am.yml", "pager"),
    }
    assert await env.store.config_files.empty_receivers() == frozenset({"blackhole"})

    ops = next(c for c in listed.channels if c.name == "ops")
    for call in (
        env.channels.UpdateChannel(channel_service_pb2.UpdateChannelRequest(id=ops.id, channel=ops)),
        env.channels.DeleteChannel(channel_service_pb2.DeleteChannelRequest(id="ops")),
        env.routing.UpdateRouting(
            routing_service_pb2.UpdateRoutingRequest(route=routing_service_pb2.Route(receiver="api-hook"))
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert "owned by import:am.yml; change the file and reload" in (caught.value.details() or "")
    (rule,) = (
        await env.routing.ListInhibitRules(routing_service_pb2.ListInhibitRulesRequest())
    ).inhibit_rules
    assert rule.source == "import:am.yml"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await env.routing.DeleteInhibitRule(routing_service_pb2.DeleteInhibitRuleRequest(id=rule.id))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    tree = (await env.routing.GetRouting(routing_service_pb2.GetRoutingRequest())).route
    assert tree.source == "import:am.yml"
    # What the API made is the API's still.
    await env.channels.DeleteChannel(channel_service_pb2.DeleteChannelRequest(id=made.channel.id))

    exported = (await env.config.ExportConfig(config_service_pb2.ExportConfigRequest())).content
    for secret in ("ops-token", "abc", "rk"):
        assert secret not in exported.replace("routing_key", "")
    again = load(exported)
    assert sorted(again.receivers) == ["blackhole", "ops", "pager"]
    assert sorted(c.name for c in again.channels) == ["ops", "pager-email-0", "pager-pagerduty-0"]
    assert again.resolve_timeout_ms == 120_000
    assert again.route.routes[0].receiver == "blackhole"
    assert again.inhibit_rules[0].equal == ("alertname",)
    assert [t.name for t in again.time_intervals] == ["nights"]
    ops_again = next(c for c in again.channels if c.name == "ops")
    assert ops_again.config["headers"] == {"Authorization": "Bearer <secret>"}

    # A new import replaces what the previous one owned.
    await env.config.ImportConfig(
        config_service_pb2.ImportConfigRequest(
            content="route: {receiver: only}\nreceivers: [{name: only, webhook_configs: [{url: 'http://h/1'}]}]\n",
            name="am.yml",
        )
    )
    assert [c.name for c in await env.store.channels.all()] == ["only"]
    assert await env.store.inhibit_rules.all() == []


async def test_import_refuses_a_bad_file_naming_its_fields(env: Env) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await env.config.ImportConfig(
            config_service_pb2.ImportConfigRequest(content="route: {receiver: x}\nreceivers: []\n")
        )
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "content.route.receiver" in (caught.value.details() or "")
    assert await env.store.config_files.get("alertmanager") is None


async def test_reload_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "alertmanager.yml"
    path.write_text(GOOD)
    async for env in _env(tmp_path, str(path)):
        reloaded = await env.config.ReloadConfig(config_service_pb2.ReloadConfigRequest())
        assert reloaded.summary.receivers == 3
        status = await env.config.GetConfigStatus(config_service_pb2.GetConfigStatusRequest())
        assert (status.source, status.error) == (str(path), "")
        assert "<secret>" in status.original
        assert "ops-token" not in status.original

        path.write_text(GOOD.replace("receiver: blackhole", "receiver: nobody"))
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await env.config.ReloadConfig(config_service_pb2.ReloadConfigRequest())
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert 'undefined receiver "nobody"' in (caught.value.details() or "")
        status = await env.config.GetConfigStatus(config_service_pb2.GetConfigStatusRequest())
        assert 'undefined receiver "nobody"' in status.error
        assert "receiver: blackhole" in status.original
        tree = await env.store.routing.get()
        assert tree is not None
        assert tree.routes[0].receiver == "blackhole"

        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await env.config.ImportConfig(config_service_pb2.ImportConfigRequest(content=GOOD))
        assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION


async def test_a_destination_the_outbound_policy_denies_refuses_the_file(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    await store.migrate()
    try:
        configs = AlertmanagerConfigs(store, Clock(), Listener(), outbound=OutboundPolicy(deny_private=True))
        with pytest.raises(InvalidArgument) as caught:
            await configs.import_text(
                "route: {receiver: w}\nreceivers: [{name: w, webhook_configs: [{url: 'http://10.0.0.1/x'}]}]\n",
                "am.yml",
            )
        assert [(v.field, v.description) for v in caught.value.violations] == [
            ("content.receivers.w.url", "destination 10.0.0.1 is denied by the outbound policy")
        ]
        assert await store.channels.all() == []
    finally:
        await store.close()


async def test_template_files_are_read_and_parsed(env: Env, tmp_path: Path) -> None:
    (tmp_path / "tmpl").mkdir()
    (tmp_path / "tmpl" / "a.tmpl").write_text('{{ define "team.title" }}T{{ end }}')
    text = f"templates: ['{tmp_path}/tmpl/*.tmpl']\nroute: {{receiver: a}}\nreceivers: [{{name: a}}]\n"
    await env.config.ImportConfig(config_service_pb2.ImportConfigRequest(content=text, name="t.yml"))
    (stored,) = await env.store.notification_templates.list()
    assert (stored.name, stored.text) == (
        str(tmp_path / "tmpl" / "a.tmpl"),
        '{{ define "team.title" }}T{{ end }}',
    )

    (tmp_path / "tmpl" / "b.tmpl").write_text('{{ define "broken" }}{{ .X ')
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await env.config.ImportConfig(config_service_pb2.ImportConfigRequest(content=text, name="t.yml"))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "template: b.tmpl:1: unclosed action" in (caught.value.details() or "")
    assert len(await env.store.notification_templates.list()) == 1
