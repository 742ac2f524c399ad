"""The PagerDuty channel's config: Alertmanager's pagerduty_config for the Events API v2."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from alerting_server.errors import Violations
from alerting_server.notify import proxy
from alerting_server.notify.alertmanager.fields import (
    PAGERDUTY_IMAGES,
    PAGERDUTY_LINKS,
    STYLE_FIELD,
    TEMPLATE_MAP,
    is_alertmanager_style,
)
from alerting_server.notify.http import check_tls_config
from alerting_server.notify.integrations.integration import headers
from alerting_server.notify.templates import ChannelTemplates
from alerting_server.notify.texts import SEVERITIES
from alerting_server.templating.names import ALERTMANAGER_FUNCTIONS
from alerting_server.validation.fields import FieldSpec, Kind, json_type
from alerting_server.validation.templates import check_template

DEFAULT_URL = "https://events.pagerduty.com/v2/enqueue"
DEFAULT_SEVERITY = "error"
TEMPLATES = ("summary", "severity", "client", "client_url")
ALERTMANAGER_TEMPLATES = ("description", "class", "component", "group", "source")


def check_severity(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be a string, got {json_type(value)}")
    elif "{{" in value:
        # Rendered per notification, like Alertmanager's templates, with its functions.
        check_template(v, field, value, "severity", ALERTMANAGER_FUNCTIONS)
    elif value not in SEVERITIES:
        v.add(field, f"must be one of {', '.join(SEVERITIES)} (or a template), got {value!r}")


# Where Alertmanager sends Events API v1 events (its notify/pagerduty apiV1).
V1_URL = "https://events.pagerduty.com/generic/2010-04-15/create_event.json"
ROUTING_KEY_HINT = "the 32-character integration key of a PagerDuty Events API v2 integration"
SCHEMA: Mapping[str, FieldSpec] = {
    "routing_key": FieldSpec(
        Kind.STRING,
        secret=True,
        hint=ROUTING_KEY_HINT,
    ),
    # Alertmanager's service_key: an Events API v1 integration key (style "alertmanager" only).
    "service_key": FieldSpec(Kind.STRING, secret=True),
    "url": FieldSpec(Kind.URL),
    "severity": FieldSpec(Kind.STRING, check=check_severity),
    "send_resolved": FieldSpec(Kind.BOOL),
    # What HTTPS connections trust and present (notify/http.py).
    "tls_config": FieldSpec(Kind.STRING, check=check_tls_config),
    # Prometheus' http_config proxy (notify/proxy.py).
    **proxy.FIELDS,
    # Sent with each request (an http_config's Authorization, a Slack app's bearer token); secrets.
    "headers": FieldSpec(Kind.HEADERS),
    # Alertmanager's pagerduty_config `description`: the incident's summary line.
    "summary": FieldSpec(Kind.TEMPLATE),
    "client": FieldSpec(Kind.TEMPLATE),
    "client_url": FieldSpec(Kind.TEMPLATE),
    # "alertmanager": the event Alertmanager's pagerduty_config sends (notify/alertmanager/pagerduty.py),
    # with its own names: `description` the summary, `details` the custom details.
    "style": STYLE_FIELD,
    **{name: FieldSpec(Kind.TEMPLATE) for name in ALERTMANAGER_TEMPLATES},
    "details": TEMPLATE_MAP,
    "images": PAGERDUTY_IMAGES,
    "links": PAGERDUTY_LINKS,
}


def check(v: Violations, config: Mapping[str, Any], path: str) -> None:
    """A routing key (Events API v2) or, for style "alertmanager", a service key (v1): one of them."""
    routing_key, service_key = config.get("routing_key"), config.get("service_key")
    if service_key and not is_alertmanager_style(config):
        v.add(f"{path}.service_key", 'the Events API v1 is sent by channels of style "alertmanager" only')
    elif service_key and routing_key:
        v.add(f"{path}.service_key", "one of routing_key and service_key, not both")
    elif not routing_key and not service_key:
        v.add(f"{path}.routing_key", f"is required: {ROUTING_KEY_HINT}")


@dataclass(frozen=True)
class PagerDutyConfig:
    routing_key: str
    url: str = DEFAULT_URL
    service_key: str = ""
    # A severity, or a template rendering one (among `templates` then).
    severity: str = DEFAULT_SEVERITY
    templates: ChannelTemplates = field(default_factory=ChannelTemplates)
    headers: Mapping[str, str] = field(default_factory=dict)
    # The whole config of a channel of style "alertmanager"; None for this server's own messages.
    alertmanager: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        return cls(
            routing_key=config.get("routing_key") or "",
            url=config.get("url") or (V1_URL if config.get("service_key") else DEFAULT_URL),
            service_key=config.get("service_key") or "",
            severity=config.get("severity") or DEFAULT_SEVERITY,
            templates=ChannelTemplates.from_config(TEMPLATES, config),
            headers=headers(config),
            alertmanager=dict(config) if is_alertmanager_style(config) else None,
        )
