"""Alertmanager's notifications as Alertmanager renders them: its default templates, the user's
template files after them, and its integrations' wire payloads (channels with `style: alertmanager`)."""

from alerting_server.notify.alertmanager.templates import DEFAULT_TEMPLATE_FILES, TemplateSet

__all__ = ["DEFAULT_TEMPLATE_FILES", "TemplateSet"]
