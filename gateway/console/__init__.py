"""The web console at /ui/: server-rendered pages for the on-call engineer.

The alerts page lists firing, pending and recently resolved alerts from ListAlerts, then keeps the
list live from the WatchAlerts stream (GET /alerts/watch) with a small script served from this
package; nothing is fetched from elsewhere. The label filter lives in the URL (`?filter=`,
Alertmanager matcher syntax) and is checked by the server's matcher parser: a bad one is a 400 page
that says why. Every value shown is HTML-escaped; the pages' Content-Security-Policy allows only
this gateway's own script and style.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from importlib import resources

import grpc
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from alerting.v1 import alert_service_pb2
from alerting_common.jsonmap import JSON, to_json
from gateway.backend import Backend
from gateway.errors import from_rpc_error, guarded
from gateway.routes import RpcRoute

PREFIX = "/ui"
LIST_ALERTS = "alerting.v1.AlertService.ListAlerts"
# Enough rows for one screen of on-call work; ListAlerts caps a page at 1000.
PAGE_SIZE = 500
_STATE_RANK = {"firing": 0, "pending": 1, "resolved": 2}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_ASSETS = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}


def _asset(name: str) -> bytes:
    return resources.files(__package__).joinpath(name).read_bytes()


def _page(title: str, main: str, status: int = 200, script: bool = False) -> HTMLResponse:
    scripts = f'<script src="{PREFIX}/console.js" defer></script>' if script else ""
    document = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f'<link rel="stylesheet" href="{PREFIX}/console.css">'
        f"<title>{html.escape(title)}</title>{scripts}</head>\n"
        f"<body><main><h1>{html.escape(title)}</h1>\n{main}\n</main></body></html>\n"
    )
    return HTMLResponse(document, status_code=status, headers=SECURITY_HEADERS)


def format_age(started_ms: int, now_ms: int) -> str:
    """`started_ms` to now as "45s", "12m", "3h5m", "2d4h" (the script keeps it current)."""
    seconds = max(0, (now_ms - started_ms) // 1000)
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"


def _text(value: JSON) -> str:
    return html.escape(str(value), quote=True)


def _number(value: JSON) -> str:
    # As the script's String(value) writes it: 3 not 3.0, 85.5.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else _text(value)


def _markers(alert: Mapping[str, JSON]) -> str:
    marks = []
    for field, kind in (("silenced_by", "silenced"), ("inhibited_by", "inhibited"), ("muted_by", "muted")):
        if alert.get(field):
            marks.append((kind, kind))
    if alert.get("acknowledged"):
        ack = alert.get("ack")
        by = ack.get("by", "") if isinstance(ack, dict) else ""
        marks.append(("acknowledged", f"acknowledged by {by or '?'}"))
    level = alert.get("escalation_level")
    if isinstance(level, int) and level:
        marks.append(("escalation", f"escalation level {level}"))
    return "".join(f'<span class="mark mark-{kind}">{_text(text)}</span>' for kind, text in marks)


def alert_row(alert: Mapping[str, JSON], now_ms: int) -> str:
    """One alert (its REST JSON) as a table row; the script builds the same row from a stream event."""
    labels = alert.get("labels")
    labels = labels if isinstance(labels, dict) else {}
    fingerprint = str(alert.get("fingerprint", ""))
    state = str(alert.get("state", ""))
    started = alert.get("started_at")
    started_ms = started if isinstance(started, int) else 0
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "alertname")
    name = f"<strong>{_text(labels.get('alertname') or fingerprint)}</strong>"
    if rest:
        name += f'<div class="status">{_text(rest)}</div>'
    value = alert.get("value")
    return (
        f'<tr data-fingerprint="{_text(fingerprint)}" data-state="{_text(state)}" data-since="{started_ms}">'
        f'<td data-label="Alert">{name}</td>'
        f'<td data-label="State" class="state-{_text(state)}">{_text(state)}</td>'
        f'<td data-label="Severity">{_text(labels.get("severity", ""))}</td>'
        f'<td data-label="Age" class="age">{format_age(started_ms, now_ms) if started_ms else ""}</td>'
        f'<td data-label="Value">{_number(value)}</td>'
        f'<td data-label="Markers">{_markers(alert)}</td></tr>'
    )


def _sort_key(alert: Mapping[str, JSON]) -> tuple[int, int]:
    started = alert.get("started_at")
    return (_STATE_RANK.get(str(alert.get("state")), 3), -(started if isinstance(started, int) else 0))


def _filter_form(filter_text: str) -> str:
    return (
        f'<form class="filter" method="get" action="{PREFIX}/" role="search">'
        '<label for="filter">Label matchers (Alertmanager syntax, e.g. '
        '<code>severity="critical", host=~"web.*"</code>)'
        f'<input id="filter" name="filter" value="{_text(filter_text)}"'
        ' autocomplete="off" spellcheck="false">'
        "</label><button type=submit>Filter</button></form>"
    )


def console_routes(backend: Backend, routes: Sequence[RpcRoute]) -> list[BaseRoute]:
    """The console's routes; none when the served files have no AlertService."""
    list_route = next((route for route in routes if route.name == LIST_ALERTS), None)
    if list_route is None:
        return []

    @guarded
    async def alerts_page(request: Request) -> Response:
        filter_text = request.query_params.get("filter", "").strip()
        message = alert_service_pb2.ListAlertsRequest(filter=filter_text, page_size=PAGE_SIZE)
        try:
            listed = await backend.unary(list_route, message, request)
        except grpc.aio.AioRpcError as error:
            failure = from_rpc_error(error)
            reasons = [f"{v.field}: {v.description}" for v in failure.details] or [failure.message]
            body = "".join(f'<p class="error" role="alert">{_text(r)}</p>' for r in reasons)
            return _page("Alerts", _filter_form(filter_text) + body, failure.status)
        assert isinstance(listed, alert_service_pb2.ListAlertsResponse)
        now_ms = int(time.time() * 1000)
        alerts = [to_json(alert) for alert in listed.alerts]
        rows = "".join(alert_row(alert, now_ms) for alert in sorted(alerts, key=_sort_key))
        table = (
            '<p class="status" id="live-status" role="status" aria-live="polite">Connecting…</p>'
            f'<p id="alerts-empty"{" hidden" if alerts else ""}>No alerts match.</p>'
            '<div class="table-wrap"><table><caption class="status">Firing, pending and recently resolved '
            "alerts</caption><thead><tr><th scope=col>Alert</th><th scope=col>State</th>"
            "<th scope=col>Severity</th><th scope=col>Age</th><th scope=col>Value</th>"
            "<th scope=col>Markers</th></tr></thead>"
            f'<tbody id="alerts-body" data-filter="{_text(filter_text)}">{rows}</tbody></table></div>'
        )
        return _page("Alerts", _filter_form(filter_text) + table, script=True)

    def asset(name: str, media_type: str) -> Route:
        content = _asset(name)

        async def serve(request: Request) -> Response:
            return Response(content, media_type=media_type, headers={"X-Content-Type-Options": "nosniff"})

        return Route(f"/{name}", serve, methods=["GET"], name=name)

    # A mount of its own: pages, not part of the REST contract (nor of /openapi.json). "/ui" without
    # the slash is redirected to "/ui/" by the router.
    return [
        Mount(
            PREFIX,
            routes=[
                Route("/", alerts_page, methods=["GET"], name="alerts"),
                *(asset(name, media_type) for name, media_type in _ASSETS.items()),
            ],
            name="ui",
        )
    ]


__all__ = ["PREFIX", "alert_row", "console_routes", "format_age"]
