from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import pytest

from alerting_server.errors import Violations
from alerting_server.model import Channel, ChannelType
from alerting_server.notify import notifier_for, sends_resolved
from alerting_server.notify.integrations.email.notifier import EmailNotifier
from alerting_server.notify.integrations.pagerduty.notifier import PagerDutyNotifier
from alerting_server.validation.channels import check_channel_config
from tests.notify.alerts import high_cpu_message
from tests.notify.receiver import Receiver, Reply
from tests.notify.smtp import Handler, smtp_server


def channel(type: ChannelType, config: dict[str, Any]) -> Channel:
    v = Violations()
    check_channel_config(v, type, config)
    assert not v.items, v.items
    return Channel(name="c", type=type, config=config)


async def test_webhook_from_config(receiver: Receiver, client: httpx.AsyncClient) -> None:
    config = {
        "url": receiver.url("/h"),
        "headers": {"X-Env": "prod"},
        "hmac_secret": "s",
        "max_alerts": 1.0,  # as a protobuf Struct delivers numbers
        "timeout": "2s",
    }
    n = notifier_for(channel(ChannelType.WEBHOOK, config), client)
    assert (await n.notify(high_cpu_message(), idempotency_key="k")).ok
    [req] = receiver.requests
    assert req.headers["x-env"] == "prod"
    assert (
        req.headers["x-alerting-signature"]
        == "sha256=" + hmac.new(b"s", req.body, hashlib.sha256).hexdigest()
    )
    body = req.json()
    assert isinstance(body, dict)
    assert body["truncatedAlerts"] == 2


async def test_slack_from_config(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.answer(Reply(200, b"ok"))
    config = {"webhook_url": receiver.url("/services/x"), "channel": "#ops"}
    n = notifier_for(channel(ChannelType.SLACK, config), client)
    assert (await n.notify(high_cpu_message(), idempotency_key="k")).ok
    body = receiver.requests[0].json()
    assert isinstance(body, dict)
    assert body["channel"] == "#ops"


async def test_pagerduty_from_config(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.answer(Reply(202, b"{}"), Reply(202, b"{}"))
    config = {"routing_key": "k" * 32, "url": receiver.url("/v2/enqueue"), "severity": "warning"}
    n = notifier_for(channel(ChannelType.PAGERDUTY, config), client)
    assert isinstance(n, PagerDutyNotifier)
    assert (await n.notify(high_cpu_message(), idempotency_key="k")).ok
    assert (await n.acknowledge("g")).ok
    assert [r.path for r in receiver.requests] == ["/v2/enqueue", "/v2/enqueue"]


def test_pagerduty_defaults(client: httpx.AsyncClient) -> None:
    n = notifier_for(channel(ChannelType.PAGERDUTY, {"routing_key": "k" * 32}), client)
    assert isinstance(n, PagerDutyNotifier)
    assert (n.config.url, n.config.severity) == ("https://events.pagerduty.com/v2/enqueue", "error")


async def test_email_from_config(client: httpx.AsyncClient) -> None:
    handler = Handler()
    with smtp_server(handler, auth=True) as port:
        config = {
            "to": ["a@example.org"],
            "from": "alerts@example.org",
            "smarthost": f"127.0.0.1:{port}",
            "username": "alice",
            "password": "pa55",
            "reply_to": "noc@example.org",
        }
        n = notifier_for(channel(ChannelType.EMAIL, config), client)
        result = await n.notify(high_cpu_message(), idempotency_key="k")
    assert result.ok, result.reason
    assert handler.received[0].login == "alice"
    assert handler.received[0].message["Reply-To"] == "noc@example.org"


def test_email_ipv6_smarthost_and_tls_flags(client: httpx.AsyncClient) -> None:
    config = {"to": ["a@example.org"], "from": "b@example.org", "smarthost": "[::1]:465", "tls": True}
    n = notifier_for(channel(ChannelType.EMAIL, config), client)
    assert isinstance(n, EmailNotifier)
    assert (n.config.host, n.config.port, n.config.tls, n.config.starttls) == ("::1", 465, True, False)


@pytest.mark.parametrize(
    ("type", "config", "expected"),
    [
        (ChannelType.WEBHOOK, {}, True),
        (ChannelType.PAGERDUTY, {}, True),
        (ChannelType.SLACK, {}, False),
        (ChannelType.EMAIL, {}, False),
        (ChannelType.SLACK, {"send_resolved": True}, True),
        (ChannelType.WEBHOOK, {"send_resolved": False}, False),
    ],
)
def test_send_resolved_defaults_are_alertmanagers(
    type: ChannelType, config: dict[str, Any], expected: bool
) -> None:
    assert sends_resolved(Channel(name="c", type=type, config=config)) is expected
