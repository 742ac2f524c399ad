"""Secret calendar links: a schedule's iCalendar feed at an address that is its own credential, for
calendar apps that cannot send a bearer token (as PagerDuty's webcal feeds).

The token names the schedule and carries an HMAC over it under the server's link key
(`ack_link_secret`), with a purpose of its own so that it cannot pass for an acknowledgement link. It
reads that schedule's shifts and nothing else; it does not expire, and changing the key revokes
every one (acknowledgement links with them).
"""

from __future__ import annotations

import hmac

from alerting_server.ack.links import sign
from alerting_server.errors import InvalidArgument

VERSION = "cal1"


class CalendarLinks:
    def __init__(self, secret: bytes, base_url: str) -> None:
        if not secret:
            raise ValueError("a calendar link secret must not be empty")
        self._secret = secret
        self._base = base_url.rstrip("/")

    def token(self, schedule_id: str) -> str:
        payload = f"{VERSION}.{schedule_id}"
        return f"{payload}.{sign(self._secret, payload)}"

    def url(self, schedule_id: str) -> str:
        return f"{self._base}/calendar/{self.token(schedule_id)}.ics"

    def verify(self, token: str) -> str:
        """The id of the schedule a genuine token names; INVALID_ARGUMENT saying why not."""
        payload, _, signature = token.rpartition(".")
        version, _, schedule_id = payload.partition(".")
        if version != VERSION or not schedule_id or not signature:
            raise InvalidArgument.field("token", "not a calendar link token")
        if not hmac.compare_digest(sign(self._secret, payload), signature):
            raise InvalidArgument.field("token", "the link's signature does not match: it was altered")
        return schedule_id
