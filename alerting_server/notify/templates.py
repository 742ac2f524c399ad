"""A channel's overridden message texts: Go templates over Alertmanager's data model.

The config keys are Alertmanager's receiver fields, each integration naming its own (email
`subject`, `text`, `html`; slack `title`, `text`, `pretext`, `footer`; pagerduty `summary`,
`severity`, `client`, `client_url`). A text can call Alertmanager's default templates and the
stored template files (notify/alertmanager/templates.py). Validation rejects a template that does
not parse; one that fails when it runs (a function's error, a missing template) must not cost the
notification: the channel's own rendering of that part is sent instead, and the error is kept so
the delivery can tell it. (Channels of style "alertmanager" fail as Alertmanager does instead.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from alerting_server.notify.alertmanager.templates import TemplateSet, default_set
from alerting_server.notify.message import Message
from alerting_server.notify.notifier import DeliveryResult
from alerting_server.notify.template_data import TemplateData, template_data
from alerting_server.templating import ALERTMANAGER_FUNCTIONS, Template, TemplateError, parse_template


def parse(key: str, text: str) -> Template:
    """Parses one overridden text with Alertmanager's functions; raises TemplateError."""
    return parse_template(text, key, ALERTMANAGER_FUNCTIONS)


@dataclass(frozen=True)
class ChannelTemplates:
    """The overridden texts of one channel, parsed once per config."""

    templates: Mapping[str, Template] = field(default_factory=dict)
    # Texts stored before they were validated, and that do not parse: said at every send.
    broken: Mapping[str, str] = field(default_factory=dict)
    # The text of each of `templates`, to parse into a template set.
    texts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, fields: Iterable[str], config: Mapping[str, object]) -> ChannelTemplates:
        """`fields` are the keys of `config` that hold templates (the integration's `templates`)."""
        templates: dict[str, Template] = {}
        broken: dict[str, str] = {}
        texts: dict[str, str] = {}
        for key in fields:
            text = config.get(key)
            if not isinstance(text, str) or not text:
                continue
            if key == "severity" and "{{" not in text:
                # A plain PagerDuty severity is the default under the alerts' own severity labels.
                continue
            try:
                templates[key] = parse(key, text)
                texts[key] = text
            except TemplateError as e:
                broken[key] = str(e)
        return cls(templates, broken, texts)

    def __contains__(self, key: str) -> bool:
        return key in self.templates or key in self.broken

    def expander(self, message: Message, now_ms: int, template_set: TemplateSet | None = None) -> Expander:
        """`template_set`: the templates the texts may call (None: Alertmanager's defaults alone)."""
        return Expander(self, template_data(message), now_ms, template_set or default_set())


class Expander:
    """Renders a channel's overridden texts for one message; what failed is kept in `errors`."""

    def __init__(
        self, templates: ChannelTemplates, data: TemplateData, now_ms: int, template_set: TemplateSet
    ) -> None:
        self._templates = templates
        self._data = data
        self._now_ms = now_ms
        self._set = template_set
        self.errors: list[str] = []

    def text(self, key: str, default: Callable[[], str]) -> str:
        """The rendered override of `key`, else `default()` (not overridden, or the override failed)."""
        broken = self._templates.broken.get(key)
        if broken is not None:
            self.errors.append(f"template config.{key}: {broken}")
            return default()
        text = self._templates.texts.get(key)
        if text is None:
            return default()
        try:
            return self._set.text(text, self._data, self._now_ms, name=key)
        except TemplateError as e:
            self.errors.append(f"template config.{key}: {e}")
            return default()
        except RecursionError:
            # A {{define}} that calls itself runs out of Python's stack before Go's depth limit.
            self.errors.append(f"template config.{key}: exceeded the maximum template depth")
            return default()

    def __contains__(self, key: str) -> bool:
        return key in self._templates

    def reason(self) -> str:
        """What to tell of failed templates; "" when all rendered."""
        if not self.errors:
            return ""
        return "; ".join(self.errors) + " (sent with the default text instead)"


def noting_template_errors(result: DeliveryResult, expander: Expander) -> DeliveryResult:
    """`result` with the failed templates told in its reason, which the delivery records."""
    told = expander.reason()
    if not told:
        return result
    return replace(result, reason=f"{result.reason}; {told}" if result.reason else told)
