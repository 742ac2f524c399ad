"""Validation of each API resource: every bad field of a request in one InvalidArgument.

Field paths are relative to the resource and use the REST JSON names (`duration`,
`annotations.summary`, `levels[1].after`, `routes[0].matchers[2]`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from alerting_server.errors import FieldViolation, InvalidArgument, Violations
from alerting_server.model import (
    Channel,
    EscalationPolicy,
    InhibitRule,
    PostedAlert,
    Route,
    Rule,
    RuleType,
    Silence,
)
from alerting_server.model.escalation import MAX_REPEAT
from alerting_server.outbound import OutboundPolicy
from alerting_server.query.analysis import ValueType
from alerting_server.validation.channels import check_channel_config, check_destinations
from alerting_server.validation.durations import check_duration_ms
from alerting_server.validation.limits import (
    MAX_ANNOTATION_VALUE_LENGTH,
    MAX_ANNOTATIONS,
    MAX_CHANNELS_PER_LEVEL,
    MAX_COMMENT_LENGTH,
    MAX_ESCALATION_LEVELS,
    MAX_LABELS,
    MAX_NAME_LENGTH,
    MAX_ROUTE_DEPTH,
    MAX_ROUTES,
)
from alerting_server.validation.matchers import check_matchers
from alerting_server.validation.names import (
    check_alert_name,
    check_label_name,
    check_label_value,
    check_metric_name,
    check_name,
    is_valid_utf8,
)
from alerting_server.validation.promql import check_query
from alerting_server.validation.templates import check_rule_templates

GROUP_BY_ALL = "..."
_SEVERITY_LABEL = "severity"


def validate_rule(rule: Rule) -> None:
    v = Violations()
    alerting = rule.type is RuleType.ALERTING
    if alerting:
        check_alert_name(v, "name", rule.name)
    else:
        check_metric_name(v, "name", rule.name)
    try:
        info = check_query(rule.query)
    except InvalidArgument as e:
        v.extend(e)
    else:
        if info.value_type not in (ValueType.VECTOR, ValueType.SCALAR):
            v.add("query", f"must evaluate to an instant vector or a scalar, got a {info.value_type.value}")
    check_duration_ms(v, "duration", rule.duration)
    check_duration_ms(v, "keep_firing_for", rule.keep_firing_for)
    check_duration_ms(v, "interval", rule.interval, positive=True)
    check_name(v, "group", rule.group)
    check_name(v, "datasource", rule.datasource)
    if rule.severity:
        check_label_value(v, "severity", rule.severity)
    _check_rule_labels(v, rule)
    if alerting:
        _check_annotations(v, rule.annotations)
        # Prometheus expands an alerting rule's labels and annotations as templates.
        check_rule_templates(v, "labels", rule.labels, rule.name)
        check_rule_templates(v, "annotations", rule.annotations, rule.name)
    else:
        # What Prometheus' rule file parser refuses in a recording rule.
        for field, is_set in (
            ("duration", rule.duration != 0),
            ("keep_firing_for", rule.keep_firing_for != 0),
            ("annotations", bool(rule.annotations)),
            ("severity", bool(rule.severity)),
            ("escalation_policy_id", bool(rule.escalation_policy_id)),
        ):
            if is_set:
                v.add(field, "only alerting rules have this field; this is a recording rule")
    v.raise_if_any()


def _check_rule_labels(v: Violations, rule: Rule) -> None:
    if len(rule.labels) > MAX_LABELS:
        v.add("labels", f"at most {MAX_LABELS} labels, got {len(rule.labels)}")
        return
    for name, value in rule.labels.items():
        field = f"labels.{name}"
        check_label_name(v, field, name, allow_reserved=False)
        check_label_value(v, field, value)
    if rule.type is RuleType.ALERTING:
        if "alertname" in rule.labels:
            v.add("labels.alertname", "the alertname label is the rule's name; set `name` instead")
        if rule.severity and _SEVERITY_LABEL in rule.labels:
            v.add("labels.severity", "the severity label comes from the `severity` field; set only one")


def _check_annotations(v: Violations, annotations: Mapping[str, str]) -> None:
    if len(annotations) > MAX_ANNOTATIONS:
        v.add("annotations", f"at most {MAX_ANNOTATIONS} annotations, got {len(annotations)}")
        return
    for name, value in annotations.items():
        field = f"annotations.{name}"
        check_label_name(v, field, name)
        check_label_value(v, field, value, max_length=MAX_ANNOTATION_VALUE_LENGTH)


def validate_channel(channel: Channel, outbound: OutboundPolicy | None = None) -> None:
    """`outbound` is where the server may connect; a destination it denies as an address is an error."""
    v = Violations()
    check_name(v, "name", channel.name)
    check_channel_config(v, channel.type, channel.config)
    check_destinations(v, channel.type, channel.config, outbound or OutboundPolicy())
    v.raise_if_any()


def validate_silence(silence: Silence, now: int) -> None:
    """As Alertmanager validates a silence; `now` in epoch ms decides "in the past"."""
    v = Violations()
    if not silence.matchers:
        v.add("matchers", "at least one matcher is required")
    else:
        matchers = check_matchers(v, "matchers", silence.matchers)
        if len(matchers) == len(silence.matchers) and all(m.matches_empty() for m in matchers):
            v.add(
                "matchers",
                "at least one matcher must not match the empty string: this silence would mute every alert",
            )
    if silence.starts_at < 0:
        v.add("starts_at", "must not be negative")
    if silence.ends_at <= silence.starts_at:
        v.add("ends_at", "must be after starts_at")
    elif silence.ends_at < now:
        v.add("ends_at", "must not be in the past")
    _check_text(v, "created_by", silence.created_by, required=True, max_length=MAX_NAME_LENGTH)
    _check_text(v, "comment", silence.comment, required=True, max_length=MAX_COMMENT_LENGTH)
    v.raise_if_any()


def _check_text(v: Violations, field: str, text: str, *, required: bool, max_length: int) -> None:
    if required and not text.strip():
        v.add(field, "is required")
    elif len(text) > max_length:
        v.add(field, f"must be at most {max_length} characters, got {len(text)}")
    elif not is_valid_utf8(text):
        v.add(field, "must be valid UTF-8")


def validate_route(
    route: Route,
    channel_names_and_ids: Collection[str],
    policy_names_and_ids: Collection[str],
    time_interval_names: Collection[str] = (),
) -> None:
    """The whole notification policy tree; `route` is its root."""
    v = Violations()
    if not route.receiver:
        v.add("receiver", "the root route must have a receiver: every alert needs somewhere to go")
    if route.matchers:
        v.add("matchers", "the root route matches every alert and must not have matchers")
    if route.continue_:
        v.add("continue", "the root route cannot have continue")
    # Alertmanager's words: the root route holds every alert, so muting it mutes everything.
    if route.mute_time_intervals:
        v.add("mute_time_intervals", "root route must not have any mute time intervals")
    if route.active_time_intervals:
        v.add("active_time_intervals", "root route must not have any active time intervals")
    count = _check_route(
        v, "", route, channel_names_and_ids, policy_names_and_ids, depth=0, intervals=time_interval_names
    )
    if count > MAX_ROUTES:
        v.add("routes", f"at most {MAX_ROUTES} routes in the tree, got {count}")
    v.raise_if_any()


def route_problems(
    route: Route,
    channel_names_and_ids: Collection[str],
    policy_ids: Collection[str],
    time_interval_names: Collection[str] = (),
) -> list[FieldViolation]:
    """What in a stored tree leads nowhere (a receiver no channel carries, say), in validation's terms."""
    v = Violations()

    def walk(prefix: str, node: Route) -> None:
        _check_references(v, prefix, node, channel_names_and_ids, policy_ids)
        _check_time_intervals(v, prefix, node, time_interval_names)
        for i, child in enumerate(node.routes):
            walk(f"{prefix}routes[{i}].", child)

    walk("", route)
    return v.items


