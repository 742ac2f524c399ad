"""Bearer tokens with scopes. admin implies write, write implies read."""

from __future__ import annotations

import hmac
from contextvars import ContextVar
from dataclasses import dataclass

from alerting_server.errors import PermissionDenied, Unauthenticated

SCOPES = ("read", "write", "admin")
_RANK = {scope: i for i, scope in enumerate(SCOPES)}

# Configuration of what pages people: changing it needs admin.
_ADMIN_SERVICES = (
    "RoutingService",
    "ChannelService",
    "EscalationPolicyService",
    "TimeIntervalService",
    "ConfigService",
    "UserService",
    "ScheduleService",
)
# Write calls of admin services that on-call people make themselves (covering for someone sick).
_WRITE_METHODS = frozenset({"TestChannel", "CreateOverride", "DeleteOverride"})
_READ_PREFIXES = ("Get", "List", "Watch", "Query", "Export", "Check")
# Questions that change nothing although their names do not say so: which receivers an alert reaches.
_READ_METHODS = frozenset({"TestRoutes"})


@dataclass(frozen=True)
class Token:
    name: str
    token: str
    scope: str


# The token of the call being served (set by the gRPC auth interceptor; None when tokens are off):
# who did something, when the request does not say.
caller: ContextVar[Token | None] = ContextVar("caller", default=None)

# Signed acknowledgement and calendar links authenticate by their own HMAC: whoever holds the link
# may use it.
_SIGNED_LINK_METHODS = frozenset({"GetAckToken", "AcknowledgeByToken"})


def required_scope(method: str) -> str | None:
    """The scope a full gRPC method name (/alerting.v1.RuleService/CreateRule) needs; None: no token."""
    service, _, name = method.rpartition("/")
    if service.endswith("AckService") and name in _SIGNED_LINK_METHODS:
        return None
    if service.endswith("ScheduleService") and name == "GetCalendarFeed":
        return None
    if name.startswith(_READ_PREFIXES) or name in _READ_METHODS:
        return "read"
    if service.endswith(_ADMIN_SERVICES) and name not in _WRITE_METHODS:
        return "admin"
    return "write"


class Authenticator:
    def __init__(self, tokens: tuple[Token, ...]) -> None:
        self._tokens = tokens

    @property
    def enabled(self) -> bool:
        return bool(self._tokens)

    def identify(self, authorization: str) -> Token:
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthenticated("missing bearer token: send 'authorization: Bearer <token>'")
        credential = credential.strip()
        for token in self._tokens:
            if hmac.compare_digest(token.token.encode(), credential.encode()):
                return token
        raise Unauthenticated("invalid bearer token")

    def check(self, authorization: str, method: str) -> Token | None:
        needed = required_scope(method)
        if needed is None:
            return None
        token = self.identify(authorization)
        if _RANK[token.scope] < _RANK[needed]:
            raise PermissionDenied(
                f"token {token.name!r} has scope {token.scope!r}; {method} needs {needed!r}"
            )
        return token
