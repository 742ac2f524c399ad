"""The web console at /ui/: server-rendered pages for the on-call engineer.

The alerts page lists firing, pending and recently resolved alerts from ListAlerts, then keeps the
list live from the WatchAlerts stream (GET /alerts/watch) with a small script served from this
package; nothing is fetched from elsewhere. The label filter lives in the URL (`?filter=`,
Alertmanager matcher syntax) and is checked by the server's matcher parser: a bad one is a 400 page
that says why. Every value shown is HTML-escaped; the pages' Content-Security-Policy allows only
this gateway's own script and style.

This module holds the alerts pages and the login; the others each have a module: `silences`,
`rules` (with `plot`, the query's drawing), `routing`, `channels` (and deliveries). `page` is what
they share: the document and its navigation, and the API calls made with the visitor's token.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from http.cookies import SimpleCookie
from importlib import resources
from urllib.parse import parse_qs, quote, urlsplit

import grpc
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from alerting.v1 import ack_service_pb2, alert_service_pb2
from alerting_common.jsonmap import JSON, to_json
from gateway.backend import Backend
from gateway.body import read_body
from gateway.console import channels, routing, rules
from gateway.console.page import (
    FORM,
    LOGIN_PATH,
    PREFIX,
    Console,
    TokenScope,
    esc,
    format_time,
    html_page,
    number_text,
    refusal,
)
from gateway.console.rules import rule_path
from gateway.console.silences import RPCS as SILENCE_RPCS
from gateway.console.silences import silence_like, silence_routes
from gateway.errors import from_rpc_error, guarded
from gateway.routes import RpcRoute
from gateway.sse import stream_endpoint

LIST_ALERTS = "alerting.v1.AlertService.ListAlerts"
LIST_GROUPS = "alerting.v1.AlertService.ListAlertGroups"
GET_ALERT = "alerting.v1.AlertService.GetAlert"
LIST_HISTORY = "alerting.v1.AlertService.ListAlertHistory"
ACK = "alerting.v1.AckService.Acknowledge"
UNACK = "alerting.v1.AckService.Unacknowledge"
WATCH_ALERTS = "alerting.v1.AlertService.WatchAlerts"
# The token of a logged-in console user: HttpOnly (no script reads it), SameSite=Strict (no other
# site's page sends it), only under /ui/. The gateway sends it on as the bearer token.
COOKIE = "alerting_console_token"
_LOGIN_BODY_BYTES = 4096
# ListAlertHistory caps a page at 1000: an alert's page shows its latest events up to that.
HISTORY_PAGE_SIZE = 1000
# Enough rows for one screen of on-call work; ListAlerts caps a page at 1000.
PAGE_SIZE = 500
_STATE_RANK = {"firing": 0, "pending": 1, "resolved": 2}
_ASSETS = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}


class ConsoleToken:
    """For the console's paths, the login cookie as the bearer token when the request carries none,
    so that the gateway's checks and the servicers see it as they see an API caller's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(f"{PREFIX}/"):
            headers: list[tuple[bytes, bytes]] = list(scope["headers"])
            names = {name for name, _ in headers}
            if b"authorization" not in names and b"cookie" in names:
                cookies: SimpleCookie = SimpleCookie()
                for name, value in headers:
                    if name == b"cookie":
                        try:
                            cookies.load(value.decode("latin-1"))
                        except Exception:  # a malformed cookie header is no login
                            continue
                morsel = cookies.get(COOKIE)
                if morsel is not None and morsel.value:
                    headers.append((b"authorization", f"Bearer {morsel.value}".encode("latin-1")))
                    scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)


def _asset(name: str) -> bytes:
    return resources.files(__package__).joinpath(name).read_bytes()


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


