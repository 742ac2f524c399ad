"""Go text/template, in Python, with Prometheus' and Alertmanager's template functions.

Rule labels and annotations and notification templates are written in Go-template syntax;
this package parses them (so bad ones are rejected at API time with Go's error text) and
renders them as Prometheus and Alertmanager would.
"""

from alerting_server.templating.errors import TemplateError
from alerting_server.templating.template import Template, parse_template

__all__ = ["Template", "TemplateError", "parse_template"]
