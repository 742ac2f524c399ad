"""Alertmanager's configuration file (config/config.go) read into our objects: channels, the routing
tree, inhibit rules, time intervals, template globs and the global settings that are no object.
Every problem is reported with its field path and line, all of them at once."""

from __future__ import annotations

import os
from collections.abc import Iterable

import yaml

from alerting_common.matchers import MatchOp, format_matcher
from alerting_common.yamlerrors import describe as describe_yaml_error
from alerting_server.amconfig.context import Context, Global, ReadFile
from alerting_server.amconfig.httpconfig import read_http_config, read_tls_config
from alerting_server.amconfig.loaded import ConfigError, LoadedConfig, TimeIntervalSpec
from alerting_server.amconfig.nodes import Problem, Reader, compose, is_null, join
from alerting_server.amconfig.receivers import Receiver, check_channel, check_hostport, read_receiver
from alerting_server.amconfig.timeintervals import read_time_interval
from alerting_server.errors import Violations
from alerting_server.matching import MatcherError, parse_matcher
from alerting_server.matching.parse import split_matchers
from alerting_server.model import Channel, InhibitRule, Route
from alerting_server.validation.names import LABEL_NAME_RE, check_name

_TOP = (
    "global",
    "route",
    "inhibit_rules",
    "receivers",
    "templates",
    "mute_time_intervals",
    "time_intervals",
    "tracing",
    "event_recorder",
)
_GLOBAL_STRINGS = (
    "smtp_from",
    "smtp_hello",
    "smtp_smarthost",
    "smtp_auth_username",
    "smtp_auth_password",
    "smtp_auth_password_file",
    "smtp_auth_secret",
    "smtp_auth_secret_file",
    "smtp_auth_identity",
    "slack_api_url",
    "slack_api_url_file",
    "slack_app_token",
    "slack_app_token_file",
    "slack_app_url",
    "pagerduty_url",
    "opsgenie_api_url",
    "opsgenie_api_key",
    "opsgenie_api_key_file",
    "victorops_api_url",
    "victorops_api_key",
    "victorops_api_key_file",
)
# Those whose empty value keeps the default, as Go's zero value does for these.
_GLOBAL_DEFAULTED = ("smtp_hello", "slack_app_url", "pagerduty_url", "opsgenie_api_url", "victorops_api_url")
# Settings of integrations this server does not have: accepted (they do nothing unless a receiver
# uses that integration, which is refused by name).
_GLOBAL_OTHERS = (
    "jira_api_url",
    "wechat_api_url",
    "wechat_api_secret",
    "wechat_api_secret_file",
    "wechat_api_corp_id",
    "telegram_api_url",
    "telegram_bot_token",
    "telegram_bot_token_file",
    "webex_api_url",
    "rocketchat_api_url",
    "rocketchat_token",
    "rocketchat_token_file",
    "rocketchat_token_id",
    "rocketchat_token_id_file",
    "mattermost_webhook_url",
    "mattermost_webhook_url_file",
)
_GLOBAL = (
    "resolve_timeout",
    "http_config",
    *_GLOBAL_STRINGS,
    "smtp_require_tls",
    "smtp_tls_config",
    "smtp_force_implicit_tls",
    *_GLOBAL_OTHERS,
)
_ROUTE = (
    "receiver",
    "group_by",
    "match",
    "match_re",
    "matchers",
    "mute_time_intervals",
    "active_time_intervals",
    "continue",
    "routes",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "labels",
)
_INHIBIT = (
    "name",
    "source_match",
    "source_match_re",
    "source_matchers",
    "target_match",
    "target_match_re",
    "target_matchers",
    "equal",
)


