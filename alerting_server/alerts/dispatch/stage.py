"""The dispatch stage: alerts into their aggregation groups, and the groups that are due to the outbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alerting_server.ack.links import AckLinks
from alerting_server.alerts import history
from alerting_server.alerts.dispatch.aggregation import AlertGroup, Dispatcher, Muter, Notification
from alerting_server.alerts.dispatch.nflog import LogEntry
from alerting_server.alerts.dispatch.receivers import Receivers
from alerting_server.alerts.dispatch.routing import RouteNode, compile_routes
from alerting_server.alerts.limits import DEFAULT_MAX_GROUPS
from alerting_server.alerts.live import LiveAlerts
from alerting_server.alerts.outbox import Outgoing, idempotency_key, pending_delivery
from alerting_server.alerts.watch import EventType
from alerting_server.model import NotificationPayload, Route
from alerting_server.timeintervals import TimeInterval


class DispatchStage:
    def __init__(self, *, links: AckLinks | None = None, max_groups: int = DEFAULT_MAX_GROUPS) -> None:
        self._links = links
        self._max_groups = max_groups
        self.routes: RouteNode = compile_routes(Route())
        self.receivers = Receivers()
        self.dispatcher = Dispatcher(self.routes, max_groups=max_groups)
        self._muters: Sequence[Muter] = ()
        self._time_intervals: Mapping[str, TimeInterval] = {}
        # Set when the alerts loaded are a taken-over partition's: their groups' waits go on from the
        # alerts' start at the next ingest, not from zero.
        self.resume_timers = False

    def configure(
        self,
        routes: RouteNode,
        receivers: Receivers,
        muters: Sequence[Muter],
        time_intervals: Sequence[TimeInterval] = (),
    ) -> None:
        self.routes = routes
        self.receivers = receivers
        self._muters = muters
        self._time_intervals = {interval.name: interval for interval in time_intervals}
        # The tree may have changed: keep the notification log and the groups that still exist in it.
        dispatcher = Dispatcher(routes, max_groups=self._max_groups)
        dispatcher.restore(self.dispatcher.snapshot())
        self.dispatcher = dispatcher

    def restore_log(self, entries: Sequence[tuple[str, str, LogEntry]]) -> None:
        """What was sent before a restart, so that rebuilt groups do not send it again."""
        for group_id, receiver, entry in entries:
            self.dispatcher.nflog.log(group_id, receiver, entry)
        self.dispatcher.nflog.take_changes()

    def groups(self) -> list[AlertGroup]:
        return self.dispatcher.groups()

    def ingest(self, live: LiveAlerts, now: int) -> None:
        alerts = live.by_fingerprint
        self.dispatcher.ingest(
            (alerts[fp] for fp in sorted(live.undispatched) if fp in alerts), now, resume=self.resume_timers
        )
        live.undispatched.clear()
        self.resume_timers = False

    async def run(self, live: LiveAlerts, now: int) -> None:
        self.ingest(live, now)
        for n in self.dispatcher.due(now, self._muters, self._time_intervals):
            live.outbox.extend(self._deliveries(n, now))
        # An alert shows the time intervals muting its groups, as it shows its silences.
        for fp in sorted(self.dispatcher.take_flushed()):
            alert = live.get(fp)
            if alert is None:
                continue
            muted_by = self.dispatcher.muted_by(alert)
            if muted_by != alert.muted_by:
                muted = live.replace(alert, muted_by=muted_by)
                live.events.append((EventType.UPDATED, muted))
                live.history.extend(history.muting(alert, muted, now))

    def next_wakeup(self, live: LiveAlerts, now: int) -> int | None:
        return self.dispatcher.next_wakeup()

    def _deliveries(self, n: Notification, now: int) -> list[Outgoing]:
        if not n.receiver:
            # No routing tree yet: alerts are kept and shown, nobody is notified.
            return []
        channels = self.receivers.resolve(n.receiver, f"route {n.route_key}")
        if not channels:
            return []
        fingerprints = tuple(a.fingerprint for a in (*n.firing, *n.resolved))
        urls = None
        if self._links is not None:
            # One link per firing alert: a token acknowledges exactly one alert.
            urls = {a.fingerprint: self._links.url(a.fingerprint, a.started_at, now) for a in n.firing}
        rows: list[Outgoing] = []
        for channel in channels:
            key = idempotency_key(n.group_id, channel.id, n.at)
            delivery = pending_delivery(channel, n.group_key, fingerprints, key, now)
            payload = NotificationPayload(
                # The Alertmanager receiver the channel is an integration of, else the channel.
                receiver=channel.receiver or channel.name,
                group_key=n.group_key,
                group_labels=dict(n.group_labels),
                route_key=n.route_key,
                escalation_policy_id=n.escalation_policy_id,
                reason=n.reason.value,
                firing=tuple(n.firing),
                resolved=tuple(n.resolved),
                ack_urls=urls,
                ack_url=next(iter(urls.values())) if urls is not None and len(urls) == 1 else "",
            )
            rows.append((delivery, payload))
        return rows
