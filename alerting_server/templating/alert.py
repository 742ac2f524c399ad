"""Expansion of alerting-rule labels and annotations, as Prometheus' rules/alerting.go does it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

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
    Value: float | TemplateHistogram


class Histogram(Protocol):
    """A native histogram as templates see it (query.histogram.FloatHistogram)."""

    schema: int
    count: float
    sum: float
    zero_threshold: float
    zero_count: float

    def __str__(self) -> str: ...


class TemplateHistogram:
    """$value of an alert on a native-histogram sample: Prometheus hands templates the
    *histogram.FloatHistogram, printed by its String() (`{count:4, sum:5, (1,2]:1}`), with the
    exported scalar fields readable (`$value.Count`, `$value.Sum`); humanize and the other number
    functions refuse it, as Go's ConvertToFloat does."""

    go_type_name = "*histogram.FloatHistogram"

    def __init__(self, h: Histogram) -> None:
        self._h = h
        self.Schema = h.schema
        self.Count = h.count
        self.Sum = h.sum
        self.ZeroThreshold = h.zero_threshold
        self.ZeroCount = h.zero_count

    def String(self) -> str:
        return str(self._h)


def render_alert_template(
    text: str,
    name: str,
    labels: Mapping[str, str],
    value: float | TemplateHistogram,
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
