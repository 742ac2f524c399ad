"""A Notifier from a stored channel; the config is the dict validation/channels.py has checked."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import httpx

from alerting_common.durations import parse_duration
from alerting_server.clock import Clock, SystemClock
from alerting_server.model import Channel, ChannelType
from alerting_server.notify.email import EmailNotifier
from alerting_server.notify.notifier import Notifier
from alerting_server.notify.pagerduty import PagerDutyNotifier
from alerting_server.notify.slack import SlackNotifier
from alerting_server.notify.templates import ChannelTemplates
from alerting_server.notify.webhook import WebhookNotifier
from alerting_server.outbound import OutboundPolicy
from alerting_server.validation.channels import PAGERDUTY_DEFAULT_URL

# Alertmanager's defaults for send_resolved, per integration.
SEND_RESOLVED_DEFAULTS = {
    ChannelType.EMAIL: False,
    ChannelType.SLACK: False,
    ChannelType.PAGERDUTY: True,
    ChannelType.WEBHOOK: True,
}


def sends_resolved(channel: Channel) -> bool:
    value = channel.config.get("send_resolved")
    return value if isinstance(value, bool) else SEND_RESOLVED_DEFAULTS[channel.type]


def notifier_for(
    channel: Channel,
    http_client: httpx.AsyncClient,
    *,
    clock: Clock | None = None,
    tls_context: ssl.SSLContext | None = None,
    outbound: OutboundPolicy | None = None,
) -> Notifier:
    """`tls_context` is what SMTP connections trust; None means the system's CAs. `outbound` is
    where SMTP may connect; HTTP channels are held to the policy of `http_client`'s transport."""
    c = channel.config
    now = clock or SystemClock()
    match channel.type:
        case ChannelType.WEBHOOK:
            timeout = httpx.Timeout(parse_duration(c["timeout"]) / 1000) if c.get("timeout") else None
            return WebhookNotifier(
                client=http_client,
                url=c["url"],
                headers=_headers(c),
                hmac_secret=c.get("hmac_secret") or "",
                max_alerts=int(c.get("max_alerts") or 0),
                timeout=timeout,
                clock=now,
            )
        case ChannelType.SLACK:
            return SlackNotifier(
                client=http_client,
                webhook_url=c["webhook_url"],
                channel=c.get("channel") or "",
                username=c.get("username") or "",
                icon_emoji=c.get("icon_emoji") or "",
                clock=now,
                templates=ChannelTemplates.from_config(channel.type, c),
            )
        case ChannelType.PAGERDUTY:
            return PagerDutyNotifier(
                client=http_client,
                routing_key=c["routing_key"],
                url=c.get("url") or PAGERDUTY_DEFAULT_URL,
                severity=c.get("severity") or "error",
                clock=now,
                templates=ChannelTemplates.from_config(channel.type, c),
            )
        case ChannelType.EMAIL:
            host, port = _host_port(c["smarthost"])
            return EmailNotifier(
                sender=c["from"],
                to=tuple(c["to"]),
                host=host,
                port=port,
                username=c.get("username") or "",
                password=c.get("password") or "",
                starttls=c.get("starttls") is True,
                tls=c.get("tls") is True,
                reply_to=c.get("reply_to") or "",
                headers=_headers(c),
                tls_context=tls_context,
                outbound=outbound or OutboundPolicy(),
                clock=now,
                templates=ChannelTemplates.from_config(channel.type, c),
            )


def _headers(config: Mapping[str, Any]) -> dict[str, str]:
    headers = config.get("headers") or {}
    return {str(k): str(v) for k, v in headers.items()}


def _host_port(smarthost: str) -> tuple[str, int]:
    host, _, port = smarthost.rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)