def _check_references(
    v: Violations, prefix: str, route: Route, receivers: Collection[str], policies: Collection[str]
) -> None:
    if route.receiver and route.receiver not in receivers:
        v.add(f"{prefix}receiver", f"no channel with id or name {route.receiver!r}")
    if route.escalation_policy_id and route.escalation_policy_id not in policies:
        v.add(
            f"{prefix}escalation_policy_id",
            f"no escalation policy with id or name {route.escalation_policy_id!r}",
        )


def _check_time_intervals(v: Violations, prefix: str, route: Route, names: Collection[str]) -> None:
    for field in ("mute_time_intervals", "active_time_intervals"):
        used: tuple[str, ...] = getattr(route, field)
        for i, name in enumerate(used):
            if name not in names:
                v.add(f"{prefix}{field}[{i}]", f"undefined time interval {name!r} used in route")


def _check_route(
    v: Violations,
    prefix: str,
    route: Route,
    receivers: Collection[str],
    policy_names_and_ids: Collection[str],
    depth: int,
    intervals: Collection[str] = (),
) -> int:
    """Check one node and its children; returns the number of nodes below and including it."""
    _check_references(v, prefix, route, receivers, policy_names_and_ids)
    _check_time_intervals(v, prefix, route, intervals)
    if route.group_by is not None:
        _check_group_by(v, f"{prefix}group_by", route.group_by)
    check_duration_ms(v, f"{prefix}group_wait", route.group_wait)
    check_duration_ms(v, f"{prefix}group_interval", route.group_interval, positive=True)
    check_duration_ms(v, f"{prefix}repeat_interval", route.repeat_interval, positive=True)
    check_matchers(v, f"{prefix}matchers", route.matchers)
    if depth >= MAX_ROUTE_DEPTH and route.routes:
        v.add(f"{prefix}routes", f"routes may nest at most {MAX_ROUTE_DEPTH} levels deep")
        return 1
    count = 1
    for i, child in enumerate(route.routes):
        count += _check_route(
            v, f"{prefix}routes[{i}].", child, receivers, policy_names_and_ids, depth + 1, intervals
        )
        if count > MAX_ROUTES:
            break
    return count


