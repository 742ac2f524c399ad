"""Aggregation groups and their timers: Alertmanager's dispatcher as a pure state machine.

A group is (route, values of the route's group_by labels). Its timeline, as dispatch/dispatch.go:

- it is created when its first alert is ingested, and first flushed `group_wait` later, or at
  once when that alert started more than `group_wait` ago (after a restart, say);
- after every flush the next one is `group_interval` later, whatever happened;
- a flush notifies only when the notification log says so (see `nflog`): something new fires,
  something resolved, or an unchanged firing group has waited more than `repeat_interval`;
- muted (silenced or inhibited) alerts are left out before that decision, so an all-muted group
  sends nothing and logs nothing;
- a group whose route is muted by a time interval at the flush (one of its mute_time_intervals
  holds, or none of its active_time_intervals does: Alertmanager's TimeActiveStage and
  TimeMuteStage) sends nothing and logs nothing either, so the first flush after the interval
  sends; the names are the group's `muted_by` (Alertmanager's group marker) until its next flush;
- after a flush its resolved alerts are dropped, and an empty group is removed.

`due(now)` performs the flushes whose time has come and returns the notifications; the caller
writes them to the outbox together with `snapshot()`, which is all the state there is.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from alerting_server.alerts.dispatch.nflog import LogEntry, NotificationLog, NotifyReason, needs_update
from alerting_server.alerts.dispatch.routing import RouteMatch, RouteNode, RouteOpts, format_labels
from alerting_server.alerts.limits import DEFAULT_MAX_GROUPS
from alerting_server.alerts.state import is_resolved
from alerting_server.alerts.telemetry import GROUP_LIMIT_REACHED
from alerting_server.model import Alert, AlertState
from alerting_server.model.codec import alert_from_data, alert_to_data
from alerting_server.timeintervals import TimeInterval, UnknownTimeInterval, mutes

log = logging.getLogger(__name__)

DEFAULT_NFLOG_RETENTION = 120 * 3_600_000  # Alertmanager's --data.retention
SNAPSHOT_VERSION = 1
NFLOG_GC_EVERY = 60_000


class Muter(Protocol):
    """Says why an alert must not be notified at `now` (ids of silences, inhibiting alerts...)."""

    def muted_by(self, alert: Alert, now: int) -> list[str]: ...


@dataclass(frozen=True)
class Notification:
    """One message for one group and receiver: the whole group, firing and resolved alerts together.

    `group_key` is Alertmanager's (`{}/{team="a"}:{alertname="X"}`), what webhooks know as
    groupKey; `group_id` is unique even for sibling routes with the same matchers.
    """

    group_id: str
    group_key: str
    receiver: str
    route_id: str
    route_key: str
    escalation_policy_id: str
    group_labels: dict[str, str]
    firing: tuple[Alert, ...]
    resolved: tuple[Alert, ...]
    reason: NotifyReason
    at: int


@dataclass
class AlertGroup:
    """An aggregation group as it stands; `alerts` by fingerprint."""

    id: str
    key: str
    route: RouteMatch
    labels: dict[str, str]
    next_flush: int
    alerts: dict[str, Alert] = field(default_factory=dict)
    # The time intervals that muted the route at the latest flush (Alertmanager's mutedBy).
    muted_by: tuple[str, ...] = ()

    @property
    def receiver(self) -> str:
        return self.route.opts.receiver


class Dispatcher:
    """Sorts alerts into aggregation groups and decides when each group notifies its receiver.

    `annotations_are_changes`: Alertmanager identifies an alert by its labels only, so a
    changed annotation (a templated value, say) does not re-notify before `repeat_interval`;
    True counts an alert whose annotations changed as new.
    """

    def __init__(
        self,
        routes: RouteNode,
        *,
        nflog_retention: int = DEFAULT_NFLOG_RETENTION,
        annotations_are_changes: bool = False,
        max_groups: int = DEFAULT_MAX_GROUPS,
    ) -> None:
        self._routes = routes
        self._groups: dict[str, AlertGroup] = {}
        self._max_groups = max_groups
        # Whether the limit was reported since the groups last fell below it: logged once a time.
        self._full = False
        self._annotations_are_changes = annotations_are_changes
        self.nflog = NotificationLog(nflog_retention)
        self._timers: list[tuple[int, str]] = []
        self._last_gc = -NFLOG_GC_EVERY
        # Fingerprints of the alerts of the groups flushed since `take_flushed`: their muted_by may
        # have changed.
        self._flushed: set[str] = set()

    def ingest(self, alerts: Iterable[Alert], now: int, *, resume: bool = False) -> None:
        """Place the latest version of each alert into the groups of every route it matches.

        Pending and inactive alerts are ignored: Alertmanager never sees them. `resume`: the alerts are
        those of groups another process was waiting on (a pipeline partition taken over), so a new
        group's group_wait goes on from its first alert's start rather than from now.
        """
        for alert in alerts:
            if alert.state in (AlertState.PENDING, AlertState.INACTIVE):
                continue
            for match in self._routes.match(alert.labels):
                self._insert(alert, match, now, resume)

    def _insert(self, alert: Alert, match: RouteMatch, now: int, resume: bool = False) -> None:
        labels = match.opts.group_labels(alert.labels)
        group_id = f"{match.route_id}:{format_labels(labels)}"
        group = self._groups.get(group_id)
        if group is None:
            if len(self._groups) >= self._max_groups:
                # As Alertmanager's dispatcher: nobody to answer, so the alert stays ungrouped (held and
                # listed, not notified) until a group closes and it is ingested again.
                GROUP_LIMIT_REACHED.inc()
                if not self._full:
                    self._full = True
                    log.error(
                        "%d aggregation groups, the most allowed (limits.max_aggregation_groups): alert "
                        "%s is not notified (route %s); group_by fewer labels or raise the limit",
                        len(self._groups),
                        format_labels(alert.labels),
                        match.route_key,
                    )
                return
            self._full = False
            wait = match.opts.group_wait
            started = alert.fired_at if alert.fired_at is not None else alert.started_at
            # Alertmanager flushes at once a new group whose first alert is older than group_wait.
            next_flush = now if started + wait < now else (started + wait if resume else now + wait)
            group = AlertGroup(
                group_id, f"{match.route_key}:{format_labels(labels)}", match, labels, next_flush
            )
            self._groups[group_id] = group
            self._schedule(group)
        group.alerts[alert.fingerprint] = alert

    def due(
        self,
        now: int,
        muters: Sequence[Muter] = (),
        time_intervals: Mapping[str, TimeInterval] | None = None,
    ) -> list[Notification]:
        """Flush every group whose time has come; return what must be sent, in flush order.
        `time_intervals`, by name, are those the routes' mute_time_intervals and
        active_time_intervals name."""
        if now - self._last_gc >= NFLOG_GC_EVERY:
            # A scan of the whole log; once a minute is soon enough for a retention of days.
            self._last_gc = now
            self.nflog.gc(now)
        ready: dict[str, AlertGroup] = {}
        while self._timers and self._timers[0][0] <= now:
            at, group_id = heapq.heappop(self._timers)
            group = self._groups.get(group_id)
            if group is not None and group.next_flush == at:
                ready[group_id] = group
        out: list[Notification] = []
        for group in sorted(ready.values(), key=lambda g: (g.next_flush, g.id)):
            notification = self._flush(group, now, muters, time_intervals or {})
            if notification is not None:
                out.append(notification)
        return out

    def _flush(
        self,
        group: AlertGroup,
        now: int,
        muters: Sequence[Muter],
        time_intervals: Mapping[str, TimeInterval],
    ) -> Notification | None:
        group.next_flush = now + group.route.opts.group_interval
        self._schedule(group)
        self._flushed.update(group.alerts)
        try:
            group.muted_by = time_muted(group.route.opts, time_intervals, now)
        except UnknownTimeInterval as exc:
            # Alertmanager's stage fails: nothing is sent and the group keeps its alerts, resolved
            # ones included, for the next flush.
            log.error("route %s: %s; its notifications wait", group.route.route_key, exc)
            return None
        alerts = sorted(group.alerts.values(), key=_alert_order)
        resolved_now = [a for a in alerts if is_resolved(a, now)]
        visible = [a for a in alerts if not any(m.muted_by(a, now) for m in muters)]
        notification = None
        if visible and not group.muted_by:
            firing = tuple(a for a in visible if not is_resolved(a, now))
            resolved = tuple(a for a in visible if is_resolved(a, now))
            entry = LogEntry(
                frozenset(self._hash(a) for a in firing), frozenset(self._hash(a) for a in resolved), now
            )
            previous = self.nflog.get(group.id, group.receiver)
            reason = needs_update(
                previous, entry.firing, entry.resolved, group.route.opts.repeat_interval, now
            )
            if reason:
                self.nflog.log(group.id, group.receiver, entry)
                notification = Notification(
                    group_id=group.id,
                    group_key=group.key,
                    receiver=group.receiver,
                    route_id=group.route.route_id,
                    route_key=group.route.route_key,
                    escalation_policy_id=group.route.opts.escalation_policy_id,
                    group_labels=dict(group.labels),
                    firing=firing,
                    resolved=resolved,
                    reason=reason,
                    at=now,
                )
        # Resolved alerts go after any flush, sent or not, as Alertmanager deletes them after the
        # pipeline ran; a muted or already-known resolution is not worth keeping either.
        for alert in resolved_now:
            del group.alerts[alert.fingerprint]
        if not group.alerts:
            del self._groups[group.id]
        return notification

    def take_flushed(self) -> set[str]:
        """Fingerprints of the alerts of the groups flushed since the last call."""
        flushed, self._flushed = self._flushed, set()
        return flushed

    def muted_by(self, alert: Alert) -> tuple[str, ...]:
        """The time intervals muting a group the alert is in, as of each group's latest flush."""
        names: list[str] = []
        for match in self._routes.match(alert.labels):
            labels = format_labels(match.opts.group_labels(alert.labels))
            group = self._groups.get(f"{match.route_id}:{labels}")
            if group is not None and alert.fingerprint in group.alerts:
                names.extend(n for n in group.muted_by if n not in names)
        return tuple(names)

    def _hash(self, alert: Alert) -> str:
        if not self._annotations_are_changes:
            return alert.fingerprint
        annotations = "\xff".join(f"{k}\xff{v}" for k, v in sorted(alert.annotations.items()))
        digest = hashlib.blake2b(annotations.encode(), digest_size=8).hexdigest()
        return f"{alert.fingerprint}:{digest}"

    def next_wakeup(self) -> int | None:
        """When `due` next has something to flush; None when there are no groups."""
        # A heap of (next_flush, group id) with stale entries dropped lazily: O(log n), not a scan.
        while self._timers:
            at, group_id = self._timers[0]
            group = self._groups.get(group_id)
            if group is not None and group.next_flush == at:
                return at
            heapq.heappop(self._timers)
        return None

    def _schedule(self, group: AlertGroup) -> None:
        heapq.heappush(self._timers, (group.next_flush, group.id))

    def groups(self) -> list[AlertGroup]:
        """The current groups, ordered by id; for listing, not for changing."""
        return [self._groups[k] for k in sorted(self._groups)]

    def snapshot(self) -> dict[str, object]:
        """All state as JSON-ready data: groups with their timers and alerts, and the notification log."""
        return {
            "version": SNAPSHOT_VERSION,
            "groups": [
                {
                    "id": g.id,
                    "route_id": g.route.route_id,
                    "labels": dict(g.labels),
                    "next_flush": g.next_flush,
                    "muted_by": list(g.muted_by),
                    "alerts": [alert_to_data(a) for a in g.alerts.values()],
                }
                for g in self.groups()
            ],
            "nflog": self.nflog.to_data(),
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        """Replace the state with a `snapshot()`, taken by this or an earlier process.

        Groups whose route is gone from the current tree, or whose alerts no longer group the
        same way, are dropped: re-ingesting their alerts regroups them, and the notification
        log still stops a resend of what was already sent.
        """
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported dispatcher snapshot version {data.get('version')!r}")
        routes = {n.id: n.match_result for n in self._routes.walk()}
        self._groups = {}
        self._timers = []
        for g in data["groups"]:
            match = routes.get(g["route_id"])
            if match is None:
                continue
            labels = {str(k): str(v) for k, v in g["labels"].items()}
            alerts = [alert_from_data(a) for a in g["alerts"]]
            if any(match.opts.group_labels(a.labels) != labels for a in alerts):
                continue
            group_id = f"{match.route_id}:{format_labels(labels)}"
            group = AlertGroup(
                group_id, f"{match.route_key}:{format_labels(labels)}", match, labels, int(g["next_flush"])
            )
            group.alerts = {a.fingerprint: a for a in alerts}
            # Absent from snapshots taken before time intervals existed.
            group.muted_by = tuple(str(n) for n in g.get("muted_by", ()))
            if group.alerts:
                self._groups[group_id] = group
                self._schedule(group)
        self.nflog.load(list(data["nflog"]))


def time_muted(opts: RouteOpts, time_intervals: Mapping[str, TimeInterval], now: int) -> tuple[str, ...]:
    """The time intervals that mute the route at `now`, as Alertmanager's TimeActiveStage then
    TimeMuteStage decide: every active_time_intervals when none of them holds, else the
    mute_time_intervals that hold. UnknownTimeInterval for a name `time_intervals` lacks."""
    if opts.active_time_intervals and not mutes(time_intervals, opts.active_time_intervals, now):
        return opts.active_time_intervals
    return tuple(mutes(time_intervals, opts.mute_time_intervals, now))


def _alert_order(alert: Alert) -> tuple[tuple[bool, str], tuple[bool, str], list[tuple[str, str]]]:
    # Alertmanager's AlertSlice order: by job, then instance (alerts lacking one last), then labels.
    labels = alert.labels
    return (
        ("job" not in labels, labels.get("job", "")),
        ("instance" not in labels, labels.get("instance", "")),
        sorted(labels.items()),
    )