def _markers(alert: Mapping[str, JSON], now_ms: int | None = None) -> str:
    """The alert's markers; with `now_ms`, also how long ago it was acknowledged."""
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
    shown = "".join(f'<span class="mark mark-{kind}">{esc(text)}</span>' for kind, text in marks)
    ack = alert.get("ack")
    at = ack.get("at") if alert.get("acknowledged") and isinstance(ack, dict) else None
    if isinstance(at, int) and at and now_ms is not None:
        # When it was acknowledged, beside who did.
        shown += f'<span class="status ack-when">{format_age(at, now_ms)} ago</span>'
    return shown


def alert_row(alert: Mapping[str, JSON], now_ms: int) -> str:
    """One alert (its REST JSON) as a table row; the script builds the same row from a stream event."""
    labels = alert.get("labels")
    labels = labels if isinstance(labels, dict) else {}
    fingerprint = str(alert.get("fingerprint", ""))
    state = str(alert.get("state", ""))
    started = alert.get("started_at")
    started_ms = started if isinstance(started, int) else 0
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "alertname")
    name = (
        f'<a href="{alert_path(fingerprint)}"><strong>{esc(labels.get("alertname") or fingerprint)}'
        "</strong></a>"
    )
    if rest:
        name += f'<div class="status">{esc(rest)}</div>'
    value = alert.get("value")
    return (
        f'<tr data-fingerprint="{esc(fingerprint)}" data-state="{esc(state)}" data-since="{started_ms}">'
        f'<td data-label="Alert">{name}</td>'
        f'<td data-label="State" class="state-{esc(state)}">{esc(state)}</td>'
        f'<td data-label="Severity">{esc(labels.get("severity", ""))}</td>'
        f'<td data-label="Age" class="age">{format_age(started_ms, now_ms) if started_ms else ""}</td>'
        f'<td data-label="Value">{number_text(value)}</td>'
        f'<td data-label="Markers">{_markers(alert, now_ms)}</td></tr>'
    )


def alert_path(fingerprint: str) -> str:
    return f"{PREFIX}/alerts/{quote(fingerprint, safe='')}"


def linked(text: str) -> str:
    """A value as text, or as a link when the whole value is an http(s) URL (never javascript: or
    data:); the link opens without giving the target this page."""
    parts = urlsplit(text.strip())
    if parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in text.strip()):
        return f'<a href="{esc(text.strip())}" rel="noopener noreferrer nofollow">{esc(text)}</a>'
    return esc(text)


def _pairs(values: JSON, link: bool) -> str:
    if not isinstance(values, dict) or not values:
        return "<p>None.</p>"
    items = "".join(
        f"<dt>{esc(k)}</dt><dd>{linked(str(v)) if link else esc(v)}</dd>" for k, v in sorted(values.items())
    )
    return f"<dl>{items}</dl>"


_HISTORY_FIELDS = ("state", "value", "channel", "outcome", "attempts", "level", "by", "comment", "message")


def history_item(event: Mapping[str, JSON]) -> str:
    kind = str(event.get("type", "")).replace("_", " ")
    details = "; ".join(
        f"{field}: {number_text(event[field])}" for field in _HISTORY_FIELDS if event.get(field) is not None
    )
    return (
        f'<li data-type="{esc(event.get("type", ""))}"><time>{esc(format_time(event.get("at")))}</time> '
        f"<strong>{esc(kind)}</strong>{' — ' + details if details else ''}</li>"
    )