def _check_group_by(v: Violations, field: str, group_by: Collection[str]) -> None:
    if GROUP_BY_ALL in group_by and len(group_by) > 1:
        v.add(field, 'cannot group by "..." (all labels) and by other labels at the same time')
        return
    seen: set[str] = set()
    for i, name in enumerate(group_by):
        if name == GROUP_BY_ALL:
            continue
        check_label_name(v, f"{field}[{i}]", name)
        if name in seen:
            v.add(f"{field}[{i}]", f"duplicated label {name!r}")
        seen.add(name)


def validate_inhibit_rule(rule: InhibitRule) -> None:
    v = Violations()
    # Without matchers a side selects every alert: an inhibit rule that could mute everything.
    for field, texts in (
        ("source_matchers", rule.source_matchers),
        ("target_matchers", rule.target_matchers),
    ):
        if not texts:
            v.add(field, "at least one matcher is required")
        else:
            check_matchers(v, field, texts)
    if len(rule.equal) > MAX_LABELS:
        v.add("equal", f"at most {MAX_LABELS} labels, got {len(rule.equal)}")
    else:
        seen: set[str] = set()
        for i, name in enumerate(rule.equal):
            check_label_name(v, f"equal[{i}]", name)
            if name in seen:
                v.add(f"equal[{i}]", f"duplicated label {name!r}")
            seen.add(name)
    v.raise_if_any()


