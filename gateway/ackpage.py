"""The pages behind signed acknowledgement links: GET /ack/{token} asks for confirmation, POST acknowledges.

A link is opened in a browser, so these paths answer HTML to a browser (Accept: text/html, or a form
post); API clients asking for JSON get the generic endpoints of GetAckToken/AcknowledgeByToken. A
tampered or expired link gets a page that says so, and the call changed nothing.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from urllib.parse import parse_qs

import grpc
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from alerting.v1 import ack_service_pb2, alert_service_pb2
from gateway.backend import Backend
from gateway.body import read_body
from gateway.errors import Endpoint, from_rpc_error, guarded
from gateway.routes import RpcRoute

PATH = "/ack/{token}"
GET_RPC = "alerting.v1.AckService.GetAckToken"
POST_RPC = "alerting.v1.AckService.AcknowledgeByToken"
FORM = "application/x-www-form-urlencoded"


def _wants_html(request: Request) -> bool:
    if request.method == "POST":
        return request.headers.get("content-type", "").split(";")[0].strip() == FORM
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>\n<body><h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n"
    )
    # The page carries a credential in its URL: keep it out of caches and referrers.
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(document, status_code=status, headers=headers)


def _describe(alert: alert_service_pb2.Alert) -> str:
    labels = "".join(
        f"<li><code>{html.escape(k)}=&quot;{html.escape(v)}&quot;</code></li>"
        for k, v in sorted(alert.labels.items())
    )
    state = alert_service_pb2.AlertState.Name(alert.state).removeprefix("ALERT_STATE_").lower()
    summary = alert.annotations.get("summary", "")
    name = html.escape(alert.labels.get("alertname", alert.fingerprint))
    text = f"<p>Alert <strong>{name}</strong> is {state}.</p>"
    if summary:
        text += f"<p>{html.escape(summary)}</p>"
    text += f"<ul>{labels}</ul>"
    if alert.HasField("ack"):
        text += f"<p>Acknowledged by {html.escape(alert.ack.by)}.</p>"
    return text


def _refused(error: grpc.aio.AioRpcError) -> HTMLResponse:
    failure = from_rpc_error(error)
    reasons = [v.description for v in failure.details] or [failure.message]
    body = "".join(f"<p>{html.escape(r)}</p>" for r in reasons) + "<p>Nothing was acknowledged.</p>"
    title = "This acknowledgement link is not valid" if failure.status == 400 else "Cannot acknowledge"
    return _page(title, body, failure.status)


def ack_page_route(
    backend: Backend, routes: Sequence[RpcRoute], json: Mapping[str, Endpoint], max_body_bytes: int
) -> Route:
    """GET and POST of PATH; `json` (endpoints by RPC name) serves callers that do not want HTML."""
    by_name = {route.name: route for route in routes}
    get_route, post_route = by_name[GET_RPC], by_name[POST_RPC]

    @guarded
    async def endpoint(request: Request) -> Response:
        if not _wants_html(request):
            return await json[GET_RPC if request.method == "GET" else POST_RPC](request)
        token = request.path_params["token"]
        try:
            if request.method == "GET":
                looked = await backend.unary(
                    get_route, ack_service_pb2.GetAckTokenRequest(token=token), request
                )
                assert isinstance(looked, ack_service_pb2.GetAckTokenResponse)
                # A link sent to a person acknowledges as them: no name to ask for.
                who = (
                    f"<p>You acknowledge as <strong>{html.escape(looked.person)}</strong>.</p>"
                    if looked.person
                    else '<p><label>Your name <input name="by" maxlength="255"></label></p>'
                )
                form = (
                    f'<form method="post">{who}'
                    '<p><label>Comment <input name="comment"></label></p>'
                    '<p><button type="submit">Acknowledge</button></p></form>'
                )
                return _page("Acknowledge this alert?", _describe(looked.alert) + form)
            fields = parse_qs((await read_body(request, max_body_bytes)).decode("utf-8", "replace"))
            message = ack_service_pb2.AcknowledgeByTokenRequest(
                token=token, by=fields.get("by", [""])[0].strip(), comment=fields.get("comment", [""])[0]
            )
            done = await backend.unary(post_route, message, request)
            assert isinstance(done, ack_service_pb2.AcknowledgeByTokenResponse)
            return _page("Acknowledged", _describe(done.alert))
        except grpc.aio.AioRpcError as error:
            return _refused(error)

    return Route(PATH, endpoint, methods=["GET", "POST"], name="ack-page")
