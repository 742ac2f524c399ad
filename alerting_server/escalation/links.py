"""Signed acknowledgement links: one alert, an expiry, an HMAC over both. The link is the credential,
so nothing in it is trusted before its signature checks out."""

from __future__ import annotations

import base64
import hashlib
import hmac

from alerting_server.errors import InvalidArgument

DEFAULT_TTL = 24 * 3_600_000
VERSION = "v1"


def _sign(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class AckLinks:
    def __init__(self, secret: bytes, base_url: str, ttl_ms: int = DEFAULT_TTL) -> None:
        if not secret:
            raise ValueError("an acknowledgement link secret must not be empty")
        self._secret = secret
        self._base = base_url.rstrip("/")
        self.ttl_ms = ttl_ms

    def token(self, fingerprint: str, now: int) -> str:
        payload = f"{VERSION}.{fingerprint}.{now + self.ttl_ms}"
        return f"{payload}.{_sign(self._secret, payload)}"

    def url(self, fingerprint: str, now: int) -> str:
        return f"{self._base}/ack/{self.token(fingerprint, now)}"

    def verify(self, token: str, now: int) -> tuple[str, int]:
        """The fingerprint and expiry of a genuine, unexpired token; INVALID_ARGUMENT saying why not."""
        payload, _, signature = token.rpartition(".")
        version, _, rest = payload.partition(".")
        fingerprint, _, expiry = rest.partition(".")
        if version != VERSION or not fingerprint or not expiry.isdigit() or not signature:
            raise InvalidArgument.field("token", "not an acknowledgement link token")
        if not hmac.compare_digest(_sign(self._secret, payload), signature):
            raise InvalidArgument.field("token", "the link's signature does not match: it was altered")
        expires_at = int(expiry)
        if expires_at <= now:
            raise InvalidArgument.field("token", "the link has expired")
        return fingerprint, expires_at
