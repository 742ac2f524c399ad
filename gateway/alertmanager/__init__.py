"""Alertmanager 0.25's v2 API (`/api/v2/...`) on the gateway, so that Prometheus and amtool work unchanged.

`alertmanager_routes(backend, ...)` are the Starlette routes; `OPENAPI_PATHS` documents them in the
gateway's OpenAPI document.
"""

from __future__ import annotations

import time

from starlette.routing import BaseRoute, Route

from gateway.alertmanager.endpoints import AlertmanagerApi, Identity, Now, served
from gateway.alertmanager.openapi import OPENAPI_PATHS
from gateway.backend import Backend

__all__ = ["OPENAPI_PATHS", "Identity", "alertmanager_routes"]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def alertmanager_routes(
    backend: Backend,
    max_body_bytes: int,
    *,
    clock: Now = _now_ms,
    identity: Identity | None = None,
) -> list[BaseRoute]:
    """The routes of the v2 API. `clock` gives epoch ms (silence checks, which alerts have ended);
    `identity` what /api/v2/status reports (default: started now)."""
    api = AlertmanagerApi(backend, max_body_bytes, clock, identity or Identity(started_at_ms=clock()))
    table = [
        ("/api/v2/alerts", "GET", api.get_alerts, "getAlerts"),
        ("/api/v2/alerts", "POST", api.post_alerts, "postAlerts"),
        ("/api/v2/alerts/groups", "GET", api.get_alert_groups, "getAlertGroups"),
        ("/api/v2/silences", "GET", api.get_silences, "getSilences"),
        ("/api/v2/silences", "POST", api.post_silences, "postSilences"),
        ("/api/v2/silence/{silence_id}", "GET", api.get_silence, "getSilence"),
        ("/api/v2/silence/{silence_id}", "DELETE", api.delete_silence, "deleteSilence"),
        ("/api/v2/status", "GET", api.get_status, "getStatus"),
        ("/api/v2/receivers", "GET", api.get_receivers, "getReceivers"),
    ]
    return [
        Route(path, served(handler), methods=[method], name=f"alertmanager.{operation}")
        for path, method, handler, operation in table
    ]
