"""Pushover's messages API, as Alertmanager's pushover_config sends to it."""

from alerting_server.model import ChannelType
from alerting_server.notify.alertmanager.pushover import DEFAULT_API_URL
from alerting_server.notify.integrations.integration import Connections, Integration
from alerting_server.notify.integrations.pushover.config import SCHEMA, TEMPLATES, PushoverConfig
from alerting_server.notify.integrations.pushover.notifier import PushoverNotifier
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.notifier import Notifier


def _notifier(config: PushoverConfig, connections: Connections) -> Notifier:
    return PushoverNotifier(
        client=connections.http, config=config, templates=connections.template_set(), clock=connections.clock
    )


PUSHOVER = Integration(
    type=ChannelType.PUSHOVER,
    schema=SCHEMA,
    config=PushoverConfig,
    notifier=_notifier,
    destination="api_url",
    destination_default=DEFAULT_API_URL,
    # Pushover allows about 2 messages a second per application.
    limits=ChannelLimits(concurrency=2, per_second=2.0, burst=4),
    send_resolved=True,
    templates=TEMPLATES,
)

__all__ = ["PUSHOVER", "PushoverConfig", "PushoverNotifier"]
