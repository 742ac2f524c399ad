"""The file's text with its secrets replaced by `<secret>`, as Alertmanager's /api/v2/status shows
its configuration; the rest (comments included) is kept as written."""

from __future__ import annotations

import yaml

from alerting_server.amconfig.nodes import compose, scalar_spans
from alerting_server.validation.fields import SECRET_PLACEHOLDER

# Keys whose value is a secret wherever they appear (Alertmanager's Secret and SecretURL fields).
SECRET_KEYS = {
    "smtp_auth_password": False,
    "smtp_auth_secret": False,
    "slack_api_url": False,
    "slack_app_token": False,
    "opsgenie_api_key": False,
    "wechat_api_secret": False,
    "victorops_api_key": False,
    "telegram_bot_token": False,
    "rocketchat_token": False,
    "rocketchat_token_id": False,
    "mattermost_webhook_url": False,
    "auth_password": False,
    "auth_secret": False,
    "api_url": False,
    "app_token": False,
    "routing_key": False,
    "service_key": False,
    "password": False,
    "credentials": False,
    "bearer_token": False,
    "api_key": False,
    "token": False,
    "user_key": False,
    "bot_token": False,
    "webhook_url": False,
    "api_secret": False,
}


def redact(text: str) -> str:
    """`text` with every secret value replaced; a text that does not parse is returned as
    `<secret>` whole (what it holds cannot be told apart)."""
    try:
        root = compose(text)
    except yaml.YAMLError:
        return SECRET_PLACEHOLDER
    if root is None:
        return text
    spans = scalar_spans(root, SECRET_KEYS) + _webhook_urls(root)
    out = text
    for start, end in sorted(set(spans), reverse=True):
        out = out[:start] + SECRET_PLACEHOLDER + out[end:]
    return out


def _webhook_urls(root: yaml.Node) -> list[tuple[int, int]]:
    """A webhook's `url` is a secret (it often carries a token); PagerDuty's `url` is not."""
    spans: list[tuple[int, int]] = []

    def walk(node: yaml.Node) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == "webhook_configs":
                    for item in value.value if isinstance(value, yaml.SequenceNode) else []:
                        spans.extend(scalar_spans(item, {"url": False}))
                else:
                    walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)

    walk(root)
    return spans
