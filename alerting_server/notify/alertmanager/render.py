"""Rendering one notification's fields with Alertmanager's template set and data."""

from __future__ import annotations

from urllib.parse import quote

from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.message import Message
from alerting_server.notify.notifier import DeliveryResult
from alerting_server.notify.template_data import TemplateData, template_data
from alerting_server.templating import TemplateError

# Alertmanager's notify.TruncateInRunes marker.
TRUNCATION_MARKER = "…"


class TemplateFailed(Exception):
    """A field's template failed: Alertmanager sends nothing then, and does not retry."""

    def __init__(self, field: str, error: str) -> None:
        super().__init__(f"template {field}: {error}")

    def result(self) -> DeliveryResult:
        return DeliveryResult(ok=False, retryable=False, reason=str(self))


class Renderer:
    def __init__(self, templates: TemplateSet, message: Message, now_ms: int) -> None:
        self.templates = templates
        self.data: TemplateData = template_data(message)
        self.now_ms = now_ms

    def text(self, field: str, text: str) -> str:
        try:
            return self.templates.text(text, self.data, self.now_ms)
        except TemplateError as e:
            raise TemplateFailed(field, str(e)) from None

    def html(self, field: str, text: str) -> str:
        try:
            return self.templates.html(text, self.data, self.now_ms)
        except TemplateError as e:
            raise TemplateFailed(field, str(e)) from None


def go_path(path: str) -> str:
    """A URL path (decoded) as Go's URL.String writes one that was changed: escaped but for letters,
    digits, "-_.~" and "$&+,/:;=@"."""
    return quote(path, safe="$&+,/:;=@")


def truncate_in_runes(s: str, n: int) -> str:
    """notify.TruncateInRunes."""
    if len(s) <= n:
        return s
    if n <= 3:
        return s[:n]
    return s[: n - 1] + TRUNCATION_MARKER
