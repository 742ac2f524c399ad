"""VictorOps' (Splunk On-Call's) REST endpoint, as Alertmanager's victorops_config sends to it."""

from alerting_server.model import ChannelType
from alerting_server.notify.alertmanager.victorops import DEFAULT_API_URL
from alerting_server.notify.integrations.integration import Connections, Integration
from alerting_server.notify.integrations.victorops.config import SCHEMA, TEMPLATES, VictorOpsConfig
from alerting_server.notify.integrations.victorops.notifier import VictorOpsNotifier
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.notifier import Notifier


def _notifier(config: VictorOpsConfig, connections: Connections) -> Notifier:
    return VictorOpsNotifier(
        client=connections.http, config=config, templates=connections.template_set(), clock=connections.clock
    )


VICTOROPS = Integration(
    type=ChannelType.VICTOROPS,
    schema=SCHEMA,
    config=VictorOpsConfig,
    notifier=_notifier,
    destination="api_url",
    destination_default=DEFAULT_API_URL,
    limits=ChannelLimits(concurrency=2, per_second=2.0, burst=4),
    send_resolved=True,
    templates=TEMPLATES,
)

__all__ = ["VICTOROPS", "VictorOpsConfig", "VictorOpsNotifier"]
