"""Label and annotation templates (Go text/template, as in Prometheus rule files)."""

from __future__ import annotations

from collections.abc import Mapping

from alerting_server.errors import Violations
from alerting_server.templating import TemplateError, parse_template


def check_template(v: Violations, field: str, text: str, name: str = "") -> None:
    """Record the parser's Go-style message when `text` is not a valid template.

    `name` goes into the message (`template: __alert_HighCPU:1: ...`); Prometheus names a
    rule's templates `__alert_<rule name>`. It defaults to the field's last key.
    """
    try:
        parse_template(text, name or field.rpartition(".")[2])
    except TemplateError as e:
        v.add(field, str(e))


def check_templates(v: Violations, field: str, templates: Mapping[str, str], name: str = "") -> None:
    for key, text in templates.items():
        check_template(v, f"{field}.{key}", text, name)
