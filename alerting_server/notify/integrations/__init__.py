"""The channel types, one package each: its config (fields, secrets, destination, defaults), its
notifier, its templates and its limits. A new type is a package here, a line in INTEGRATIONS and
a value of ChannelType (and of the proto enum)."""

from collections.abc import Mapping
from typing import Any

from alerting_server.model import ChannelType
from alerting_server.notify.integrations.email import EMAIL
from alerting_server.notify.integrations.integration import Connections, Integration
from alerting_server.notify.integrations.opsgenie import OPSGENIE
from alerting_server.notify.integrations.pagerduty import PAGERDUTY
from alerting_server.notify.integrations.pushover import PUSHOVER
from alerting_server.notify.integrations.slack import SLACK
from alerting_server.notify.integrations.victorops import VICTOROPS
from alerting_server.notify.integrations.webhook import WEBHOOK
from alerting_server.notify.limits import ChannelLimits

INTEGRATIONS: Mapping[ChannelType, Integration[Any]] = {
    i.type: i for i in (EMAIL, SLACK, PAGERDUTY, WEBHOOK, OPSGENIE, VICTOROPS, PUSHOVER)
}
DEFAULT_LIMITS: Mapping[ChannelType, ChannelLimits] = {t: i.limits for t, i in INTEGRATIONS.items()}


def integration(type: ChannelType) -> Integration[Any]:
    return INTEGRATIONS[type]


__all__ = ["DEFAULT_LIMITS", "INTEGRATIONS", "Connections", "Integration", "integration"]