def _alert_main(alert: Mapping[str, JSON], events: Sequence[Mapping[str, JSON]], can_write: bool) -> str:
    fingerprint = str(alert.get("fingerprint", ""))
    state = str(alert.get("state", ""))
    labels = alert.get("labels")
    severity = labels.get("severity", "") if isinstance(labels, dict) else ""
    facts = [
        ("State", f'<span class="state-{esc(state)}" id="alert-state">{esc(state)}</span>'),
        ("Severity", esc(severity)),
        ("Value", number_text(alert.get("value"))),
        ("Started", esc(format_time(alert.get("started_at")))),
        ("Fired", esc(format_time(alert.get("fired_at")))),
        ("Resolved", esc(format_time(alert.get("resolved_at")))),
        ("Markers", f'<span id="alert-markers">{_markers(alert)}</span>'),
    ]
    rule_id = alert.get("rule_id")
    if isinstance(rule_id, str) and rule_id:
        facts.append(
            ("Rule", f'<a href="{rule_path(rule_id)}" id="alert-rule">{esc(alert.get("rule", ""))}</a>')
        )
    generator = alert.get("generator_url")
    if isinstance(generator, str) and generator:
        facts.append(("Source", linked(generator)))
    ack = alert.get("ack")
    if alert.get("acknowledged") and isinstance(ack, dict):
        facts.append(("Acknowledged", esc(f"by {ack.get('by') or '?'}, {format_time(ack.get('at'))}")))
        if ack.get("comment"):
            facts.append(("Ack comment", esc(ack["comment"])))
    summary = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts if value)
    path = alert_path(fingerprint)
    if alert.get("acknowledged"):
        action = (
            f'<form method="post" action="{path}/unack" class="ack"><h2>Unacknowledge</h2>'
            '<label for="by">Your name</label><input id="by" name="by" required maxlength="255">'
            '<button type="submit">Unacknowledge</button></form>'
        )
    else:
        action = (
            f'<form method="post" action="{path}/ack" class="ack"><h2>Acknowledge</h2>'
            '<label for="by">Your name</label><input id="by" name="by" required maxlength="255">'
            '<label for="comment">Comment</label><input id="comment" name="comment">'
            '<button type="submit">Acknowledge</button></form>'
        )
    history = "".join(history_item(event) for event in events) or "<li>No events yet.</li>"
    like_this = silence_like(labels if isinstance(labels, dict) else {})
    action += f'<p><a href="{esc(like_this)}" id="silence-like-this">Silence alerts like this</a></p>'
    if not can_write:
        action = '<p id="read-only">Read-only token: acknowledging and silencing need a write token.</p>'
    return (
        f'<p><a href="{PREFIX}/">All alerts</a></p>'
        f'<dl class="facts" data-fingerprint="{esc(fingerprint)}">{summary}</dl>{action}'
        f"<h2>Labels</h2>{_pairs(alert.get('labels'), link=False)}"
        f"<h2>Annotations</h2>{_pairs(alert.get('annotations'), link=True)}"
        f'<h2>History</h2><ol class="history" id="history">{history}</ol>'
    )


def _login_form(errors: Sequence[str]) -> str:
    shown = "".join(f'<p class="error" role="alert">{esc(e)}</p>' for e in errors)
    return (
        f'{shown}<form method="post" action="{LOGIN_PATH}" class="silence">'
        '<label for="token">API token</label>'
        '<input id="token" name="token" type="password" required autocomplete="current-password">'
        '<button type="submit">Log in</button></form>'
        "<p>The token is kept in a cookie that only this console's pages send, until the browser closes.</p>"
    )


def _sort_key(alert: Mapping[str, JSON]) -> tuple[int, int]:
    started = alert.get("started_at")
    return (_STATE_RANK.get(str(alert.get("state")), 3), -(started if isinstance(started, int) else 0))


# `?group=`: the alerts as the routing tree groups them (its aggregation groups), else by a label.
BY_ROUTE = "@route"
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_COLUMNS = 6


def _filter_form(filter_text: str, group_by: str = "", label_names: Sequence[str] = ()) -> str:
    labels = set(label_names)
    if _LABEL_NAME.fullmatch(group_by):
        labels.add(group_by)
    options = [("", "nothing"), (BY_ROUTE, "the routing tree's groups")]
    options += [(name, f"label {name}") for name in sorted(labels)]
    choices = "".join(
        f'<option value="{esc(value)}"{" selected" if value == group_by else ""}>{esc(text)}</option>'
        for value, text in options
    )
    return (
        f'<form class="filter" method="get" action="{PREFIX}/" role="search">'
        '<label for="filter"><span>Label matchers (Alertmanager syntax, e.g. '
        '<code>severity="critical", host=~"web.*"</code>)</span>'
        f'<input id="filter" name="filter" value="{esc(filter_text)}"'
        ' autocomplete="off" spellcheck="false">'
        f'</label><label for="group"><span>Group by</span><select id="group" name="group">{choices}</select>'
        "</label><button type=submit>Filter</button></form>"
    )


