"""Config fields of the `alertmanager` style that a plain kind cannot check: `style` itself, and
Alertmanager's lists of objects (Slack fields and actions, PagerDuty images and links) and maps
of templates (PagerDuty details)."""

from __future__ import annotations

from collections.abc import Mapping

from alerting_server.errors import Violations
from alerting_server.notify import proxy
from alerting_server.notify.http import check_tls_config
from alerting_server.templating.names import ALERTMANAGER_FUNCTIONS
from alerting_server.validation.fields import MAX_TEMPLATE_LENGTH, Check, FieldSpec, Kind, json_type
from alerting_server.validation.templates import check_template

STYLE = "alertmanager"
# More entries than any message shows; a bound on what a config may hold.
MAX_ITEMS = 100


def is_alertmanager_style(config: Mapping[str, object]) -> bool:
    return config.get("style") == STYLE


def _check_style(v: Violations, field: str, value: object) -> None:
    if value != STYLE:
        v.add(field, f'must be "{STYLE}" (or absent, for this server\'s own messages), got {value!r}')


STYLE_FIELD = FieldSpec(Kind.STRING, check=_check_style)


def check_template_value(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, str):
        v.add(field, f"must be a template string, got {json_type(value)}")
    elif len(value) > MAX_TEMPLATE_LENGTH:
        v.add(field, f"must be at most {MAX_TEMPLATE_LENGTH} characters")
    else:
        check_template(v, field, value, funcs=ALERTMANAGER_FUNCTIONS)


def _check_bool(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, bool):
        v.add(field, f"must be a boolean, got {json_type(value)}")


def objects(
    keys: Mapping[str, Check], required: tuple[str, ...] = (), nested: Mapping[str, Check] | None = None
) -> Check:
    """A list of objects whose keys are `keys` (each checked by its check), `required` non-empty."""

    def check(v: Violations, field: str, value: object) -> None:
        if not isinstance(value, list):
            v.add(field, f"must be a list of objects, got {json_type(value)}")
            return
        if len(value) > MAX_ITEMS:
            v.add(field, f"at most {MAX_ITEMS} items, got {len(value)}")
            return
        for i, item in enumerate(value):
            path = f"{field}[{i}]"
            if not isinstance(item, Mapping):
                v.add(path, f"must be an object, got {json_type(item)}")
                continue
            for key, sub in item.items():
                if key not in keys:
                    v.add(f"{path}.{key}", f"unknown field (known: {', '.join(sorted(keys))})")
                elif sub is not None:
                    keys[key](v, f"{path}.{key}", sub)
            for key in required:
                if not item.get(key):
                    v.add(f"{path}.{key}", "is required")

    return check


def object_of(keys: Mapping[str, Check], required: tuple[str, ...] = ()) -> Check:
    def check(v: Violations, field: str, value: object) -> None:
        if not isinstance(value, Mapping):
            v.add(field, f"must be an object, got {json_type(value)}")
            return
        for key, sub in value.items():
            if key not in keys:
                v.add(f"{field}.{key}", f"unknown field (known: {', '.join(sorted(keys))})")
            elif sub is not None:
                keys[key](v, f"{field}.{key}", sub)
        for key in required:
            if not value.get(key):
                v.add(f"{field}.{key}", "is required")

    return check


def template_map(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, Mapping):
        v.add(field, f"must be an object of names to templates, got {json_type(value)}")
        return
    if len(value) > MAX_ITEMS:
        v.add(field, f"at most {MAX_ITEMS} entries, got {len(value)}")
        return
    for key, text in value.items():
        check_template_value(v, f"{field}.{key}", text)


def string_list(v: Violations, field: str, value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        v.add(field, f"must be a list of strings, got {json_type(value)}")
    elif len(value) > MAX_ITEMS:
        v.add(field, f"at most {MAX_ITEMS} items, got {len(value)}")


T = check_template_value
_confirm = object_of({"text": T, "title": T, "ok_text": T, "dismiss_text": T}, required=("text",))

SLACK_FIELDS = FieldSpec(
    Kind.STRING, check=objects({"title": T, "value": T, "short": _check_bool}, ("title", "value"))
)
SLACK_ACTIONS = FieldSpec(
    Kind.STRING,
    check=objects(
        {"type": T, "text": T, "url": T, "style": T, "name": T, "value": T, "confirm": _confirm},
        ("type", "text"),
    ),
)
PAGERDUTY_IMAGES = FieldSpec(Kind.STRING, check=objects({"src": T, "alt": T, "href": T}))
PAGERDUTY_LINKS = FieldSpec(Kind.STRING, check=objects({"href": T, "text": T}))
TEMPLATE_MAP = FieldSpec(Kind.STRING, check=template_map)
STRING_LIST = FieldSpec(Kind.STRING, check=string_list)


# The fields every HTTP receiver of Alertmanager's that exists only in its style has: what
# send_resolved, http_config (its authorization as a header, its tls_config) and the style say.
ALERTMANAGER_HTTP_FIELDS: Mapping[str, FieldSpec] = {
    "send_resolved": FieldSpec(Kind.BOOL),
    "headers": FieldSpec(Kind.HEADERS),
    # What HTTPS connections trust and present (notify/http.py).
    "tls_config": FieldSpec(Kind.STRING, check=check_tls_config),
    # Prometheus' http_config proxy (notify/proxy.py).
    **proxy.FIELDS,
    "style": STYLE_FIELD,
}