def load(
    text: str, path: str = "alertmanager.yml", *, read_file: ReadFile | None = None, source: str = ""
) -> LoadedConfig:
    """The configuration in `text`, read from `path` (relative template globs and http_config files
    are read from its directory). `read_file` reads the `*_file` secrets; without it they are not
    read (a check). `source`: what owns the objects (the file's absolute path by default).
    ConfigError names every problem."""
    abspath = os.path.abspath(path)
    reader = Reader()
    ctx = Context(reader, os.path.dirname(abspath), read_file)
    try:
        root = compose(text)
    except yaml.YAMLError as e:
        raise ConfigError([Problem("", 0, describe_yaml_error(e))]) from None
    if root is None:
        raise ConfigError([Problem("", 0, "the file is empty: no routes provided")])
    top = reader.mapping(root, "", _TOP, "the configuration") or {}
    has_global = "global" in top
    if has_global:
        ctx.glob = _read_global(ctx, top["global"])
    for key in ("tracing", "event_recorder"):
        if key in top:
            reader.warn(key, top[key], "accepted but not used by this server")
    receivers = _read_receivers(ctx, top.get("receivers"), source or abspath)
    names = [r.name for r in receivers]
    intervals = _read_time_intervals(ctx, top)
    route = Route()
    if "route" not in top or is_null(top["route"]):
        reader.error("route", top.get("route", root), "no routes provided")
    else:
        route = _read_route(
            ctx, top["route"], "route", root=True, receivers=set(names), intervals={i.name for i in intervals}
        )
    inhibit_rules = tuple(
        rule
        for i, node in enumerate(
            reader.sequence(top["inhibit_rules"], "inhibit_rules") if "inhibit_rules" in top else []
        )
        if (rule := _read_inhibit_rule(ctx, node, f"inhibit_rules[{i}]", source or abspath)) is not None
    )
    templates = tuple(
        pattern if os.path.isabs(pattern) else os.path.join(ctx.base_dir, pattern)
        for pattern in (reader.strings(top["templates"], "templates") if "templates" in top else [])
        if pattern
    )
    channels = _unique_channels(reader, receivers, top.get("receivers"))
    if reader.problems:
        raise ConfigError(reader.problems)
    return LoadedConfig(
        source=source or abspath,
        channels=channels,
        route=route,
        inhibit_rules=inhibit_rules,
        time_intervals=intervals,
        templates=templates,
        receivers=tuple(names),
        empty_receivers=tuple(r.name for r in receivers if not r.channels),
        resolve_timeout_ms=ctx.glob.resolve_timeout_ms,
        warnings=tuple(reader.warnings),
        has_global=has_global,
    )


def _read_global(ctx: Context, node: yaml.Node) -> Global:
    r = ctx.reader
    g = Global()
    fields = r.mapping(node, "global", _GLOBAL, "global")
    if fields is None:
        return g
    if "resolve_timeout" in fields:
        ms = r.duration(fields["resolve_timeout"], "global.resolve_timeout")
        if ms is not None:
            g.resolve_timeout_ms = ms
    for key in _GLOBAL_STRINGS:
        if key in fields:
            value = r.string(fields[key], f"global.{key}")
            g.nodes[f"global.{key}"] = fields[key]
            if value or key not in _GLOBAL_DEFAULTED:
                setattr(g, key, value)
    if g.smtp_smarthost:
        check_hostport(r, "global.smtp_smarthost", fields["smtp_smarthost"], g.smtp_smarthost)
    if "smtp_require_tls" in fields:
        g.smtp_require_tls = bool(r.boolean(fields["smtp_require_tls"], "global.smtp_require_tls"))
    if "smtp_force_implicit_tls" in fields:
        g.smtp_force_implicit_tls = r.boolean(
            fields["smtp_force_implicit_tls"], "global.smtp_force_implicit_tls"
        )
    if "smtp_tls_config" in fields:
        g.smtp_tls_config = read_tls_config(ctx, fields["smtp_tls_config"], "global.smtp_tls_config")
    if "http_config" in fields:
        http = read_http_config(ctx, fields["http_config"], "global.http_config")
        g.http_config = {
            "authorization": http.authorization,
            "tls_config": http.tls_config,
            "proxy": http.proxy,
        }
    for a, b in (
        ("slack_app_token", "slack_app_token_file"),
        ("slack_api_url", "slack_api_url_file"),
        ("smtp_auth_password", "smtp_auth_password_file"),
        ("smtp_auth_secret", "smtp_auth_secret_file"),
        ("opsgenie_api_key", "opsgenie_api_key_file"),
        ("victorops_api_key", "victorops_api_key_file"),
    ):
        if getattr(g, a) and getattr(g, b):
            r.error(f"global.{b}", fields[b], f"at most one of {a} & {b} must be configured")
    for a, b in (
        ("telegram_bot_token", "telegram_bot_token_file"),
        ("wechat_api_secret", "wechat_api_secret_file"),
        ("rocketchat_token", "rocketchat_token_file"),
        ("rocketchat_token_id", "rocketchat_token_id_file"),
        ("mattermost_webhook_url", "mattermost_webhook_url_file"),
    ):
        if a in fields and b in fields and r.string(fields[a], a) and r.string(fields[b], b):
            r.error(f"global.{b}", fields[b], f"at most one of {a} & {b} must be configured")
    token = g.slack_app_token or g.slack_app_token_file
    url = g.slack_api_url or g.slack_api_url_file
    if token and url and g.slack_api_url != g.slack_app_url:
        r.error(
            "global.slack_app_token",
            fields.get("slack_app_token") or fields.get("slack_app_token_file"),
            "at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file"
            " must be configured",
        )
    return g


