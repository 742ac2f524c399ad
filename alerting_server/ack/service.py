"""Acknowledging an alert, by a caller who names it or by a signed link from a notification.

What an acknowledgement must carry, and which link still acknowledges what, is decided here; the
pipeline makes it durable (ack/stage.py), and the gRPC servicer and the gateway's link pages only
translate.
"""

from __future__ import annotations

from typing import Protocol

from alerting_server.ack.links import AckLinks, Link
from alerting_server.ack.validate import validate_ack
from alerting_server.clock import Clock
from alerting_server.errors import FailedPrecondition, InvalidArgument, Unimplemented
from alerting_server.model import Alert, HistoryEventType

# Who acknowledged, when a link was followed without saying.
LINK_USER = "link"


class Acknowledger(Protocol):
    """The alert pipeline: acknowledges durably and stops the alert's escalation."""

    async def acknowledge(self, fp: str, by: str, comment: str = "") -> Alert: ...

    async def unacknowledge(self, fp: str, by: str) -> Alert: ...

    def get(self, fp: str) -> Alert: ...


class History(Protocol):
    async def last(self, fingerprint: str, type: HistoryEventType) -> int | None: ...


def _require(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument.field(field, "required")
    return value


class Acknowledgements:
    def __init__(
        self,
        alerts: Acknowledger,
        clock: Clock,
        links: AckLinks | None = None,
        history: History | None = None,
    ) -> None:
        self._alerts = alerts
        self._clock = clock
        self._links = links
        self._history = history

    async def acknowledge(self, fp: str, by: str, comment: str = "") -> Alert:
        _require(fp, "fingerprint")
        validate_ack(by, comment)
        return await self._alerts.acknowledge(fp, by, comment)

    async def unacknowledge(self, fp: str, by: str) -> Alert:
        _require(fp, "fingerprint")
        validate_ack(by, by_required=False)
        return await self._alerts.unacknowledge(fp, by)

    async def linked(self, token: str) -> tuple[Link, Alert]:
        """A genuine link and its alert, FAILED_PRECONDITION when the link is spent (links.py)."""
        if self._links is None:
            raise Unimplemented("this server signs no acknowledgement links")
        link = self._links.verify(_require(token, "token"), self._clock.now_ms())
        alert = self._alerts.get(link.fingerprint)
        if alert.started_at != link.episode:
            raise FailedPrecondition(
                "this link was sent for an earlier firing of the alert: use a link from a notification "
                "of the current one"
            )
        if not alert.acknowledged and self._history is not None:
            unacked = await self._history.last(link.fingerprint, HistoryEventType.UNACKNOWLEDGED)
            if unacked is not None and unacked > link.issued_at:
                raise FailedPrecondition(
                    "the alert was unacknowledged after this link was sent: use a link sent since"
                )
        return link, alert

    async def acknowledge_by_link(self, token: str, by: str, comment: str = "") -> Alert:
        link, alert = await self.linked(token)
        # A person's own link acknowledges as them.
        by = link.person or by or LINK_USER
        validate_ack(by, comment)
        # A link followed twice (or after someone else acknowledged) keeps the first acknowledgement.
        if not alert.acknowledged:
            alert = await self._alerts.acknowledge(link.fingerprint, by, comment)
        return alert
