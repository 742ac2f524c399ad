"""What every console page shares: the document around it with the navigation, escaping, times, the
refusal page of a failed call, and the calls themselves under the visitor's token."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs

import grpc
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import HTMLResponse

from alerting_common.jsonmap import JSON
from gateway.backend import Backend
from gateway.body import read_body
from gateway.errors import from_rpc_error
from gateway.routes import RpcRoute

PREFIX = "/ui"
LOGIN_PATH = f"{PREFIX}/login"
FORM = "application/x-www-form-urlencoded"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# The pages every page links to, in the order of the navigation.
NAVIGATION = (
    ("alerts", f"{PREFIX}/", "Alerts"),
    ("silences", f"{PREFIX}/silences", "Silences"),
    ("rules", f"{PREFIX}/rules", "Rules"),
    ("routing", f"{PREFIX}/routing", "Routing"),
    ("channels", f"{PREFIX}/channels", "Channels"),
    ("deliveries", f"{PREFIX}/deliveries", "Deliveries"),
)
# The scope of a valid `authorization` value ("read", "write", "admin"), None for an unknown one.
TokenScope = Callable[[str], str | None]
_SCOPE_RANK = {"read": 0, "write": 1, "admin": 2}


def esc(value: JSON) -> str:
    return html.escape(str(value), quote=True)


def number_text(value: JSON) -> str:
    # As the script's String(value) writes it: 3 not 3.0, 85.5.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else esc(value)


def format_time(value: JSON) -> str:
    """Epoch milliseconds as "2026-12-05 09:02:15 UTC"; "" for none."""
    if not isinstance(value, int):
        return ""
    return datetime.fromtimestamp(value / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def navigation(current: str) -> str:
    here = ' aria-current="page"'
    links = "".join(
        f'<li><a href="{href}"{here if key == current else ""}>{label}</a></li>'
        for key, href, label in NAVIGATION
    )
    return f'<nav aria-label="Console"><ul class="nav">{links}</ul></nav>'


def html_page(
    title: str, main: str, status: int = 200, script: bool = False, current: str = ""
) -> HTMLResponse:
    if status == 401:
        main += f'<p><a href="{LOGIN_PATH}">Log in with a token</a></p>'
    scripts = f'<script src="{PREFIX}/console.js" defer></script>' if script else ""
    document = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f'<link rel="stylesheet" href="{PREFIX}/console.css">'
        f"<title>{esc(title)}</title>{scripts}</head>\n"
        f"<body><header>{navigation(current)}</header>"
        f"<main><h1>{esc(title)}</h1>\n{main}\n</main></body></html>\n"
    )
    return HTMLResponse(document, status_code=status, headers=SECURITY_HEADERS)


def errors_html(errors: Sequence[str]) -> str:
    return "".join(f'<p class="error" role="alert">{esc(e)}</p>' for e in errors)


def rpc_reasons(error: grpc.aio.AioRpcError) -> tuple[list[str], int]:
    """What the server said was wrong ("field: reason" each) and the HTTP status of it."""
    failure = from_rpc_error(error)
    reasons = [f"{v.field}: {v.description}" if v.field else v.description for v in failure.details]
    return reasons or [failure.message], failure.status


def refusal(title: str, error: grpc.aio.AioRpcError, back: str, current: str = "") -> HTMLResponse:
    reasons, status = rpc_reasons(error)
    return html_page(
        title, errors_html(reasons) + f'<p><a href="{back}">Back</a></p>', status, current=current
    )


def not_a_form() -> HTMLResponse:
    return html_page("Not a form", '<p class="error" role="alert">Expected a form post.</p>', 415)


def dl(pairs: Sequence[tuple[str, str]]) -> str:
    """Name and already-escaped value pairs as a definition list, leaving out empty values."""
    return "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in pairs if v) + "</dl>"


def labels_text(labels: JSON) -> str:
    if not isinstance(labels, dict):
        return ""
    return ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


# Pages of 1000 (the API's most) a list on a page reads at most.
PAGE_SIZE = 1000
MAX_PAGES = 10


@dataclass(frozen=True)
class Console:
    """The gateway's calls as the console makes them: with the visitor's token, by RPC name."""

    backend: Backend
    routes: Mapping[str, RpcRoute]
    max_body_bytes: int
    token_scope: TokenScope | None

    def allows(self, request: Request, needed: str) -> bool:
        """Whether the visitor's token has `needed` scope (always, when tokens are off): the pages show
        a form only to who may use it; the server checks again whatever is posted."""
        if self.token_scope is None:
            return True
        scope = self.token_scope(request.headers.get("authorization", ""))
        return scope is not None and _SCOPE_RANK.get(scope, -1) >= _SCOPE_RANK[needed]

    async def call(self, rpc: str, message: Message, request: Request) -> Message:
        return await self.backend.unary(self.routes[rpc], message, request)

    async def pages(self, rpc: str, first: Message, request: Request) -> AsyncIterator[Message]:
        """The answers of a List call, page after page (at most MAX_PAGES), each asked with the
        previous one's next_page_token."""
        message = first
        for _ in range(MAX_PAGES):
            listed = await self.call(rpc, message, request)
            yield listed
            token = getattr(listed, "next_page_token", "")
            if not token:
                return
            message = type(message)()
            message.CopyFrom(first)
            message.page_token = token  # type: ignore[attr-defined]

    async def form(self, request: Request) -> dict[str, list[str]] | None:
        """The fields of a form post; None when the body is no form."""
        if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
            return None
        body = await read_body(request, self.max_body_bytes)
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def field(fields: Mapping[str, list[str]], name: str) -> str:
    return fields.get(name, [""])[0].strip()