def _read_receivers(ctx: Context, node: yaml.Node | None, source: str) -> list[Receiver]:
    r = ctx.reader
    receivers: list[Receiver] = []
    seen: set[str] = set()
    for i, item in enumerate(r.sequence(node, "receivers") if node is not None else []):
        receiver = read_receiver(ctx, item, f"receivers[{i}]", source)
        if receiver is None:
            continue
        if receiver.name in seen:
            r.error(f"receivers[{i}].name", item, f'notification config name "{receiver.name}" is not unique')
            continue
        seen.add(receiver.name)
        receivers.append(receiver)
        named = Violations()
        check_name(named, f"receivers[{i}].name", receiver.name)
        for v in named.items:
            r.error(v.field, item, v.description)
        for channel, (path, node) in zip(receiver.channels, receiver.places, strict=True):
            check_channel(r, channel, path, node)
    return receivers


def _unique_channels(r: Reader, receivers: list[Receiver], node: yaml.Node | None) -> tuple[Channel, ...]:
    """The channels of every receiver; two receivers whose channels would share a name (a receiver
    "a-email-0" beside a receiver "a" with two emails) are refused, naming both."""
    owners: dict[str, str] = {}
    out: list[Channel] = []
    for i, receiver in enumerate(receivers):
        for channel in receiver.channels:
            if channel.name in owners and owners[channel.name] != receiver.name:
                r.error(
                    f"receivers[{i}].name",
                    node,
                    f"receiver {receiver.name!r} would make a channel named {channel.name!r}, as receiver"
                    f" {owners[channel.name]!r} does: rename one of them",
                )
            owners[channel.name] = receiver.name
            out.append(channel)
    return tuple(out)


def _read_time_intervals(ctx: Context, top: dict[str, yaml.Node]) -> tuple[TimeIntervalSpec, ...]:
    r = ctx.reader
    out: list[TimeIntervalSpec] = []
    seen: set[str] = set()
    for key, what in (("mute_time_intervals", "mute time interval"), ("time_intervals", "time interval")):
        if key not in top:
            continue
        if key == "mute_time_intervals":
            r.warn(key, top[key], "deprecated: use time_intervals")
        for i, node in enumerate(r.sequence(top[key], key)):
            spec = read_time_interval(r, node, f"{key}[{i}]")
            if spec is None:
                continue
            if spec.name in seen:
                r.error(f"{key}[{i}].name", node, f'{what} "{spec.name}" is not unique')
                continue
            seen.add(spec.name)
            out.append(spec)
    return tuple(out)


def _matchers_from_map(r: Reader, node: yaml.Node, path: str, op: MatchOp) -> list[str]:
    """`match` ({label: value}) or `match_re` ({label: regex}) as our matcher strings; a regex is
    anchored as Alertmanager anchors it (ours are anchored already)."""
    out: list[str] = []
    for name, (value, value_node) in r.string_map(node, path).items():
        where = join(path, name)
        if not LABEL_NAME_RE.fullmatch(name):
            r.error(where, value_node, f'invalid label name "{name}"')
            continue
        if op == "=~" and (value_node.tag == "tag:yaml.org,2002:null"):
            r.error(where, value_node, f'invalid regexp value for "{name}": a regexp is required')
            continue
        try:
            # Parsed for the regex's sake: one that does not compile is refused here, not when routing.
            out.append(str(parse_matcher(format_matcher(name, op, value))))
        except MatcherError as e:
            r.error(where, value_node, f"invalid regexp for {name!r}: {e}")
    return out


def _matcher_list(r: Reader, node: yaml.Node, path: str) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(r.sequence(node, path)):
        line = r.string(item, f"{path}[{i}]")
        for text in split_matchers(line):
            try:
                out.append(str(parse_matcher(text)))
            except MatcherError as e:
                r.error(f"{path}[{i}]", item, str(e))
    return out


