"""Go text/template, in Python, with Prometheus' and Alertmanager's template functions.

Rule labels and annotations and notification templates are written in Go-template syntax;
this package parses them (so bad ones are rejected at API time with Go's error text) and
renders them as Prometheus and Alertmanager would.
"""

from alerting_server.templating.alert import AlertTemplateData, TemplateHistogram, render_alert_template
from alerting_server.templating.alertmanager_funcs import alertmanager_functions
from alerting_server.templating.errors import TemplateError
from alerting_server.templating.gotime import GoDuration, GoTime
from alerting_server.templating.names import ALERTMANAGER_FUNCTIONS, BUILTIN_FUNCTIONS, PROMETHEUS_FUNCTIONS
from alerting_server.templating.prometheus_funcs import QueryFunc, QuerySample, Sample, prometheus_functions
from alerting_server.templating.template import Template, parse_template
from alerting_server.templating.values import NO_VALUE, StrMap

__all__ = [
    "ALERTMANAGER_FUNCTIONS",
    "BUILTIN_FUNCTIONS",
    "NO_VALUE",
    "PROMETHEUS_FUNCTIONS",
    "AlertTemplateData",
    "GoDuration",
    "GoTime",
    "QueryFunc",
    "QuerySample",
    "Sample",
    "StrMap",
    "Template",
    "TemplateError",
    "TemplateHistogram",
    "alertmanager_functions",
    "parse_template",
    "prometheus_functions",
    "render_alert_template",
]
