"""AlertService: alerts as the live pipeline holds them, posting from outside, groups and WatchAlerts."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import Any

import grpc
from grpc import aio

from alerting.v1 import alert_service_pb2, alert_service_pb2_grpc
from alerting_common.regexp import Regexp
from alerting_server import model
from alerting_server.alerts import history
from alerting_server.alerts.watch import AlertEvent, EventType
from alerting_server.api import convert
from alerting_server.api.convert import ts_from_pb
from alerting_server.api.errors import to_grpc_status
from alerting_server.errors import InvalidArgument, NotFound
from alerting_server.matching import Matcher, compile_re2, parse_matchers
from alerting_server.pagination import PageRequest
from alerting_server.pipeline import AlertPipeline
from alerting_server.store import Store
from alerting_server.validation.resources import validate_posted_alerts

Context = Any

_EVENT_TYPE = {
    EventType.SNAPSHOT: alert_service_pb2.ALERT_EVENT_TYPE_SNAPSHOT,
    EventType.CREATED: alert_service_pb2.ALERT_EVENT_TYPE_CREATED,
    EventType.STATE_CHANGED: alert_service_pb2.ALERT_EVENT_TYPE_STATE_CHANGED,
    EventType.VALUE_CHANGED: alert_service_pb2.ALERT_EVENT_TYPE_VALUE_CHANGED,
    EventType.RESOLVED: alert_service_pb2.ALERT_EVENT_TYPE_RESOLVED,
    EventType.ACKNOWLEDGED: alert_service_pb2.ALERT_EVENT_TYPE_ACKNOWLEDGED,
    EventType.UNACKNOWLEDGED: alert_service_pb2.ALERT_EVENT_TYPE_UNACKNOWLEDGED,
    EventType.REMOVED: alert_service_pb2.ALERT_EVENT_TYPE_REMOVED,
    EventType.UPDATED: alert_service_pb2.ALERT_EVENT_TYPE_UPDATED,
}


def parse_filter(text: str, field: str = "filter") -> list[Matcher]:
    if not text:
        return []
    try:
        return parse_matchers(text)
    except ValueError as exc:
        raise InvalidArgument.field(field, str(exc)) from None


def _receiver_regex(text: str) -> Regexp | None:
    if not text:
        return None
    try:
        return compile_re2(text)
    except ValueError as exc:
        raise InvalidArgument.field("receiver", str(exc)) from None


async def with_delivery_outcomes(
    store: Store, events: Sequence[model.AlertHistoryEvent]
) -> list[model.AlertHistoryEvent]:
    """Notification events with the current status and attempts of their outbox rows."""
    merged = []
    for event in events:
        if event.type is model.HistoryEventType.NOTIFICATION and event.message.startswith(
            history.DELIVERY_PREFIX
        ):
            try:
                delivery = await store.deliveries.get(event.message.removeprefix(history.DELIVERY_PREFIX))
            except NotFound:
                event = dataclasses.replace(event, outcome="unknown (the delivery record is gone)")
            else:
                outcome = delivery.status.value
                if delivery.last_error:
                    outcome = f"{outcome}: {delivery.last_error}"
                event = dataclasses.replace(event, outcome=outcome, attempts=delivery.attempts)
        merged.append(event)
    return merged


async def _abort(context: Context, status: grpc.Status) -> None:
    """Ends a stream from outside its handler (which waits on a send meanwhile)."""
    with contextlib.suppress(aio.AbortError):
        await context.abort_with_status(status)


class AlertServicer(alert_service_pb2_grpc.AlertServiceServicer):
    def __init__(self, manager: AlertPipeline, store: Store) -> None:
        self._manager = manager
        self._store = store
        # Streams being ended from outside their handlers (WatchAlerts' cut-off).
        self._aborting: set[asyncio.Task[None]] = set()

    def _to_pb(self, alert: model.Alert) -> alert_service_pb2.Alert:
        return convert.alert_to_pb(alert, self._manager.receivers(alert))

    def _matches(
        self,
        alert: model.Alert,
        request: alert_service_pb2.ListAlertsRequest,
        matchers: list[Matcher],
        receiver: Regexp | None,
    ) -> bool:
        if request.state and convert.ALERT_STATE_FROM_PB.get(request.state) is not alert.state:
            return False
        if request.rule and alert.rule != request.rule:
            return False
        if request.HasField("acknowledged") and alert.acknowledged != request.acknowledged:
            return False
        if request.HasField("silenced") and bool(alert.silenced_by) != request.silenced:
            return False
        if request.HasField("inhibited") and bool(alert.inhibited_by) != request.inhibited:
            return False
        if request.HasField("muted") and bool(alert.muted_by) != request.muted:
            return False
        if receiver is not None and not any(receiver.search(r) for r in self._manager.receivers(alert)):
            return False
        return all(m.matches(alert.labels) for m in matchers)

    async def ListAlerts(
        self, request: alert_service_pb2.ListAlertsRequest, context: Context
    ) -> alert_service_pb2.ListAlertsResponse:
        page = PageRequest.parse(request.page_size, request.page_token, "alerts")
        matchers = parse_filter(request.filter)
        receiver = _receiver_regex(request.receiver)
        alerts = [a for a in self._manager.alerts() if self._matches(a, request, matchers, receiver)]
        items = alerts[page.offset : page.offset + page.size]
        more = page.offset + page.size < len(alerts)
        return alert_service_pb2.ListAlertsResponse(
            alerts=[self._to_pb(a) for a in items],
            next_page_token=page.next_token("alerts", len(items), more),
        )

    async def CreateAlerts(
        self, request: alert_service_pb2.CreateAlertsRequest, context: Context
    ) -> alert_service_pb2.CreateAlertsResponse:
        posted = [
            model.PostedAlert(
                labels={k: v for k, v in a.labels.items() if v},  # an empty value means no such label
                annotations=dict(a.annotations),
                starts_at=ts_from_pb(a, "starts_at"),
                ends_at=ts_from_pb(a, "ends_at"),
                generator_url=a.generator_url,
            )
            for a in request.alerts
        ]
        validate_posted_alerts(posted)
        return alert_service_pb2.CreateAlertsResponse(fingerprints=await self._manager.post(posted))

    async def GetAlert(
        self, request: alert_service_pb2.GetAlertRequest, context: Context
    ) -> alert_service_pb2.GetAlertResponse:
        if not request.fingerprint:
            raise InvalidArgument.field("fingerprint", "required")
        return alert_service_pb2.GetAlertResponse(alert=self._to_pb(self._manager.get(request.fingerprint)))

    async def ListAlertHistory(
        self, request: alert_service_pb2.ListAlertHistoryRequest, context: Context
    ) -> alert_service_pb2.ListAlertHistoryResponse:
        if not request.fingerprint:
            raise InvalidArgument.field("fingerprint", "required")
        page = await self._store.history.list(
            request.fingerprint, PageRequest.parse(request.page_size, request.page_token, "history")
        )
        if not page.items and not request.page_token:
            # No history and no alert: a fingerprint never seen, rather than an alert with no past.
            self._manager.get(request.fingerprint)
        events = await with_delivery_outcomes(self._store, page.items)
        return alert_service_pb2.ListAlertHistoryResponse(
            events=[convert.history_event_to_pb(e) for e in events], next_page_token=page.next_page_token
        )

    async def ListAlertGroups(
        self, request: alert_service_pb2.ListAlertGroupsRequest, context: Context
    ) -> alert_service_pb2.ListAlertGroupsResponse:
        page = PageRequest.parse(request.page_size, request.page_token, "alert_groups")
        groups = self._manager.groups()
        items = groups[page.offset : page.offset + page.size]
        return alert_service_pb2.ListAlertGroupsResponse(
            groups=[
                alert_service_pb2.AlertGroup(
                    labels=g.labels,
                    route=g.route.route_key,
                    receiver=self._manager.receiver_name(g.receiver),
                    alerts=[self._to_pb(self._manager.latest(a)) for _, a in sorted(g.alerts.items())],
                    muted_by=list(g.muted_by),
                )
                for g in items
            ],
            next_page_token=page.next_token(
                "alert_groups", len(items), page.offset + page.size < len(groups)
            ),
        )

    async def WatchAlerts(
        self, request: alert_service_pb2.WatchAlertsRequest, context: Context
    ) -> AsyncIterator[alert_service_pb2.WatchAlertsResponse]:
        matchers = parse_filter(request.filter)
        states = {convert.ALERT_STATE_FROM_PB.get(s) for s in request.states}
        hub = self._manager.hub
        await self._manager.catch_up_to(request.since_revision)
        first, subscription = hub.subscribe(request.since_revision, self._manager.alerts)

        aborted = False

        def cut_off() -> None:
            # Fallen behind while sending to a subscriber that does not read: the stream ends now, its
            # status queued behind what was sent already, rather than when the send is taken.
            nonlocal aborted
            aborted = True
            status = to_grpc_status(subscription.cut_off())
            task = asyncio.ensure_future(_abort(context, status))
            self._aborting.add(task)
            task.add_done_callback(self._aborting.discard)

        subscription.on_overflow = cut_off
        try:
            # Tells the caller at once that the watch was taken, even before there is any event to send
            # (the gateway answers its HTTP status on this).
            await context.send_initial_metadata(())
            for event in first:
                if aborted:
                    break
                if self._wanted(event.alert, matchers, states):
                    yield self._event_pb(event)
            while not aborted:
                event = await subscription.next()
                if self._wanted(event.alert, matchers, states):
                    yield self._event_pb(event)
        finally:
            subscription.on_overflow = None
            hub.unsubscribe(subscription)

    @staticmethod
    def _wanted(alert: model.Alert, matchers: list[Matcher], states: set[model.AlertState | None]) -> bool:
        return (not states or alert.state in states) and all(m.matches(alert.labels) for m in matchers)

    def _event_pb(self, event: AlertEvent) -> alert_service_pb2.WatchAlertsResponse:
        """The event's message, made once and shared by every subscriber (never changed after)."""
        message = event.encoded.get("pb")
        if message is None:
            message = event.encoded["pb"] = alert_service_pb2.WatchAlertsResponse(
                type=_EVENT_TYPE[event.type], alert=self._to_pb(event.alert), revision=event.revision
            )
        assert isinstance(message, alert_service_pb2.WatchAlertsResponse)
        return message
