"""Slack incoming webhooks."""

from alerting_server.model import ChannelType
from alerting_server.notify.alertmanager.slack import AlertmanagerSlackNotifier
from alerting_server.notify.integrations.integration import Connections, Integration
from alerting_server.notify.integrations.slack.config import SCHEMA, TEMPLATES, SlackConfig
from alerting_server.notify.integrations.slack.notifier import SlackNotifier
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.notifier import Notifier


def _notifier(config: SlackConfig, connections: Connections) -> Notifier:
    if config.alertmanager is not None:
        return AlertmanagerSlackNotifier(
            client=connections.http,
            webhook_url=config.webhook_url,
            config=config.alertmanager,
            headers=config.headers,
            templates=connections.template_set(),
            clock=connections.clock,
        )
    return SlackNotifier(
        client=connections.http, config=config, clock=connections.clock, template_set=connections.templates
    )


SLACK = Integration(
    type=ChannelType.SLACK,
    schema=SCHEMA,
    config=SlackConfig,
    notifier=_notifier,
    destination="webhook_url",
    # Slack takes about one message a second per webhook.
    limits=ChannelLimits(concurrency=1, per_second=1.0, burst=1),
    send_resolved=False,
    templates=TEMPLATES,
)

__all__ = ["SLACK", "SlackConfig", "SlackNotifier"]
