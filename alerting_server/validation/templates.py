"""Label and annotation templates (Go text/template, as in Prometheus rule files)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from alerting_server.errors import Violations
from alerting_server.templating import Template, TemplateError, parse_template
from alerting_server.templating.strconv import go_quote

# Prometheus puts these in front of every alerting rule template before parsing it, which is
# what makes `$value` and `$labels` defined; without them the parser rejects both.
RULE_TEMPLATE_DEFS = (
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}"
)


def check_template(
    v: Violations, field: str, text: str, name: str = "", funcs: Collection[str] | None = None
) -> None:
    """Record the parser's Go-style message when `text` is not a valid template.

    `name` goes into the message (`template: summary:1: ...`); it defaults to the field's last
    key. `funcs` are the callable functions besides Go's builtins (default: Prometheus').
    """
    name = name or field.rpartition(".")[2]
    try:
        _check_recursion(v, field, parse_template(text, name, funcs))
    except TemplateError as e:
        v.add(field, str(e))


def check_rule_templates(v: Violations, field: str, templates: Mapping[str, str], rule_name: str) -> None:
    """An alerting rule's label or annotation templates, parsed as Prometheus parses them.

    The message names the template `__alert_<rule name>`, as promtool's does.
    """
    for key, text in templates.items():
        try:
            _check_recursion(
                v, f"{field}.{key}", parse_template(RULE_TEMPLATE_DEFS + text, f"__alert_{rule_name}")
            )
        except TemplateError as e:
            v.add(f"{field}.{key}", str(e))


def _check_recursion(v: Violations, field: str, template: Template) -> None:
    # Whether a template ends is undecidable; a call cycle with no condition on it never does.
    looping = template.endless_recursion()
    if looping is not None:
        v.add(
            field,
            f"template: {template.name}: template {go_quote(looping)} calls itself with no condition, "
            "so it never ends",
        )