def _label_names(alerts: Sequence[Mapping[str, JSON]]) -> list[str]:
    names: set[str] = set()
    for alert in alerts:
        labels = alert.get("labels")
        if isinstance(labels, dict):
            names.update(labels)
    return sorted(names)


def grouped(
    alerts: Sequence[Mapping[str, JSON]], group_by: str, groups: Sequence[Mapping[str, JSON]]
) -> list[tuple[str, str, list[Mapping[str, JSON]]]]:
    """(key, heading, alerts) of each group shown, in order; `groups` are the aggregation groups
    (ListAlertGroups) when `group_by` is BY_ROUTE. An alert in several routes is in each of their
    groups; one in none (pending, or not routed yet) is in a group of its own."""
    ordered = sorted(alerts, key=_sort_key)
    out: list[tuple[str, str, list[Mapping[str, JSON]]]] = []
    if group_by == BY_ROUTE:
        by_fingerprint = {str(a.get("fingerprint")): a for a in ordered}
        placed: set[str] = set()
        for group in groups:
            members = group.get("alerts")
            fingerprints = (
                {str(m.get("fingerprint")) for m in members if isinstance(m, dict)}
                if isinstance(members, list)
                else set()
            )
            kept = [a for fp, a in by_fingerprint.items() if fp in fingerprints]
            if not kept:
                continue
            placed |= fingerprints
            labels = group.get("labels")
            shown = (
                ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) if isinstance(labels, dict) else ""
            )
            receiver, route = str(group.get("receiver", "")), str(group.get("route", ""))
            out.append((f"{route}|{shown}", f"{receiver} · {{{shown}}} · route {route}", kept))
        rest = [a for fp, a in by_fingerprint.items() if fp not in placed]
        if rest:
            out.append(("", "In no group yet (pending, or not routed)", rest))
        return out
    values: dict[str, list[Mapping[str, JSON]]] = {}
    for alert in ordered:
        labels = alert.get("labels")
        value = str(labels.get(group_by, "")) if isinstance(labels, dict) else ""
        values.setdefault(value, []).append(alert)
    return [
        (value, f'{group_by}="{value}"' if value else f"without {group_by}", members)
        for value, members in sorted(values.items(), key=lambda item: (not item[0], item[0]))
    ]


def _alerts_table(
    alerts: Sequence[Mapping[str, JSON]],
    filter_text: str,
    group_by: str,
    groups: Sequence[Mapping[str, JSON]],
) -> str:
    """The alerts table: one body kept live row by row, or one body per group (refreshed whole)."""
    now_ms = int(time.time() * 1000)
    head = (
        '<table id="alerts-table"><caption class="status">Firing, pending and recently resolved '
        "alerts</caption><thead><tr><th scope=col>Alert</th><th scope=col>State</th>"
        "<th scope=col>Severity</th><th scope=col>Age</th><th scope=col>Value</th>"
        "<th scope=col>Markers</th></tr></thead>"
    )
    if not group_by:
        rows = "".join(alert_row(alert, now_ms) for alert in sorted(alerts, key=_sort_key))
        body = f'<tbody id="alerts-body" data-filter="{esc(filter_text)}">{rows}</tbody>'
    else:
        body = "".join(
            f'<tbody class="alert-group" data-group="{esc(key)}">'
            f'<tr class="group-head"><th colspan="{_COLUMNS}" scope="rowgroup">{esc(heading)} '
            f'<span class="status">({len(members)})</span></th></tr>'
            + "".join(alert_row(alert, now_ms) for alert in members)
            + "</tbody>"
            for key, heading, members in grouped(alerts, group_by, groups)
        )
    return (
        f'<div class="table-wrap" id="alerts-list" data-filter="{esc(filter_text)}" '
        f'data-group="{esc(group_by)}">{head}{body}</table></div>'
    )


