"""Secret calendar links: a schedule's iCalendar feed at an address that is its own credential, for
calendar apps that cannot send a bearer token (as PagerDuty's webcal feeds).

The token names the schedule and carries an HMAC over it under the server's link key
(`ack_link_secret`), with a purpose of its own so that it cannot pass for an acknowledgement link. It
reads that schedule's shifts and nothing else; it does not expire. Resetting a schedule's link
(ResetCalendarLink) bumps the schedule's epoch, which the token carries: the links given before stop
working, those of other schedules do not. Changing the key revokes every one (acknowledgement links
with them).

`cal1.<schedule>.<signature>` is the link of a schedule never reset (epoch 0);
`cal2.<epoch>.<schedule>.<signature>` that of one reset `epoch` times.
"""

from __future__ import annotations

import hmac

from alerting_server.ack.links import sign
from alerting_server.errors import InvalidArgument

FIRST = "cal1"
RESET = "cal2"


class CalendarLinks:
    def __init__(self, secret: bytes, base_url: str) -> None:
        if not secret:
            raise ValueError("a calendar link secret must not be empty")
        self._secret = secret
        self._base = base_url.rstrip("/")

    def token(self, schedule_id: str, epoch: int = 0) -> str:
        payload = f"{FIRST}.{schedule_id}" if epoch == 0 else f"{RESET}.{epoch}.{schedule_id}"
        return f"{payload}.{sign(self._secret, payload)}"

    def url(self, schedule_id: str, epoch: int = 0) -> str:
        return f"{self._base}/calendar/{self.token(schedule_id, epoch)}.ics"

    def verify(self, token: str) -> tuple[str, int]:
        """The schedule and epoch a genuine token names; INVALID_ARGUMENT saying why not. Whether the
        epoch is still the schedule's is for the caller to check."""
        payload, _, signature = token.rpartition(".")
        version, _, rest = payload.partition(".")
        if version == FIRST:
            epoch_text, schedule_id = "0", rest
        else:
            epoch_text, _, schedule_id = rest.partition(".")
        if version not in (FIRST, RESET) or not schedule_id or not signature or not epoch_text.isdigit():
            raise InvalidArgument.field("token", "not a calendar link token")
        if not hmac.compare_digest(sign(self._secret, payload), signature):
            raise InvalidArgument.field("token", "the link's signature does not match: it was altered")
        return schedule_id, int(epoch_text)
