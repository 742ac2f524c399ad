"""Outbound connections (channels and remote datasources) only reach addresses the outbound policy
allows, checked on the address connected to; against real local receivers, SMTP and HTTPS servers."""

from __future__ import annotations

import asyncio
import ssl
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest
import trustme

from alerting_server import config
from alerting_server.config import ConfigError, DatasourceConfig
from alerting_server.errors import FailedPrecondition, InvalidArgument
from alerting_server.model import Channel, ChannelType, DeliveryStatus
from alerting_server.notify.integrations.webhook import WebhookConfig
from alerting_server.notify.integrations.webhook.notifier import WebhookNotifier
from alerting_server.notify.service import DeliveryOptions, DeliveryService
from alerting_server.outbound import GuardedTransport, OutboundPolicy, literal_address
from alerting_server.query.datasources import Datasources
from alerting_server.query.engine import Engine
from alerting_server.query.tsdb import TSDB
from alerting_server.store import Store
from alerting_server.validation.resources import validate_channel
from tests.notify.alerts import high_cpu_message
from tests.notify.conftest import FixedClock
from tests.notify.integrations.test_email import notifier as email_notifier
from tests.notify.receiver import Receiver, Reply
from tests.notify.smtp import Handler, smtp_server

DENY_PRIVATE = OutboundPolicy(deny_private=True)


async def send(
    url: str, policy: OutboundPolicy, ssl_context: ssl.SSLContext | None = None
) -> tuple[bool, bool, str]:
    transport = GuardedTransport(policy, ssl_context=ssl_context)
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(2.0)) as client:
        notifier = WebhookNotifier(client=client, config=WebhookConfig(url=url))
        result = await notifier.notify(high_cpu_message(), idempotency_key="k")
    return result.ok, result.retryable, result.reason


async def test_a_denied_loopback_receiver_is_refused_for_good_and_gets_nothing(receiver: Receiver) -> None:
    ok, retryable, reason = await send(receiver.url("/hook"), DENY_PRIVATE)

    assert (ok, retryable) == (False, False)
    assert reason == "destination 127.0.0.1 is denied by the outbound policy"
    assert receiver.requests == []


async def test_a_name_resolving_to_a_denied_address_is_refused_at_connect_time(receiver: Receiver) -> None:
    ok, retryable, reason = await send(f"http://localhost:{receiver.port}/hook", DENY_PRIVATE)

    assert (ok, retryable) == (False, False)
    assert reason.startswith("destination localhost (")
    assert reason.endswith(") is denied by the outbound policy")
    assert receiver.requests == []


async def test_loopback_is_reachable_by_default_and_by_an_allow_entry_with_the_host_header_kept(
    receiver: Receiver,
) -> None:
    allowed = OutboundPolicy(deny_private=True, allow=(ip_network("127.0.0.0/8"), ip_network("::1/128")))
    for policy in (OutboundPolicy(), allowed):
        assert (await send(f"http://localhost:{receiver.port}/hook", policy))[0]

    assert [r.headers["host"] for r in receiver.requests] == [f"localhost:{receiver.port}"] * 2


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
    ],
)
async def test_metadata_addresses_are_refused_by_default(url: str) -> None:
    ok, retryable, reason = await send(url, OutboundPolicy())

    assert (ok, retryable) == (False, False)
    assert "is denied by the outbound policy" in reason


async def test_https_goes_to_the_checked_address_and_verifies_the_url_host_name() -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    names: list[str | None] = []
    server_ctx.sni_callback = lambda _sock, name, _ctx: names.append(name)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    try:
        assert (await send(f"https://localhost:{port}/", OutboundPolicy(), client_ctx))[0]
        # A certificate for "localhost" does not pass for the address connected to.
        ok, _, reason = await send(f"https://127.0.0.1:{port}/", OutboundPolicy(), client_ctx)
    finally:
        server.close()
        await server.wait_closed()

    assert not ok
    assert "connection failed" in reason
    assert names[0] == "localhost"


async def test_receiver_answers_come_back_as_a_short_excerpt_without_control_characters(
    receiver: Receiver,
) -> None:
    receiver.answer(Reply(status=400, body=b"\x1b[2J\x1b]0;owned\x07" + b"why " * 500))

    ok, retryable, reason = await send(receiver.url("/hook"), OutboundPolicy())

    assert (ok, retryable) == (False, False)
    assert reason.startswith("HTTP 400: [2J]0;ownedwhy why")
    assert len(reason) <= len("HTTP 400: ") + 200
    assert not any(ord(c) < 32 for c in reason)


async def test_smtp_to_a_denied_host_is_refused_and_the_server_gets_nothing() -> None:
    handler = Handler()
    with smtp_server(handler) as port:
        refused = await email_notifier(port, outbound=DENY_PRIVATE).notify(
            high_cpu_message(), idempotency_key="k"
        )
        by_name = await email_notifier(port, host="localhost", outbound=DENY_PRIVATE).notify(
            high_cpu_message(), idempotency_key="k"
        )
        delivered = await email_notifier(port).notify(high_cpu_message(), idempotency_key="k")

    assert (refused.ok, refused.retryable) == (False, False)
    assert refused.reason == "destination 127.0.0.1 is denied by the outbound policy"
    assert (by_name.ok, by_name.retryable) == (False, False)
    assert by_name.reason.startswith("destination localhost (")
    assert delivered.ok
    assert len(handler.received) == 1