def _read_route(
    ctx: Context, node: yaml.Node, path: str, *, root: bool, receivers: set[str], intervals: set[str]
) -> Route:
    r = ctx.reader
    fields = r.mapping(node, path, _ROUTE, "route") or {}

    def text(key: str) -> str:
        return r.string(fields[key], join(path, key)) if key in fields else ""

    receiver = text("receiver")
    if receiver and receiver not in receivers:
        r.error(join(path, "receiver"), fields["receiver"], f'undefined receiver "{receiver}" used in route')
    if root and not receiver:
        r.error(join(path, "receiver"), node, "root route must specify a default receiver")
    group_by: tuple[str, ...] | None = None
    if "group_by" in fields:
        names = r.strings(fields["group_by"], join(path, "group_by"))
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name == "...":
                continue
            if not LABEL_NAME_RE.fullmatch(name):
                r.error(
                    f"{join(path, 'group_by')}[{i}]",
                    fields["group_by"],
                    f'invalid label name "{name}" in group_by list',
                )
            elif name in seen:
                r.error(
                    f"{join(path, 'group_by')}[{i}]",
                    fields["group_by"],
                    f'duplicated label "{name}" in group_by',
                )
            seen.add(name)
        if "..." in names and len(names) > 1:
            r.error(
                join(path, "group_by"),
                fields["group_by"],
                "cannot have wildcard group_by (`...`) and other labels at the same time",
            )
        group_by = tuple(names)
    durations: dict[str, int | None] = {}
    for key in ("group_wait", "group_interval", "repeat_interval"):
        durations[key] = r.duration(fields[key], join(path, key)) if key in fields else None
        if key != "group_wait" and durations[key] == 0:
            r.error(join(path, key), fields[key], f"{key} cannot be zero")
    matchers: list[str] = []
    if "match" in fields:
        matchers += _matchers_from_map(r, fields["match"], join(path, "match"), "=")
    if "match_re" in fields:
        matchers += _matchers_from_map(r, fields["match_re"], join(path, "match_re"), "=~")
    if "matchers" in fields:
        matchers += _matcher_list(r, fields["matchers"], join(path, "matchers"))
    if root and matchers:
        key = next(k for k in ("match", "match_re", "matchers") if k in fields)
        r.error(join(path, key), fields[key], "root route must not have any matchers")
    times: dict[str, list[str]] = {}
    for key in ("mute_time_intervals", "active_time_intervals"):
        times[key] = r.strings(fields[key], join(path, key)) if key in fields else []
        if root and times[key]:
            r.error(join(path, key), fields[key], f"root route must not have any {key.replace('_', ' ')}")
        for name in times[key]:
            if name not in intervals:
                r.error(join(path, key), fields[key], f'undefined time interval "{name}" used in route')
    continue_ = bool(r.boolean(fields["continue"], join(path, "continue"))) if "continue" in fields else False
    if root and continue_:
        r.error(join(path, "continue"), fields["continue"], "cannot have continue in root route")
    if "labels" in fields:
        labels = r.string_map(fields["labels"], join(path, "labels"))
        for name, (_, value_node) in labels.items():
            if not LABEL_NAME_RE.fullmatch(name):
                r.error(
                    join(path, f"labels.{name}"), value_node, f'invalid label name "{name}" in route labels'
                )
        r.warn(
            join(path, "labels"),
            fields["labels"],
            "accepted but not used: route labels are not rendered by this server",
        )
    children = (
        tuple(
            _read_route(
                ctx,
                child,
                f"{join(path, 'routes')}[{i}]",
                root=False,
                receivers=receivers,
                intervals=intervals,
            )
            for i, child in enumerate(r.sequence(fields["routes"], join(path, "routes")))
        )
        if "routes" in fields
        else ()
    )
    return Route(
        receiver=receiver,
        group_by=group_by,
        group_wait=durations["group_wait"],
        group_interval=durations["group_interval"],
        repeat_interval=durations["repeat_interval"],
        matchers=tuple(matchers),
        continue_=continue_,
        routes=children,
        mute_time_intervals=tuple(times["mute_time_intervals"]),
        active_time_intervals=tuple(times["active_time_intervals"]),
    )


def _read_inhibit_rule(ctx: Context, node: yaml.Node, path: str, source: str) -> InhibitRule | None:
    r = ctx.reader
    fields = r.mapping(node, path, _INHIBIT, "an inhibit rule")
    if fields is None:
        return None
    sides: dict[str, list[str]] = {}
    for side in ("source", "target"):
        matchers: list[str] = []
        if f"{side}_match" in fields:
            matchers += _matchers_from_map(r, fields[f"{side}_match"], join(path, f"{side}_match"), "=")
        if f"{side}_match_re" in fields:
            matchers += _matchers_from_map(
                r, fields[f"{side}_match_re"], join(path, f"{side}_match_re"), "=~"
            )
        if f"{side}_matchers" in fields:
            matchers += _matcher_list(r, fields[f"{side}_matchers"], join(path, f"{side}_matchers"))
        sides[side] = matchers
    equal = r.strings(fields["equal"], join(path, "equal")) if "equal" in fields else []
    for i, name in enumerate(equal):
        if not LABEL_NAME_RE.fullmatch(name):
            r.error(
                f"{join(path, 'equal')}[{i}]", fields["equal"], f'invalid label name "{name}" in equal list'
            )
    if "name" in fields:
        r.warn(join(path, "name"), fields["name"], "accepted but not used: inhibit rules have no names here")
    return InhibitRule(
        source_matchers=tuple(sides["source"]),
        target_matchers=tuple(sides["target"]),
        equal=tuple(equal),
        source=source,
    )


def problems_text(problems: Iterable[Problem], path: str) -> str:
    """The problems as `amtool check-config` prints an error: one line each, with the file."""
    return "\n".join(f"{path}: {p}" for p in problems)
