"""Protobuf <-> domain conversions. The only place where both kinds of types meet."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2
from google.protobuf.json_format import MessageToDict

from alerting.v1 import (
    alert_service_pb2,
    channel_service_pb2,
    escalation_policy_service_pb2,
    routing_service_pb2,
    rule_service_pb2,
    silence_service_pb2,
    time_interval_service_pb2,
)
from alerting_server import model
from alerting_server.notify.integrations import INTEGRATIONS
from alerting_server.store.rules import Applied
from alerting_server.timeintervals import TimeInterval, parse_time_interval

# --- scalars -------------------------------------------------------------------------------


def ts_to_pb(ms: int | None) -> timestamp_pb2.Timestamp | None:
    if ms is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(ms)
    return ts


def ts_from_pb(msg: Any, field: str) -> int | None:
    """Epoch ms of a Timestamp field, None when the field is unset."""
    if not msg.HasField(field):
        return None
    value: int = getattr(msg, field).ToMilliseconds()
    return value


def dur_to_pb(ms: int | None) -> duration_pb2.Duration | None:
    if ms is None:
        return None
    d = duration_pb2.Duration()
    d.FromMilliseconds(ms)
    return d


def dur_from_pb(msg: Any, field: str) -> int | None:
    if not msg.HasField(field):
        return None
    value: int = getattr(msg, field).ToMilliseconds()
    return value


# --- rules ---------------------------------------------------------------------------------

RULE_IMPORT_ACTION_TO_PB = {
    Applied.CREATED: rule_service_pb2.RULE_IMPORT_ACTION_CREATED,
    Applied.UPDATED: rule_service_pb2.RULE_IMPORT_ACTION_UPDATED,
    Applied.UNCHANGED: rule_service_pb2.RULE_IMPORT_ACTION_UNCHANGED,
}

_RULE_TYPE = {
    model.RuleType.ALERTING: rule_service_pb2.RULE_TYPE_ALERTING,
    model.RuleType.RECORDING: rule_service_pb2.RULE_TYPE_RECORDING,
}
_RULE_HEALTH = {
    model.RuleHealth.UNKNOWN: rule_service_pb2.RULE_HEALTH_UNKNOWN,
    model.RuleHealth.OK: rule_service_pb2.RULE_HEALTH_OK,
    model.RuleHealth.ERR: rule_service_pb2.RULE_HEALTH_ERR,
}


def rule_to_pb(rule: model.Rule) -> rule_service_pb2.Rule:
    return rule_service_pb2.Rule(
        id=rule.id,
        name=rule.name,
        query=rule.query,
        duration=dur_to_pb(rule.duration),
        keep_firing_for=dur_to_pb(rule.keep_firing_for),
        severity=rule.severity,
        labels=rule.labels,
        annotations=rule.annotations,
        group=rule.group,
        interval=dur_to_pb(rule.interval),
        datasource=rule.datasource,
        escalation_policy_id=rule.escalation_policy_id,
        type=_RULE_TYPE[rule.type],
        health=_RULE_HEALTH[rule.health],
        last_evaluation=ts_to_pb(rule.last_evaluation),
        last_error=rule.last_error,
        last_evaluation_duration=dur_to_pb(rule.last_evaluation_duration),
        created_at=ts_to_pb(rule.created_at),
        updated_at=ts_to_pb(rule.updated_at),
    )


def rule_from_pb(msg: rule_service_pb2.Rule) -> model.Rule:
    """The writable fields of a rule; output-only fields are ignored."""
    rule_type = (
        model.RuleType.RECORDING
        if msg.type == rule_service_pb2.RULE_TYPE_RECORDING
        else model.RuleType.ALERTING
    )
    return model.Rule(
        name=msg.name,
        query=msg.query,
        type=rule_type,
        duration=dur_from_pb(msg, "duration") or 0,
        keep_firing_for=dur_from_pb(msg, "keep_firing_for") or 0,
        severity=msg.severity,
        labels=dict(msg.labels),
        annotations=dict(msg.annotations),
        group=msg.group or model.rule.DEFAULT_GROUP,
        interval=dur_from_pb(msg, "interval"),
        datasource=msg.datasource or model.rule.DEFAULT_DATASOURCE,
        escalation_policy_id=msg.escalation_policy_id,
    )


# --- channels ------------------------------------------------------------------------------

# Each integration's type is the proto enum value of the same name.
CHANNEL_TYPE_TO_PB = {
    t: channel_service_pb2.ChannelType.Value(f"CHANNEL_TYPE_{t.name}") for t in INTEGRATIONS
}
CHANNEL_TYPE_FROM_PB = {v: k for k, v in CHANNEL_TYPE_TO_PB.items()}


def struct_to_pb(data: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(data)
    return s


def struct_from_pb(msg: struct_pb2.Struct) -> dict[str, Any]:
    return MessageToDict(msg)


def channel_to_pb(channel: model.Channel) -> channel_service_pb2.Channel:
    return channel_service_pb2.Channel(
        id=channel.id,
        name=channel.name,
        type=CHANNEL_TYPE_TO_PB[channel.type],
        config=struct_to_pb(channel.config),
        created_at=ts_to_pb(channel.created_at),
        updated_at=ts_to_pb(channel.updated_at),
        source=channel.source,
        receiver=channel.receiver,
    )


_DELIVERY_STATUS = {
    model.DeliveryStatus.PENDING: channel_service_pb2.DELIVERY_STATUS_PENDING,
    model.DeliveryStatus.DELIVERED: channel_service_pb2.DELIVERY_STATUS_DELIVERED,
    model.DeliveryStatus.RETRYING: channel_service_pb2.DELIVERY_STATUS_RETRYING,
    model.DeliveryStatus.FAILED: channel_service_pb2.DELIVERY_STATUS_FAILED,
}
DELIVERY_STATUS_FROM_PB = {v: k for k, v in _DELIVERY_STATUS.items()}


def delivery_to_pb(d: model.Delivery) -> channel_service_pb2.Delivery:
    return channel_service_pb2.Delivery(
        id=d.id,
        channel_id=d.channel_id,
        status=_DELIVERY_STATUS[d.status],
        group_key=d.group_key,
        fingerprints=list(d.fingerprints),
        attempts=d.attempts,
        last_error=d.last_error,
        idempotency_key=d.idempotency_key,
        created_at=ts_to_pb(d.created_at),
        updated_at=ts_to_pb(d.updated_at),
        delivered_at=ts_to_pb(d.delivered_at),
        next_attempt_at=ts_to_pb(d.next_attempt_at),
    )


# --- silences ------------------------------------------------------------------------------

SILENCE_STATE_TO_PB = {
    model.SilenceState.PENDING: silence_service_pb2.SILENCE_STATE_PENDING,
    model.SilenceState.ACTIVE: silence_service_pb2.SILENCE_STATE_ACTIVE,
    model.SilenceState.EXPIRED: silence_service_pb2.SILENCE_STATE_EXPIRED,
}
SILENCE_STATE_FROM_PB = {v: k for k, v in SILENCE_STATE_TO_PB.items()}


def silence_to_pb(s: model.Silence, now: int) -> silence_service_pb2.Silence:
    return silence_service_pb2.Silence(
        id=s.id,
        matchers=list(s.matchers),
        starts_at=ts_to_pb(s.starts_at),
        ends_at=ts_to_pb(s.ends_at),
        created_by=s.created_by,
        comment=s.comment,
        state=SILENCE_STATE_TO_PB[s.state(now)],
        created_at=ts_to_pb(s.created_at),
        updated_at=ts_to_pb(s.updated_at),
    )


def silence_from_pb(msg: silence_service_pb2.Silence, now: int) -> model.Silence:
    """starts_at defaults to now; ends_at has no default (validation names it when missing)."""
    return model.Silence(
        matchers=tuple(msg.matchers),
        starts_at=ts_from_pb(msg, "starts_at") or now,
        ends_at=ts_from_pb(msg, "ends_at") or 0,
        created_by=msg.created_by,
        comment=msg.comment,
    )


# --- routing -------------------------------------------------------------------------------


def route_to_pb(route: model.Route) -> routing_service_pb2.Route:
    msg = routing_service_pb2.Route(
        receiver=route.receiver,
        group_by=list(route.group_by or ()),
        group_wait=dur_to_pb(route.group_wait),
        group_interval=dur_to_pb(route.group_interval),
        repeat_interval=dur_to_pb(route.repeat_interval),
        matchers=list(route.matchers),
        escalation_policy_id=route.escalation_policy_id,
        routes=[route_to_pb(r) for r in route.routes],
        mute_time_intervals=list(route.mute_time_intervals),
        active_time_intervals=list(route.active_time_intervals),
    )
    setattr(msg, "continue", route.continue_)
    return msg


def route_from_pb(msg: routing_service_pb2.Route) -> model.Route:
    return model.Route(
        receiver=msg.receiver,
        group_by=tuple(msg.group_by) if msg.group_by else None,
        group_wait=dur_from_pb(msg, "group_wait"),
        group_interval=dur_from_pb(msg, "group_interval"),
        repeat_interval=dur_from_pb(msg, "repeat_interval"),
        matchers=tuple(msg.matchers),
        continue_=bool(getattr(msg, "continue")),
        escalation_policy_id=msg.escalation_policy_id,
        routes=tuple(route_from_pb(r) for r in msg.routes),
        mute_time_intervals=tuple(msg.mute_time_intervals),
        active_time_intervals=tuple(msg.active_time_intervals),
    )


def inhibit_rule_to_pb(r: model.InhibitRule) -> routing_service_pb2.InhibitRule:
    return routing_service_pb2.InhibitRule(
        id=r.id,
        source_matchers=list(r.source_matchers),
        target_matchers=list(r.target_matchers),
        equal=list(r.equal),
        created_at=ts_to_pb(r.created_at),
        updated_at=ts_to_pb(r.updated_at),
        source=r.source,
    )


def inhibit_rule_from_pb(msg: routing_service_pb2.InhibitRule) -> model.InhibitRule:
    return model.InhibitRule(
        source_matchers=tuple(msg.source_matchers),
        target_matchers=tuple(msg.target_matchers),
        equal=tuple(msg.equal),
    )


# --- escalation policies -------------------------------------------------------------------


def policy_to_pb(p: model.EscalationPolicy) -> escalation_policy_service_pb2.EscalationPolicy:
    return escalation_policy_service_pb2.EscalationPolicy(
        id=p.id,
        name=p.name,
        levels=[
            escalation_policy_service_pb2.EscalationLevel(
                after=dur_to_pb(level.after),
                channels=list(level.channels),
                users=list(level.users),
                schedules=list(level.schedules),
            )
            for level in p.levels
        ],
        repeat=p.repeat,
        ack_timeout=dur_to_pb(p.ack_timeout),
        created_at=ts_to_pb(p.created_at),
        updated_at=ts_to_pb(p.updated_at),
    )


def policy_from_pb(msg: escalation_policy_service_pb2.EscalationPolicy) -> model.EscalationPolicy:
    return model.EscalationPolicy(
        name=msg.name,
        levels=tuple(
            model.EscalationLevel(
                after=dur_from_pb(level, "after") or 0,
                channels=tuple(level.channels),
                users=tuple(level.users),
                schedules=tuple(level.schedules),
            )
            for level in msg.levels
        ),
        repeat=msg.repeat,
        ack_timeout=dur_from_pb(msg, "ack_timeout"),
    )


# --- alerts --------------------------------------------------------------------------------

ALERT_STATE_TO_PB = {
    model.AlertState.PENDING: alert_service_pb2.ALERT_STATE_PENDING,
    model.AlertState.FIRING: alert_service_pb2.ALERT_STATE_FIRING,
    model.AlertState.RESOLVED: alert_service_pb2.ALERT_STATE_RESOLVED,
}
ALERT_STATE_FROM_PB = {v: k for k, v in ALERT_STATE_TO_PB.items()}


def alert_to_pb(a: model.Alert, receivers: Sequence[str] = ()) -> alert_service_pb2.Alert:
    """`resolved_at` only once resolved; `ends_at` also while firing (an external alert's expected end)."""
    ack = None
    if a.ack is not None:
        ack = alert_service_pb2.Ack(by=a.ack.by, comment=a.ack.comment, at=ts_to_pb(a.ack.at))
    return alert_service_pb2.Alert(
        fingerprint=a.fingerprint,
        rule=a.rule,
        state=ALERT_STATE_TO_PB.get(a.state, alert_service_pb2.ALERT_STATE_UNSPECIFIED),
        value=a.value,
        labels=a.labels,
        annotations=a.annotations,
        started_at=ts_to_pb(a.started_at),
        fired_at=ts_to_pb(a.fired_at),
        resolved_at=ts_to_pb(a.resolved_at if a.state is model.AlertState.RESOLVED else None),
        ends_at=ts_to_pb(a.resolved_at),
        receivers=list(receivers),
        acknowledged=a.acknowledged,
        ack=ack,
        silenced_by=list(a.silenced_by),
        inhibited_by=list(a.inhibited_by),
        muted_by=list(a.muted_by),
        escalation_level=a.escalation_level,
        rule_id=a.rule_id,
        generator_url=a.generator_url,
        updated_at=ts_to_pb(a.updated_at),
    )


_HISTORY_TYPE = {
    model.HistoryEventType.STATE_CHANGE: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_STATE_CHANGE,
    model.HistoryEventType.NOTIFICATION: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_NOTIFICATION,
    model.HistoryEventType.ESCALATION: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_ESCALATION,
    model.HistoryEventType.ACKNOWLEDGED: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_ACKNOWLEDGED,
    model.HistoryEventType.UNACKNOWLEDGED: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_UNACKNOWLEDGED,
    model.HistoryEventType.SILENCED: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_SILENCED,
    model.HistoryEventType.UNSILENCED: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_UNSILENCED,
    model.HistoryEventType.INHIBITED: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_INHIBITED,
    model.HistoryEventType.UNINHIBITED: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_UNINHIBITED,
    model.HistoryEventType.MUTED: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_MUTED,
    model.HistoryEventType.UNMUTED: alert_service_pb2.ALERT_HISTORY_EVENT_TYPE_UNMUTED,
}


# The fields that mean something for each type of event; the others stay unset (null in REST).
_MUTING = frozenset({"message"})
_HISTORY_FIELDS: dict[model.HistoryEventType, frozenset[str]] = {
    model.HistoryEventType.STATE_CHANGE: frozenset({"state", "value"}),
    model.HistoryEventType.NOTIFICATION: frozenset({"channel", "outcome", "attempts", "level", "message"}),
    model.HistoryEventType.ESCALATION: frozenset({"channel", "level", "message"}),
    model.HistoryEventType.ACKNOWLEDGED: frozenset({"by", "comment"}),
    model.HistoryEventType.UNACKNOWLEDGED: frozenset({"by", "message"}),
    model.HistoryEventType.SILENCED: _MUTING,
    model.HistoryEventType.UNSILENCED: _MUTING,
    model.HistoryEventType.INHIBITED: _MUTING,
    model.HistoryEventType.UNINHIBITED: _MUTING,
    model.HistoryEventType.MUTED: _MUTING,
    model.HistoryEventType.UNMUTED: _MUTING,
}


def history_event_to_pb(e: model.AlertHistoryEvent) -> alert_service_pb2.AlertHistoryEvent:
    values: dict[str, object] = {
        "channel": e.channel,
        "outcome": e.outcome,
        "attempts": e.attempts,
        "level": e.level,
        "by": e.by,
        "comment": e.comment,
        "message": e.message,
    }
    if e.state in ALERT_STATE_TO_PB:
        values["state"] = ALERT_STATE_TO_PB[e.state]
    if e.value is not None:
        values["value"] = e.value
    event = alert_service_pb2.AlertHistoryEvent(id=e.id, type=_HISTORY_TYPE[e.type], at=ts_to_pb(e.at))
    for name in _HISTORY_FIELDS[e.type] & values.keys():
        setattr(event, name, values[name])
    return event


# --- time intervals --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A Struct's value as JSON decoded it: its numbers are doubles, and 5.0 was the 5 sent."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def time_interval_from_pb(msg: time_interval_service_pb2.TimeInterval) -> TimeInterval:
    """Parsed and validated: InvalidArgument names each bad field (`time_intervals[0].weekdays[1]`)."""
    specs = [_plain(struct_from_pb(spec)) for spec in msg.time_intervals]
    return parse_time_interval(msg.name, specs)


def time_interval_to_pb(interval: TimeInterval) -> time_interval_service_pb2.TimeInterval:
    return time_interval_service_pb2.TimeInterval(
        id=interval.id,
        name=interval.name,
        time_intervals=[struct_to_pb(spec) for spec in interval.to_json()],
        source=interval.source,
        created_at=ts_to_pb(interval.created_at),
        updated_at=ts_to_pb(interval.updated_at),
    )
