"""A Notifier from a stored channel; the config is the dict validation/channels.py has checked."""

from __future__ import annotations

import ssl

import httpx

from alerting_server.clock import Clock, SystemClock
from alerting_server.model import Channel
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.integrations import Connections, integration
from alerting_server.notify.notifier import Notifier
from alerting_server.outbound import OutboundPolicy


def sends_resolved(channel: Channel) -> bool:
    value = channel.config.get("send_resolved")
    return value if isinstance(value, bool) else integration(channel.type).send_resolved


def notifier_for(
    channel: Channel,
    http_client: httpx.AsyncClient,
    *,
    clock: Clock | None = None,
    tls_context: ssl.SSLContext | None = None,
    outbound: OutboundPolicy | None = None,
    templates: TemplateSet | None = None,
) -> Notifier:
    """`tls_context` is what SMTP connections trust; None means the system's CAs. `outbound` is
    where SMTP may connect; HTTP channels are held to the policy of `http_client`'s transport.
    `templates` are what channels of style "alertmanager" render with (None: the defaults)."""
    connections = Connections(
        http=http_client,
        clock=clock or SystemClock(),
        outbound=outbound or OutboundPolicy(),
        tls_context=tls_context,
        templates=templates,
    )
    return integration(channel.type).notifier_for(channel.config, connections)