def validate_escalation_policy(
    policy: EscalationPolicy,
    channel_names_and_ids: Collection[str],
    users: Collection[str] = (),
    schedules: Collection[str] = (),
) -> None:
    """`users` and `schedules`: the ids and names of those that exist."""
    v = Violations()
    check_name(v, "name", policy.name)
    if not policy.levels:
        v.add("levels", "at least one level is required")
    elif len(policy.levels) > MAX_ESCALATION_LEVELS:
        v.add("levels", f"at most {MAX_ESCALATION_LEVELS} levels, got {len(policy.levels)}")
    else:
        for i, level in enumerate(policy.levels):
            field = f"levels[{i}]"
            check_duration_ms(v, f"{field}.after", level.after)
            if i > 0 and level.after < policy.levels[i - 1].after:
                v.add(f"{field}.after", f"must not be earlier than levels[{i - 1}].after")
            if not level.users and not level.schedules:
                _check_level_channels(v, f"{field}.channels", level.channels, channel_names_and_ids)
            else:
                if level.channels:
                    _check_level_channels(v, f"{field}.channels", level.channels, channel_names_and_ids)
                _check_level_refs(v, f"{field}.users", level.users, users, "user")
                _check_level_refs(v, f"{field}.schedules", level.schedules, schedules, "schedule")
    if not 0 <= policy.repeat <= MAX_REPEAT:
        v.add("repeat", f"must be between 0 and {MAX_REPEAT}, got {policy.repeat}")
    check_duration_ms(v, "ack_timeout", policy.ack_timeout, positive=True)
    v.raise_if_any()


def _check_level_channels(
    v: Violations, field: str, channels: Collection[str], known: Collection[str]
) -> None:
    if not channels:
        v.add(field, "at least one channel, user or schedule is required")
        return
    if len(channels) > MAX_CHANNELS_PER_LEVEL:
        v.add(field, f"at most {MAX_CHANNELS_PER_LEVEL} channels, got {len(channels)}")
        return
    seen: set[str] = set()
    for i, channel in enumerate(channels):
        if channel not in known:
            v.add(f"{field}[{i}]", f"no channel with id or name {channel!r}")
        elif channel in seen:
            v.add(f"{field}[{i}]", f"channel {channel!r} is listed twice")
        seen.add(channel)


def _check_level_refs(
    v: Violations, field: str, refs: Collection[str], known: Collection[str], what: str
) -> None:
    if len(refs) > MAX_CHANNELS_PER_LEVEL:
        v.add(field, f"at most {MAX_CHANNELS_PER_LEVEL} {what}s, got {len(refs)}")
        return
    seen: set[str] = set()
    for i, ref in enumerate(refs):
        if ref not in known:
            v.add(f"{field}[{i}]", f"no {what} with id or name {ref!r}")
        elif ref in seen:
            v.add(f"{field}[{i}]", f"{what} {ref!r} is listed twice")
        seen.add(ref)


MAX_POSTED_ALERTS = 10_000


def validate_posted_alerts(alerts: Sequence[PostedAlert]) -> None:
    """Alerts posted from outside, as Alertmanager checks them: labels present and valid, times in order."""
    v = Violations()
    if len(alerts) > MAX_POSTED_ALERTS:
        v.add("alerts", f"at most {MAX_POSTED_ALERTS} alerts per request, got {len(alerts)}")
    for i, alert in enumerate(alerts):
        path = f"alerts[{i}]"
        if not alert.labels:
            v.add(f"{path}.labels", "at least one label pair required")
        if len(alert.labels) > MAX_LABELS:
            v.add(f"{path}.labels", f"at most {MAX_LABELS} labels, got {len(alert.labels)}")
        for name, value in alert.labels.items():
            check_label_name(v, f"{path}.labels.{name}", name)
            check_label_value(v, f"{path}.labels.{name}", value)
        if len(alert.annotations) > MAX_ANNOTATIONS:
            v.add(
                f"{path}.annotations", f"at most {MAX_ANNOTATIONS} annotations, got {len(alert.annotations)}"
            )
        for name, value in alert.annotations.items():
            check_label_name(v, f"{path}.annotations.{name}", name)
            if len(value) > MAX_ANNOTATION_VALUE_LENGTH:
                v.add(
                    f"{path}.annotations.{name}", f"must be at most {MAX_ANNOTATION_VALUE_LENGTH} characters"
                )
        if alert.starts_at is not None and alert.ends_at is not None and alert.ends_at < alert.starts_at:
            v.add(f"{path}.ends_at", "start time must be before end time")
    v.raise_if_any()
