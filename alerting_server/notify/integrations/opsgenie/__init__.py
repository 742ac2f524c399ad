"""OpsGenie's Alert API, as Alertmanager's opsgenie_config sends to it."""

from alerting_server.model import ChannelType
from alerting_server.notify.alertmanager.opsgenie import DEFAULT_API_URL
from alerting_server.notify.integrations.integration import Connections, Integration
from alerting_server.notify.integrations.opsgenie.config import SCHEMA, TEMPLATES, OpsGenieConfig
from alerting_server.notify.integrations.opsgenie.notifier import OpsGenieNotifier
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.notifier import Notifier


def _notifier(config: OpsGenieConfig, connections: Connections) -> Notifier:
    return OpsGenieNotifier(
        client=connections.http, config=config, templates=connections.template_set(), clock=connections.clock
    )


OPSGENIE = Integration(
    type=ChannelType.OPSGENIE,
    schema=SCHEMA,
    config=OpsGenieConfig,
    notifier=_notifier,
    destination="api_url",
    destination_default=DEFAULT_API_URL,
    # OpsGenie's Alert API takes a few requests a second per integration; one notification may be
    # three (create, update message, update description).
    limits=ChannelLimits(concurrency=2, per_second=3.0, burst=6),
    send_resolved=True,
    templates=TEMPLATES,
)

__all__ = ["OPSGENIE", "OpsGenieConfig", "OpsGenieNotifier"]
