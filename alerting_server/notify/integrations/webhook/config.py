"""The webhook channel's config: Alertmanager's webhook_config, plus an HMAC secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

import httpx

from alerting_common.durations import parse_duration
from alerting_server.notify import proxy
from alerting_server.notify.alertmanager.fields import STYLE_FIELD, is_alertmanager_style
from alerting_server.notify.http import check_tls_config
from alerting_server.notify.integrations.integration import headers
from alerting_server.validation.fields import FieldSpec, Kind

SCHEMA: Mapping[str, FieldSpec] = {
    # A secret as in Alertmanager (SecretURL): webhook URLs often carry tokens.
    "url": FieldSpec(Kind.URL, required=True, secret=True),
    "headers": FieldSpec(Kind.HEADERS),
    "hmac_secret": FieldSpec(Kind.STRING, secret=True),
    "max_alerts": FieldSpec(Kind.COUNT),
    "timeout": FieldSpec(Kind.DURATION),
    "send_resolved": FieldSpec(Kind.BOOL),
    # "alertmanager": the body exactly as Alertmanager writes it (notify/alertmanager/webhook.py),
    # without our Idempotency-Key header.
    "style": STYLE_FIELD,
    # What HTTPS connections trust and present (notify/http.py).
    "tls_config": FieldSpec(Kind.STRING, check=check_tls_config),
    # Prometheus' http_config proxy (notify/proxy.py).
    **proxy.FIELDS,
}


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    hmac_secret: str = ""
    # 0: all alerts.
    max_alerts: int = 0
    # None: the shared client's timeouts.
    timeout: httpx.Timeout | None = None
    alertmanager: bool = False

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        timeout = config.get("timeout")
        return cls(
            url=config["url"],
            headers=headers(config),
            hmac_secret=config.get("hmac_secret") or "",
            max_alerts=int(config.get("max_alerts") or 0),
            timeout=httpx.Timeout(parse_duration(timeout) / 1000) if timeout else None,
            alertmanager=is_alertmanager_style(config),
        )