async def test_a_datasource_on_a_denied_host_is_refused_and_gets_nothing(receiver: Receiver) -> None:
    sources = Datasources.from_config(
        Engine(TSDB()), [DatasourceConfig("prom", receiver.url("/"))], DENY_PRIVATE
    )
    try:
        with pytest.raises(FailedPrecondition) as exc:
            await sources.instant("prom", "up", 0)
    finally:
        await sources.close()

    assert exc.value.message == "datasource 'prom': destination 127.0.0.1 is denied by the outbound policy"
    assert receiver.requests == []


async def test_a_datasource_answer_over_the_size_limit_fails_the_query(receiver: Receiver) -> None:
    receiver.answer(
        Reply(
            body=b'{"status":"success","data":{"resultType":"vector","result":[' + b" " * 3_000_000 + b"]}}"
        )
    )
    sources = Datasources.from_config(
        Engine(TSDB()), [DatasourceConfig("prom", receiver.url("/"), max_response_bytes=1_000_000)]
    )
    try:
        with pytest.raises(FailedPrecondition) as exc:
            await sources.instant("prom", "up", 0)
    finally:
        await sources.close()

    assert (
        exc.value.message
        == "datasource 'prom' answered with more than 1000000 bytes (its max_response_bytes)"
    )


@pytest.mark.parametrize(
    ("type", "key", "value"),
    [
        (ChannelType.WEBHOOK, "url", "http://[::ffff:169.254.169.254]/hook"),
        (ChannelType.WEBHOOK, "url", "http://2852039166/hook"),
        (ChannelType.WEBHOOK, "url", "http://[fe80::1%25eth0]/hook"),
        (ChannelType.SLACK, "webhook_url", "http://169.254.169.254/services/x"),
        (ChannelType.PAGERDUTY, "url", "http://0xa9.0xfe.0xa9.0xfe/v2/enqueue"),
        (ChannelType.EMAIL, "smarthost", "[::ffff:a9fe:a9fe]:25"),
    ],
)
def test_a_denied_literal_address_is_invalid_naming_the_field(
    type: ChannelType, key: str, value: str
) -> None:
    valid: dict[ChannelType, dict[str, object]] = {
        ChannelType.WEBHOOK: {"url": "http://hooks.example/x"},
        ChannelType.SLACK: {"webhook_url": "https://hooks.slack.com/services/x"},
        ChannelType.PAGERDUTY: {"routing_key": "k" * 32},
        ChannelType.EMAIL: {"to": ["a@example.org"], "from": "b@example.org", "smarthost": "mx.example:25"},
    }
    config = valid[type]
    validate_channel(Channel(name="c", type=type, config=config))

    with pytest.raises(InvalidArgument) as exc:
        validate_channel(Channel(name="c", type=type, config={**config, key: value}))

    [violation] = exc.value.violations
    assert violation.field == f"config.{key}"
    assert violation.description.endswith("is denied by the outbound policy")


def test_private_literals_are_invalid_only_when_the_policy_denies_them() -> None:
    loopback = Channel(name="c", type=ChannelType.WEBHOOK, config={"url": "http://127.1:9/hook"})
    by_name = Channel(name="c", type=ChannelType.WEBHOOK, config={"url": "http://localhost:9/hook"})
    validate_channel(loopback)
    validate_channel(by_name, DENY_PRIVATE)

    with pytest.raises(InvalidArgument, match=r"destination 127\.0\.0\.1 is denied"):
        validate_channel(loopback, DENY_PRIVATE)


@pytest.mark.parametrize(
    "host",
    ["::ffff:169.254.169.254", "[::ffff:a9fe:a9fe]", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::", "169.254.0.1"],
)
def test_embedded_and_odd_spellings_of_link_local_are_always_denied(host: str) -> None:
    address = literal_address(host)
    assert address is not None
    assert OutboundPolicy().denies(address)
    assert literal_address("hooks.example") is None


def test_outbound_and_response_limit_settings() -> None:
    cfg = config.from_mapping(
        {
            "outbound": {"deny_private": True, "deny": ["203.0.113.0/24"], "allow": ["10.0.5.25/32"]},
            "datasources": [{"name": "p", "url": "http://prom:9090", "max_response_bytes": 1024}],
        }
    )
    policy = cfg.outbound
    assert policy.denies(ip_network("203.0.113.7/32").network_address)
    assert policy.denies(ip_network("10.0.5.26/32").network_address)
    assert not policy.denies(ip_network("10.0.5.25/32").network_address)
    assert cfg.datasources[0].max_response_bytes == 1024
    assert config.Config().outbound == OutboundPolicy()
    with pytest.raises(ConfigError, match=r"outbound\.deny\[0\]"):
        config.from_mapping({"outbound": {"deny": ["10.0.0.0/33"]}})
    with pytest.raises(ConfigError, match=r"outbound\.deny_private"):
        config.from_mapping({"outbound": {"deny_private": "yes"}})


async def test_test_channel_through_the_delivery_service_is_held_to_its_policy(
    tmp_path: Path, receiver: Receiver
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'a.db'}")
    await store.migrate()
    service = DeliveryService(store, FixedClock(1_700_000_000_000), DeliveryOptions(outbound=DENY_PRIVATE))
    try:
        channel = Channel(name="hook", type=ChannelType.WEBHOOK, config={"url": receiver.url("/hook")})
        created = await store.channels.create(channel, 1_700_000_000_000)
        delivery = await service.test(created.id)
    finally:
        await service.stop()
        await store.close()

    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_error == "destination 127.0.0.1 is denied by the outbound policy"
    assert receiver.requests == []
