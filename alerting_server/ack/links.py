"""Signed acknowledgement links: one alert's firing episode, when the link was issued, an expiry, and
an HMAC over all of them. The link is the credential, so nothing in it is trusted before its signature
checks out.

A link sent to a person (an escalation level that pages a user, or whoever is on call) names them, so
that an acknowledgement through it records who acknowledged.

A link acknowledges the episode it was sent for, once: a later firing of the same alert (another
`started_at`) needs a link of its own, and so does the alert after someone unacknowledged it (a link
issued before the unacknowledgement is spent), as with PagerDuty's per-incident links.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from alerting_server.errors import InvalidArgument

DEFAULT_TTL = 24 * 3_600_000
VERSION = "v2"


@dataclass(frozen=True)
class Link:
    fingerprint: str
    # The alert's started_at when the link was sent: which firing it acknowledges.
    episode: int
    issued_at: int
    expires_at: int
    # The person the link was sent to ("": a link to a channel's audience).
    person: str = ""


def sign(secret: bytes, payload: str) -> str:
    """The HMAC-SHA256 of `payload` under `secret`, base64url without padding."""
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class AckLinks:
    def __init__(self, secret: bytes, base_url: str, ttl_ms: int = DEFAULT_TTL) -> None:
        if not secret:
            raise ValueError("an acknowledgement link secret must not be empty")
        self._secret = secret
        self._base = base_url.rstrip("/")
        self.ttl_ms = ttl_ms

    def token(self, fingerprint: str, episode: int, now: int, person: str = "") -> str:
        payload = f"{VERSION}.{fingerprint}.{episode}.{now}.{now + self.ttl_ms}"
        if person:
            # base64url: a name may hold any character, the dot that separates the parts included.
            payload += "." + base64.urlsafe_b64encode(person.encode()).rstrip(b"=").decode()
        return f"{payload}.{sign(self._secret, payload)}"

    def url(self, fingerprint: str, episode: int, now: int, person: str = "") -> str:
        return f"{self._base}/ack/{self.token(fingerprint, episode, now, person)}"

    def verify(self, token: str, now: int) -> Link:
        """What a genuine, unexpired token stands for; INVALID_ARGUMENT saying why not."""
        payload, _, signature = token.rpartition(".")
        parts = payload.split(".")
        if len(parts) not in (5, 6) or parts[0] != VERSION or not parts[1] or not signature:
            raise InvalidArgument.field("token", "not an acknowledgement link token")
        fingerprint, times = parts[1], parts[2:5]
        if not all(t.isdigit() for t in times):
            raise InvalidArgument.field("token", "not an acknowledgement link token")
        if not hmac.compare_digest(sign(self._secret, payload), signature):
            raise InvalidArgument.field("token", "the link's signature does not match: it was altered")
        episode, issued_at, expires_at = (int(t) for t in times)
        if expires_at <= now:
            raise InvalidArgument.field("token", "the link has expired")
        person = ""
        if len(parts) == 6:
            try:
                person = base64.urlsafe_b64decode(parts[5] + "=" * (-len(parts[5]) % 4)).decode()
            except (ValueError, UnicodeDecodeError):
                raise InvalidArgument.field("token", "not an acknowledgement link token") from None
        return Link(fingerprint, episode, issued_at, expires_at, person)
