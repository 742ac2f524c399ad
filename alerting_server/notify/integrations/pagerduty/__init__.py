"""PagerDuty Events API v2."""

from alerting_server.model import ChannelType
from alerting_server.notify.alertmanager.pagerduty import AlertmanagerPagerDutyNotifier
from alerting_server.notify.integrations.integration import Connections, Integration
from alerting_server.notify.integrations.pagerduty.config import (
    DEFAULT_URL,
    SCHEMA,
    TEMPLATES,
    PagerDutyConfig,
    check,
)
from alerting_server.notify.integrations.pagerduty.notifier import PagerDutyNotifier
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.notifier import Notifier


def _notifier(config: PagerDutyConfig, connections: Connections) -> Notifier:
    if config.alertmanager is not None:
        return AlertmanagerPagerDutyNotifier(
            client=connections.http,
            routing_key=config.routing_key,
            url=config.url,
            config=config.alertmanager,
            headers=config.headers,
            service_key=config.service_key,
            templates=connections.template_set(),
            clock=connections.clock,
        )
    return PagerDutyNotifier(
        client=connections.http, config=config, clock=connections.clock, template_set=connections.templates
    )


PAGERDUTY = Integration(
    type=ChannelType.PAGERDUTY,
    schema=SCHEMA,
    config=PagerDutyConfig,
    notifier=_notifier,
    destination="url",
    destination_default=DEFAULT_URL,
    # PagerDuty takes about 120 events a minute per routing key.
    limits=ChannelLimits(concurrency=2, per_second=2.0, burst=4),
    send_resolved=True,
    templates=TEMPLATES,
    check=check,
)

__all__ = ["PAGERDUTY", "PagerDutyConfig", "PagerDutyNotifier"]
