"""What the gateway checks of a request before any endpoint reads its body.

Against other web pages: a browser sends a cross-site request's `Origin`, so a state-changing request
from a page of another origin is refused; and a page whose name was made to resolve to this server
(DNS rebinding) still sends its own name as `Host`, so a server that listens on loopback answers only
to its own names. Against unauthenticated load: with tokens on, a request with a body must carry a
known token before the body is read (or, for remote write, decompressed); the servicers still check
the token's scope.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Collection, Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import remote_write
from gateway.errors import GatewayError

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Signed acknowledgement links authenticate by their own signature (alerting_server/auth.py).
_SIGNED_LINK_PREFIX = "/ack/"
# The console's login form carries the token in its body; its endpoint checks it (gateway/console).
_LOGIN_PATH = "/ui/login"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# The server's token check: the `authorization` header's value -> why it is refused, or None.
Authenticate = Callable[[str], str | None]


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def own_names(listen_host: str, more: Iterable[str] = ()) -> set[str] | None:
    """The names `Host` may carry for a server listening on `listen_host`: on loopback only its own
    (a page of another site whose name was made to resolve to 127.0.0.1, DNS rebinding, sends that
    name); None, any, elsewhere."""
    if not is_loopback(listen_host):
        return None
    return {*LOOPBACK_NAMES, listen_host, *more}


def host_name(netloc: str) -> str:
    """The host of `host[:port]` or `[v6]:port`, lower case, without brackets."""
    return (urlsplit(f"//{netloc}").hostname or "").lower()


class Guard:
    """`authenticate`: None when tokens are off. `allowed_hosts`: the names `Host` may carry (None:
    any). `origins`: the `host[:port]` of origins that are this server besides the request's own
    `Host` (its external URL's)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Authenticate | None = None,
        allowed_hosts: Collection[str] | None = None,
        origins: Collection[str] = (),
    ) -> None:
        self.app = app
        self._authenticate = authenticate
        self._hosts = None if allowed_hosts is None else {h.lower().strip("[]") for h in allowed_hosts}
        self._origins = {o.lower() for o in origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        host = headers.get("host", "").lower()
        if self._hosts is not None and host_name(host) not in self._hosts:
            return _error(scope, 403, "PERMISSION_DENIED", f"host {host!r} is not a name of this server")
        if scope["method"] in _SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None:
            netloc = urlsplit(origin).netloc.lower()
            if not netloc or (netloc != host and netloc not in self._origins):
                return _error(scope, 403, "PERMISSION_DENIED", f"cross-origin request from {origin!r}")
        path = scope["path"]
        if (
            self._authenticate is not None
            and not path.startswith(_SIGNED_LINK_PREFIX)
            and path != _LOGIN_PATH
        ):
            refused = self._authenticate(headers.get("authorization", ""))
            if refused is not None:
                return _error(scope, 401, "UNAUTHENTICATED", refused)
        return None


def _error(scope: Scope, status: int, code: str, message: str) -> Response:
    if scope["path"] == remote_write.PATH:
        # Remote-write senders read plain text (gateway/remote_write.py).
        return PlainTextResponse(message, status_code=status)
    return GatewayError(status, code, message).response()
