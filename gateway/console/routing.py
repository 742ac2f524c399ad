"""The routing page: the notification policy tree drawn as nested lists (receiver, matchers,
group_by, timings, continue, time intervals; what a route inherits marked so), and "which receivers
would get this alert?", answered by TestRoutes, the call behind `alertctl routes test`."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

import grpc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alerting.v1 import channel_service_pb2, routing_service_pb2
from alerting_common.jsonmap import JSON, JSONObject, to_json
from alerting_common.matchers import MatcherError, unescape_value
from gateway.console.page import PREFIX, Console, errors_html, esc, html_page, refusal, rpc_reasons
from gateway.errors import guarded

GET_ROUTING = "alerting.v1.RoutingService.GetRouting"
TEST_ROUTES = "alerting.v1.RoutingService.TestRoutes"
RPCS = frozenset({GET_ROUTING, TEST_ROUTES})
# Used when served: a receiver given as a channel id is shown by the channel's name.
LIST_CHANNELS = "alerting.v1.ChannelService.ListChannels"
CHANNELS_PAGE_SIZE = 1000
# What a child route takes from its parent when it does not set it (Alertmanager).
TIMINGS = ("group_wait", "group_interval", "repeat_interval")
INHERITED = ("receiver", "group_by", *TIMINGS)
# What the server takes when the tree sets none (Alertmanager's defaults).
DEFAULT_TIMINGS = {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s"]*)\s*(?:,|(?=\s)|$)')


def parse_labels(text: str) -> dict[str, str]:
    """`severity="critical", team=db` (braces, commas and quotes optional, as amtool takes labels)."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    labels: dict[str, str] = {}
    at = 0
    while at < len(body):
        if not body[at:].strip():
            break
        m = _LABEL.match(body, at)
        if m is None or m.end() == at:
            raise MatcherError(f'not a label at {body[at:].strip()!r}: expected name="value"')
        name, raw = m.groups()
        if name in labels:
            raise MatcherError(f"label {name} given twice")
        labels[name] = unescape_value(raw) if raw.startswith('"') else raw
        at = m.end()
    if not labels:
        raise MatcherError('no label: expected name="value", ...')
    return labels


def _strings(value: JSON) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _setting(name: str, shown: str, inherited: bool) -> str:
    mark = ' <span class="status">(inherited)</span>' if inherited else ""
    return (
        f'<div class="setting" data-setting="{name}"><span class="status">{name}:</span> {shown}{mark}</div>'
    )


def route_node(
    route: Mapping[str, JSON],
    parent: Mapping[str, JSON],
    path: str,
    names: Mapping[str, str],
    matched: Collection[str] = (),
) -> str:
    """One route of the tree with its children; `parent` holds what the parent's settings came to,
    `names` the channels' names by id (a receiver may be either), `matched` the paths of the routes
    the tested alert reaches ("" the root), marked in the tree."""
    own: JSONObject = {}
    for key in INHERITED:
        value = route.get(key)
        own[key] = value if value not in (None, "", []) else parent.get(key)
    parts = []
    matchers = _strings(route.get("matchers"))
    if path:
        shown = (
            " ".join(f"<code>{esc(m)}</code>" for m in matchers) or '<span class="status">every alert</span>'
        )
        parts.append(f'<div class="matchers">{shown}</div>')
    receiver = str(own.get("receiver") or "")
    receiver = names.get(receiver, receiver)
    parts.append(
        _setting(
            "receiver",
            f'<strong class="receiver">{esc(receiver)}</strong>',
            not route.get("receiver") and bool(path),
        )
    )
    group_by = _strings(own.get("group_by"))
    parts.append(
        _setting(
            "group_by", esc(", ".join(group_by)) or "—", not _strings(route.get("group_by")) and bool(path)
        )
    )
    timings = []
    for key in TIMINGS:
        value = own.get(key)
        if value:
            mark = " (inherited)" if path and not route.get(key) else ""
        else:
            value, mark = DEFAULT_TIMINGS[key], " (default)"
        timings.append(f'{key} {esc(value)}<span class="status">{mark}</span>')
    parts.append(_setting("timings", " · ".join(timings), False))
    if path:
        parts.append(_setting("continue", "yes" if route.get("continue") else "no", False))
    for key in ("mute_time_intervals", "active_time_intervals"):
        intervals = _strings(route.get(key))
        if intervals:
            parts.append(_setting(key, esc(", ".join(intervals)), False))
    if route.get("escalation_policy_id"):
        parts.append(_setting("escalation_policy_id", esc(route["escalation_policy_id"]), False))
    children = route.get("routes")
    nested = ""
    if isinstance(children, list) and children:
        nested = (
            "<ul>"
            + "".join(
                route_node(child, own, f"{path}.routes[{i}]" if path else f"routes[{i}]", names, matched)
                for i, child in enumerate(children)
                if isinstance(child, dict)
            )
            + "</ul>"
        )
    label = f"Route {path}" if path else "Root route"
    hit = path in matched
    mark = ' <strong class="matched-mark">matches the alert</strong>' if hit else ""
    return (
        f'<li class="route{" matched" if hit else ""}" id="{esc(route_anchor(path))}" '
        f'data-route="{esc(path or "root")}"><div class="node" role="group" '
        f'aria-label="{esc(label)}{", matches the alert" if hit else ""}"><div class="status">{esc(label)}'
        f"{mark}</div>{''.join(parts)}</div>{nested}</li>"
    )