def console_routes(
    backend: Backend,
    routes: Sequence[RpcRoute],
    max_body_bytes: int,
    keepalive: float | None,
    token_scope: TokenScope | None,
) -> list[BaseRoute]:
    """The console's routes; none when the served files lack the services it uses. `token_scope`:
    None when tokens are off (or unknown to a gateway of its own: then every page shows its write
    forms, and the server refuses what the token may not do)."""
    by_name = {route.name: route for route in routes}
    needed = {LIST_ALERTS, LIST_GROUPS, GET_ALERT, LIST_HISTORY, ACK, UNACK, WATCH_ALERTS}
    if not needed | SILENCE_RPCS <= by_name.keys():
        return []
    console = Console(backend, by_name, max_body_bytes, token_scope)

    def can_write(request: Request) -> bool:
        return console.allows(request, "write")

    async def login_form(request: Request) -> Response:
        return html_page("Log in", _login_form([]))

    @guarded
    async def login(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
            return html_page("Not a form", '<p class="error" role="alert">Expected a form post.</p>', 415)
        fields = parse_qs((await read_body(request, _LOGIN_BODY_BYTES)).decode("utf-8", "replace"))
        token = fields.get("token", [""])[0].strip()
        if token_scope is not None and token_scope(f"Bearer {token}") is None:
            return html_page("Log in", _login_form(["token: not a valid token"]), 401)
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        if token_scope is not None:
            response.set_cookie(
                COOKIE,
                token,
                path=f"{PREFIX}/",
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response

    async def logout(request: Request) -> Response:
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(COOKIE, path=f"{PREFIX}/", httponly=True, samesite="strict")
        return response

    list_route = by_name[LIST_ALERTS]

    @guarded
    async def alert_page(request: Request) -> Response:
        fingerprint = request.path_params["fingerprint"]
        try:
            got = await backend.unary(
                by_name[GET_ALERT], alert_service_pb2.GetAlertRequest(fingerprint=fingerprint), request
            )
            history = await backend.unary(
                by_name[LIST_HISTORY],
                alert_service_pb2.ListAlertHistoryRequest(
                    fingerprint=fingerprint, page_size=HISTORY_PAGE_SIZE
                ),
                request,
            )
        except grpc.aio.AioRpcError as error:
            return refusal("Alert", error, f"{PREFIX}/")
        assert isinstance(got, alert_service_pb2.GetAlertResponse)
        assert isinstance(history, alert_service_pb2.ListAlertHistoryResponse)
        alert = to_json(got.alert)
        labels = alert.get("labels")
        title = labels.get("alertname", fingerprint) if isinstance(labels, dict) else fingerprint
        events = [to_json(event) for event in history.events]
        return html_page(str(title), _alert_main(alert, events, can_write(request)), current="alerts")

    def acting(rpc: str) -> Route:
        @guarded
        async def act(request: Request) -> Response:
            fingerprint = request.path_params["fingerprint"]
            back = alert_path(fingerprint)
            if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
                return html_page("Not a form", '<p class="error" role="alert">Expected a form post.</p>', 415)
            fields = parse_qs((await read_body(request, max_body_bytes)).decode("utf-8", "replace"))
            by = fields.get("by", [""])[0].strip()
            message = (
                ack_service_pb2.AcknowledgeRequest(
                    fingerprint=fingerprint, by=by, comment=fields.get("comment", [""])[0]
                )
                if rpc == ACK
                else ack_service_pb2.UnacknowledgeRequest(fingerprint=fingerprint, by=by)
            )
            try:
                await backend.unary(by_name[rpc], message, request)
            except grpc.aio.AioRpcError as error:
                return refusal("Not done", error, back)
            # Post/redirect/get: a reload does not post again.
            return RedirectResponse(back, status_code=303)

        verb = "ack" if rpc == ACK else "unack"
        return Route(f"/alerts/{{fingerprint}}/{verb}", act, methods=["POST"], name=f"alert.{verb}")

    @guarded
    async def alerts_page(request: Request) -> Response:
        filter_text = request.query_params.get("filter", "").strip()
        group_by = request.query_params.get("group", "").strip()
        message = alert_service_pb2.ListAlertsRequest(filter=filter_text, page_size=PAGE_SIZE)
        reasons: list[str] = []
        status = 400
        groups: list[Mapping[str, JSON]] = []
        if group_by and group_by != BY_ROUTE and not _LABEL_NAME.fullmatch(group_by):
            reasons = [
                f"group: {group_by!r} is neither a label name nor {BY_ROUTE} (the routing tree's groups)"
            ]
        else:
            try:
                listed = await backend.unary(list_route, message, request)
                if group_by == BY_ROUTE:
                    found = await backend.unary(
                        by_name[LIST_GROUPS],
                        alert_service_pb2.ListAlertGroupsRequest(page_size=1000),
                        request,
                    )
                    assert isinstance(found, alert_service_pb2.ListAlertGroupsResponse)
                    groups = [to_json(group) for group in found.groups]
            except grpc.aio.AioRpcError as error:
                failure = from_rpc_error(error)
                reasons = [f"{v.field}: {v.description}" for v in failure.details] or [failure.message]
                status = failure.status
        if reasons:
            body = "".join(f'<p class="error" role="alert">{esc(r)}</p>' for r in reasons)
            form = _filter_form(filter_text, group_by)
            return html_page("Alerts", form + body, status, current="alerts")
        assert isinstance(listed, alert_service_pb2.ListAlertsResponse)
        alerts = [to_json(alert) for alert in listed.alerts]
        listing = _alerts_table(alerts, filter_text, group_by, groups)
        if request.query_params.get("part") == "list":
            # What the script swaps in when a grouped view changes.
            return Response(listing, media_type="text/html; charset=utf-8")
        table = (
            '<p class="status" id="live-status" role="status" aria-live="polite">Connecting…</p>'
            f'<p id="alerts-empty"{" hidden" if alerts else ""}>No alerts match.</p>' + listing
        )
        if COOKIE in request.cookies:
            table += (
                f'<form method="post" action="{PREFIX}/logout"><button type="submit">Log out</button></form>'
            )
        form = _filter_form(filter_text, group_by, _label_names(alerts))
        return html_page("Alerts", form + table, script=True, current="alerts")

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
                Route("/alerts/{fingerprint}", alert_page, methods=["GET"], name="alert"),
                acting(ACK),
                acting(UNACK),
                *silence_routes(console),
                *(rules.rule_routes(console) if by_name.keys() >= rules.RPCS else ()),
                *(routing.routing_routes(console) if by_name.keys() >= routing.RPCS else ()),
                *(channels.channel_routes(console) if by_name.keys() >= channels.RPCS else ()),
                Route("/watch", stream_endpoint(by_name[WATCH_ALERTS], backend, keepalive), methods=["GET"]),
                Route("/login", login_form, methods=["GET"], name="login.form"),
                Route("/login", login, methods=["POST"], name="login"),
                Route("/logout", logout, methods=["POST"], name="logout"),
                *(asset(name, media_type) for name, media_type in _ASSETS.items()),
            ],
            name="ui",
        )
    ]


__all__ = [
    "COOKIE",
    "LOGIN_PATH",
    "PREFIX",
    "ConsoleToken",
    "TokenScope",
    "alert_row",
    "console_routes",
    "format_age",
]
