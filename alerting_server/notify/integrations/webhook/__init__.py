"""Alertmanager's webhook integration."""

from alerting_server.model import ChannelType
from alerting_server.notify.alertmanager.webhook import AlertmanagerWebhookNotifier
from alerting_server.notify.integrations.integration import Connections, Integration
from alerting_server.notify.integrations.webhook.config import SCHEMA, WebhookConfig
from alerting_server.notify.integrations.webhook.notifier import WebhookNotifier
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.notifier import Notifier


def _notifier(config: WebhookConfig, connections: Connections) -> Notifier:
    if config.alertmanager:
        return AlertmanagerWebhookNotifier(
            client=connections.http,
            url=config.url,
            headers=config.headers,
            max_alerts=config.max_alerts,
            timeout=config.timeout,
            hmac_secret=config.hmac_secret,
            clock=connections.clock,
        )
    return WebhookNotifier(client=connections.http, config=config, clock=connections.clock)


WEBHOOK = Integration(
    type=ChannelType.WEBHOOK,
    schema=SCHEMA,
    config=WebhookConfig,
    notifier=_notifier,
    destination="url",
    # Every send in flight when the process dies is sent again (at-least-once), and a local
    # receiver answers before we record, so nearly every send in flight is one. 4 instead of 16
    # keeps about the throughput (bench/delivery_bench.py: 134/s vs 141/s) and cuts the
    # duplicates at 2,000 notifications and 3 kills from 28 to 11.
    limits=ChannelLimits(concurrency=4, per_second=200.0, burst=50),
    send_resolved=True,
)

__all__ = ["WEBHOOK", "WebhookConfig", "WebhookNotifier"]