def route_anchor(path: str) -> str:
    """The id of a route's node in the page, so that a match links to it."""
    return f"route-{path or 'root'}"


def routes_test_form(text: str) -> str:
    return (
        f'<form class="filter" method="get" action="{PREFIX}/routing" id="routes-test">'
        '<label for="labels"><span>Labels of an alert (e.g. '
        '<code>severity="critical", team="db"</code>)</span>'
        f'<input id="labels" name="labels" value="{esc(text)}" autocomplete="off" spellcheck="false" '
        "required>"
        "</label><button type=submit>Find receivers</button></form>"
    )


def matches_html(matches: Sequence[routing_service_pb2.RouteMatch]) -> str:
    receivers = ",".join(m.receiver for m in matches)
    rows = "".join(
        f'<tr><td data-label="Receiver">{esc(m.receiver)}</td>'
        f'<td data-label="Route"><a href="#{esc(route_anchor(m.path))}">'
        f"<code>{esc(m.route_key)}</code></a></td>"
        f'<td data-label="group_by">{esc(", ".join(m.group_by))}</td>'
        f'<td data-label="Timings">{esc(" · ".join(_timings(to_json(m))))}</td></tr>'
        for m in matches
    )
    return (
        f'<p role="status">Receivers: <strong id="receivers-answer">{esc(receivers)}</strong></p>'
        '<div class="table-wrap"><table><thead><tr><th scope=col>Receiver</th><th scope=col>Route</th>'
        "<th scope=col>group_by</th><th scope=col>Timings</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def _timings(match: Mapping[str, JSON]) -> list[str]:
    return [f"{k} {match[k]}" for k in TIMINGS if match.get(k)]


def routing_routes(console: Console) -> list[Route]:
    async def channel_names(request: Request) -> dict[str, str]:
        """The channels' names by id, as TestRoutes names receivers; none when they cannot be read."""
        if LIST_CHANNELS not in console.routes:
            return {}
        message = channel_service_pb2.ListChannelsRequest(page_size=CHANNELS_PAGE_SIZE)
        try:
            listed = await console.call(LIST_CHANNELS, message, request)
        except grpc.aio.AioRpcError:
            return {}
        assert isinstance(listed, channel_service_pb2.ListChannelsResponse)
        return {c.id: c.name for c in listed.channels}

    @guarded
    async def routing_page(request: Request) -> Response:
        text = request.query_params.get("labels", "").strip()
        answer = ""
        status = 200
        matched: set[str] = set()
        test = routes_test_form(text)
        if text:
            try:
                labels = parse_labels(text)
                tested = await console.call(
                    TEST_ROUTES, routing_service_pb2.TestRoutesRequest(labels=labels), request
                )
            except MatcherError as exc:
                answer, status = errors_html([f"labels: {exc}"]), 400
            except grpc.aio.AioRpcError as error:
                reasons, status = rpc_reasons(error)
                answer = errors_html(reasons)
            else:
                assert isinstance(tested, routing_service_pb2.TestRoutesResponse)
                answer = matches_html(tested.matches)
                matched = {m.path for m in tested.matches}
        try:
            got = await console.call(GET_ROUTING, routing_service_pb2.GetRoutingRequest(), request)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                return refusal("Routing", error, f"{PREFIX}/", "routing")
            tree = '<p id="no-routing">No routing tree is set (<code>PUT /routing</code>).</p>'
        else:
            assert isinstance(got, routing_service_pb2.GetRoutingResponse)
            root = to_json(got.route)
            problems = root.get("problems")
            shown_problems = "".join(
                f'<p class="error" role="alert">{esc(p.get("field", ""))}: '
                f"{esc(p.get('description', ''))}</p>"
                for p in (problems if isinstance(problems, list) else [])
                if isinstance(p, dict)
            )
            source = root.get("source")
            owner = f'<p class="status">Loaded from {esc(source)}.</p>' if source else ""
            nodes = route_node(root, {}, "", await channel_names(request), matched)
            tree = f'{owner}{shown_problems}<ul class="tree" id="routing-tree">{nodes}</ul>'
        body = (
            '<section aria-labelledby="test-title">'
            '<h2 id="test-title">Which receivers would get this alert?</h2>'
            f"{test}{answer}</section>"
            f'<section aria-labelledby="tree-title"><h2 id="tree-title">Routing tree</h2>{tree}</section>'
        )
        return html_page("Routing", body, status, current="routing")

    return [Route("/routing", routing_page, methods=["GET"], name="routing")]
