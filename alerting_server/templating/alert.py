"""Expansion of alerting-rule labels and annotations, as Prometheus' rules/alerting.go does it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from alerting_server.templating.errors import TemplateError
from alerting_server.templating.prometheus_funcs import QueryFunc, prometheus_functions
from alerting_server.templating.template import parse_template
from alerting_server.templating.values import StrMap

# Prometheus prepends these so that rule templates can say $labels, $value, ...
ALERT_TEMPLATE_DEFS = (
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}"
)


@dataclass
class AlertTemplateData:
    """template.AlertTemplateData: the dot of an alert template."""

    go_type_name = (
        "struct { Labels map[string]string; ExternalLabels map[string]string; "
        "ExternalURL string; Value interface {} }"
    )
    Labels: StrMap
    ExternalLabels: StrMap
    ExternalURL: str
    Value: float


def render_alert_template(
    text: str,
    name: str,
    labels: Mapping[str, str],
    value: float,
    external_labels: Mapping[str, str],
    external_url: str = "",
    query: QueryFunc | None = None,
    now_ms: int = 0,
) -> str:
    """Expands one label or annotation of alerting rule `name` for one alert.

    Never raises: like Prometheus, a broken template yields `<error expanding template: ...>`
    as the annotation's text, so one bad annotation does not stop the alert.
    """
    template_name = "__alert_" + name
    data = AlertTemplateData(StrMap(labels), StrMap(external_labels), external_url, value)
    funcs = prometheus_functions(external_url=external_url, query=query, now_ms=now_ms)
    try:
        tmpl = parse_template(ALERT_TEMPLATE_DEFS + text, template_name)
    except TemplateError as err:
        return f"<error expanding template: error parsing template {template_name}: {err}>"
    try:
        return tmpl.execute(data, funcs)
    except TemplateError as err:
        return f"<error expanding template: error executing template {template_name}: {err}>"
