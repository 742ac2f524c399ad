"""Email over SMTP."""

from alerting_server.model import ChannelType
from alerting_server.notify.alertmanager.email import AlertmanagerEmailNotifier
from alerting_server.notify.integrations.email.config import SCHEMA, TEMPLATES, EmailConfig, check
from alerting_server.notify.integrations.email.notifier import EmailNotifier
from alerting_server.notify.integrations.integration import Connections, Integration
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.notifier import Notifier


def _notifier(config: EmailConfig, connections: Connections) -> Notifier:
    smtp = EmailNotifier(
        config=config,
        tls_context=connections.tls_context,
        outbound=connections.outbound,
        clock=connections.clock,
        template_set=connections.templates,
    )
    if config.alertmanager is not None:
        return AlertmanagerEmailNotifier(
            smtp=smtp, config=config.alertmanager, templates=connections.template_set()
        )
    return smtp


EMAIL = Integration(
    type=ChannelType.EMAIL,
    schema=SCHEMA,
    config=EmailConfig,
    notifier=_notifier,
    destination="smarthost",
    limits=ChannelLimits(concurrency=4, per_second=10.0, burst=10),
    send_resolved=False,
    templates=TEMPLATES,
    check=check,
)

__all__ = ["EMAIL", "EmailConfig", "EmailNotifier"]
