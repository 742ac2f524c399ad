"""Alert management with Alertmanager's semantics: pure logic, time passed in as `now` (epoch ms).

One package per job: dispatch/ (routing tree, aggregation groups, notification log), mute/
(silences, inhibition). live.py holds the live alerts and what changed since the last commit;
stage.py is the Stage seam that the pipeline (alerting_server/pipeline) runs: expiry, mute/,
escalation/ and dispatch/, in that order.

fingerprint(labels) -> str
    Prometheus' label-set fingerprint (FNV-1a 64, 16 hex digits), equal to Alertmanager's.

compile_routes(route: model.Route) -> RouteNode
    RouteNode.match(labels) -> list[RouteMatch]   every route an alert reaches, `continue` honoured;
    RouteMatch(route_id, route_key, opts: RouteOpts(receiver, group_by, group_by_all, group_wait,
    group_interval, repeat_interval, escalation_policy_id, mute_time_intervals,
    active_time_intervals)); RouteNode.walk() lists every node.

SilenceMuter(silences).mutes(labels, now) -> list[str]     ids of the active silences muting them
Inhibitor(rules).update(alerts, now); .inhibited_by(labels) -> list[str]   inhibiting fingerprints
    Both are `Muter`s: .muted_by(alert, now) -> list[str].

Dispatcher(tree)                    aggregation groups and their timers
    .ingest(alerts, now)            place the latest version of alerts into groups
    .due(now, muters, time_intervals) -> list[Notification]   flush what is due; one Notification per
                                    group and receiver; none for a group whose route a time interval
                                    mutes (alerting_server/timeintervals)
    .take_flushed() / .muted_by(alert)   the alerts flushed since, and the intervals muting their groups
    .next_wakeup() -> int | None    when to call `due` next
    .groups() -> list[AlertGroup]   for ListAlertGroups
    .snapshot() / .restore(data)    all state as plain data, so a restart does not re-notify
    .nflog                          NotificationLog: what was last sent per group and receiver

is_firing(alert, now) / is_resolved(alert, now): the one definition of firing and resolved.
"""

from alerting_server.alerts.dispatch.aggregation import AlertGroup, Dispatcher, Muter, Notification
from alerting_server.alerts.dispatch.nflog import LogEntry, NotificationLog, NotifyReason, needs_update
from alerting_server.alerts.dispatch.routing import (
    DEFAULT_GROUP_INTERVAL,
    DEFAULT_GROUP_WAIT,
    DEFAULT_REPEAT_INTERVAL,
    RouteMatch,
    RouteNode,
    RouteOpts,
    compile_routes,
    format_labels,
)
from alerting_server.alerts.fingerprint import fingerprint
from alerting_server.alerts.mute.inhibit import Inhibitor
from alerting_server.alerts.mute.silences import SilenceMuter
from alerting_server.alerts.state import is_firing, is_resolved

__all__ = [
    "DEFAULT_GROUP_INTERVAL",
    "DEFAULT_GROUP_WAIT",
    "DEFAULT_REPEAT_INTERVAL",
    "AlertGroup",
    "Dispatcher",
    "Inhibitor",
    "LogEntry",
    "Muter",
    "Notification",
    "NotificationLog",
    "NotifyReason",
    "RouteMatch",
    "RouteNode",
    "RouteOpts",
    "SilenceMuter",
    "compile_routes",
    "fingerprint",
    "format_labels",
    "is_firing",
    "is_resolved",
    "needs_update",
]
