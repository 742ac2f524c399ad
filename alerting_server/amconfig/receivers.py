"""Alertmanager's receivers as our channels: one channel per integration (email_configs,
slack_configs, pagerduty_configs, webhook_configs, opsgenie_configs, victorops_configs,
pushover_configs), with Alertmanager's defaults filled in
(config/notifiers.go, notify/*/config.go) and the global section's values inherited as
Alertmanager's Config.UnmarshalYAML does.

Channel config keys are ours where we have them (slack webhook_url, email to/starttls, pagerduty
routing_key/url, webhook url, headers) and Alertmanager's own field names otherwise; every channel
made here says `"style": "alertmanager"`, so that it renders as Alertmanager does.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import getaddresses
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from alerting_server.amconfig.context import Context
from alerting_server.amconfig.httpconfig import (
    HTTPConfig,
    has_authorization,
    read_http_config,
    read_tls_config,
)
from alerting_server.amconfig.nodes import Reader, join, to_python
from alerting_server.errors import Violations
from alerting_server.model import Channel, ChannelType
from alerting_server.notify.alertmanager import email as am_email
from alerting_server.notify.alertmanager import pagerduty as am_pagerduty
from alerting_server.notify.alertmanager import slack as am_slack
from alerting_server.notify.alertmanager.opsgenie import DEFAULTS as OPSGENIE_DEFAULTS
from alerting_server.notify.alertmanager.opsgenie import RESPONDER_TYPES as OPSGENIE_RESPONDER_TYPES
from alerting_server.notify.alertmanager.pushover import DEFAULTS as PUSHOVER_DEFAULTS
from alerting_server.notify.alertmanager.victorops import DEFAULTS as VICTOROPS_DEFAULTS
from alerting_server.notify.alertmanager.victorops import RESERVED_FIELDS as VICTOROPS_RESERVED
from alerting_server.notify.integrations import integration
from alerting_server.notify.integrations.pagerduty.config import V1_URL as PAGERDUTY_V1_URL
from alerting_server.validation.fields import SECRET_PLACEHOLDER, Kind

STYLE = "alertmanager"

# The integrations this server delivers to, by their key in a receiver.
SUPPORTED = {
    "email_configs": ChannelType.EMAIL,
    "slack_configs": ChannelType.SLACK,
    "pagerduty_configs": ChannelType.PAGERDUTY,
    "webhook_configs": ChannelType.WEBHOOK,
    "opsgenie_configs": ChannelType.OPSGENIE,
    "victorops_configs": ChannelType.VICTOROPS,
    "pushover_configs": ChannelType.PUSHOVER,
}
# Alertmanager's other integrations: refused, naming the one found.
UNSUPPORTED = (
    "discord_configs",
    "incidentio_configs",
    "wechat_configs",
    "sns_configs",
    "telegram_configs",
    "webex_configs",
    "msteams_configs",
    "msteamsv2_configs",
    "jira_configs",
    "rocketchat_configs",
    "mattermost_configs",
)

_SUPPORTED_NAMES = ", ".join(key.removesuffix("_configs") for key in SUPPORTED)

# Alertmanager's defaults, as the channels of style alertmanager render them (notify/alertmanager/).
DEFAULT_EMAIL_SUBJECT = am_email.DEFAULT_SUBJECT
DEFAULT_EMAIL = {"html": am_email.DEFAULT_HTML, "text": ""}
DEFAULT_SLACK = am_slack.DEFAULTS
DEFAULT_PAGERDUTY = am_pagerduty.DEFAULTS
DEFAULT_PAGERDUTY_DETAILS = am_pagerduty.DEFAULT_DETAILS
SLACK_BOT_URL = "https://slack.com/api/chat.postMessage"

_EMAIL_FIELDS = (
    "send_resolved",
    "to",
    "from",
    "hello",
    "smarthost",
    "auth_username",
    "auth_password",
    "auth_password_file",
    "auth_secret",
    "auth_secret_file",
    "auth_identity",
    "headers",
    "html",
    "text",
    "require_tls",
    "tls_config",
    "force_implicit_tls",
    "threading",
)
_SLACK_TEXTS = (
    "channel",
    "username",
    "color",
    "title",
    "title_link",
    "pretext",
    "text",
    "message_text",
    "footer",
    "fallback",
    "callback_id",
    "icon_emoji",
    "icon_url",
    "image_url",
    "thumb_url",
)
_SLACK_FIELDS = (
    "send_resolved",
    "http_config",
    "api_url",
    "api_url_file",
    "app_token",
    "app_token_file",
    "app_url",
    *_SLACK_TEXTS,
    "fields",
    "short_fields",
    "link_names",
    "mrkdwn_in",
    "actions",
    "update_message",
    "timeout",
)
_PAGERDUTY_TEXTS = (
    "client",
    "client_url",
    "description",
    "source",
    "severity",
    "class",
    "component",
    "group",
)
_PAGERDUTY_FIELDS = (
    "send_resolved",
    "http_config",
    "service_key",
    "service_key_file",
    "routing_key",
    "routing_key_file",
    "url",
    *_PAGERDUTY_TEXTS,
    "details",
    "images",
    "links",
    "timeout",
)
_OPSGENIE_TEXTS = ("message", "description", "source", "entity", "actions", "tags", "note", "priority")
_OPSGENIE_FIELDS = (
    "send_resolved",
    "http_config",
    "api_key",
    "api_key_file",
    "api_url",
    *_OPSGENIE_TEXTS,
    "details",
    "responders",
    "update_alerts",
)
_VICTOROPS_TEXTS = ("routing_key", "message_type", "state_message", "entity_display_name", "monitoring_tool")
_VICTOROPS_FIELDS = (
    "send_resolved",
    "http_config",
    "api_key",
    "api_key_file",
    "api_url",
    *_VICTOROPS_TEXTS,
    "custom_fields",
)
_PUSHOVER_TEXTS = ("title", "message", "url", "url_title", "device", "sound", "priority")
_PUSHOVER_FIELDS = (
    "send_resolved",
    "http_config",
    "user_key",
    "user_key_file",
    "token",
    "token_file",
    *_PUSHOVER_TEXTS,
    "retry",
    "expire",
    "ttl",
    "html",
)
_WEBHOOK_FIELDS = ("send_resolved", "http_config", "url", "url_file", "max_alerts", "timeout", "payload")


@dataclass(frozen=True)
class Receiver:
    name: str
    channels: tuple[Channel, ...]
    # Each channel's integration in the file: its field path and node, for the problems found later.
    places: tuple[tuple[str, yaml.Node], ...] = ()


def read_receiver(ctx: Context, node: yaml.Node, path: str, source: str) -> Receiver | None:
    r = ctx.reader
    fields = r.mapping(node, path, ("name", "labels", *SUPPORTED, *UNSUPPORTED), "a receiver")
    if fields is None:
        return None
    name = r.string(fields["name"], join(path, "name")) if "name" in fields else ""
    if not name:
        r.error(join(path, "name"), node, "missing name in receiver")
    if "labels" in fields:
        labels = r.string_map(fields["labels"], join(path, "labels"))
        if "name" in labels and labels["name"][0] != name:
            r.error(
                join(path, "labels.name"),
                labels["name"][1],
                f'receiver label "name" must match receiver name "{name}", got "{labels["name"][0]}"',
            )
        r.warn(join(path, "labels"), fields["labels"], "accepted but not used: receiver labels are not shown")
    for key in UNSUPPORTED:
        if key in fields:
            kind = key.removesuffix("_configs")
            r.error(
                join(path, key),
                fields[key],
                f"receiver type {kind} is not supported (supported: {_SUPPORTED_NAMES})",
            )
    made: list[tuple[ChannelType, int, dict[str, Any], str, yaml.Node]] = []
    for key, type in SUPPORTED.items():
        if key not in fields:
            continue
        for i, item in enumerate(r.sequence(fields[key], join(path, key))):
            where = f"{join(path, key)}[{i}]"
            config = _READERS[type](ctx, item, where)
            if config is not None:
                made.append((type, i, config, where, item))
    if not name:
        return None
    single = len(made) == 1
    channels = tuple(
        Channel(
            name=name if single else f"{name}-{type.value}-{i}",
            type=type,
            config=config,
            receiver=name,
            source=source,
        )
        for type, i, config, _, _ in made
    )
    return Receiver(name, channels, tuple((where, item) for _, _, _, where, item in made))


# Our config keys that are Alertmanager's under another name, for the problems found in them.
AM_FIELD = {
    "webhook_url": "api_url",
    "username": "auth_username",
    "password": "auth_password",
    "starttls": "require_tls",
}
# The kinds of field checked when a file is loaded; texts and templates are the renderer's.
_CHECKED_KINDS = {Kind.URL, Kind.HOSTPORT, Kind.ADDRESS, Kind.ADDRESSES}


def check_channel(r: Reader, channel: Channel, path: str, node: yaml.Node) -> None:
    """The values of the channel's config that our integration checks (URLs, addresses, host:port),
    each problem named by Alertmanager's field; secrets not read (a check) are left alone."""
    v = Violations()
    schema = integration(channel.type).schema
    for key, spec in schema.items():
        value = channel.config.get(key)
        if spec.kind not in _CHECKED_KINDS or value in (None, "", []) or value == SECRET_PLACEHOLDER:
            continue
        spec.check_value(v, f"{path}.{AM_FIELD.get(key, key)}", value)
    for key in channel.config.keys() - schema.keys():
        v.add(
            f"{path}.{AM_FIELD.get(key, key)}",
            f"not supported by this server's {channel.type.value} channels",
        )
    for item in v.items:
        r.error(item.field, node, item.description)


def _base(r: Reader, fields: dict[str, yaml.Node], path: str, send_resolved: bool) -> dict[str, Any]:
    if "send_resolved" in fields:
        value = r.boolean(fields["send_resolved"], join(path, "send_resolved"))
        if value is not None:
            send_resolved = value
    return {"style": STYLE, "send_resolved": send_resolved}


def _http(ctx: Context, fields: dict[str, yaml.Node], path: str) -> HTTPConfig:
    """The integration's http_config, or the global one (a whole replacement, as cmp.Or does)."""
    if "http_config" in fields:
        return read_http_config(ctx, fields["http_config"], join(path, "http_config"))
    return HTTPConfig(
        authorization=ctx.glob.http_config.get("authorization", ""),
        tls_config=ctx.glob.http_config.get("tls_config"),
        proxy=ctx.glob.http_config.get("proxy"),
    )


def _texts(
    r: Reader, fields: dict[str, yaml.Node], path: str, keys: tuple[str, ...], out: dict[str, Any]
) -> None:
    for key in keys:
        if key in fields:
            out[key] = r.string(fields[key], join(path, key))


def _timeout(r: Reader, fields: dict[str, yaml.Node], path: str, out: dict[str, Any]) -> None:
    if "timeout" in fields:
        text = r.string(fields["timeout"], join(path, "timeout"))
        if r.duration(fields["timeout"], join(path, "timeout")) is not None:
            out["timeout"] = text


def _email(ctx: Context, node: yaml.Node, path: str) -> dict[str, Any] | None:
    r, g = ctx.reader, ctx.glob
    fields = r.mapping(node, path, _EMAIL_FIELDS, "email_config")
    if fields is None:
        r.error(path, node, "missing email config")
        return None
    config = _base(r, fields, path, send_resolved=False)
    config.update(DEFAULT_EMAIL)
    to = r.string(fields["to"], join(path, "to")) if "to" in fields else ""
    if not to:
        r.error(join(path, "to"), node, "missing to address in email config")
    config["to"] = [addr for _, addr in getaddresses([to]) if addr] or ([to] if to else [])
    config["from"] = (r.string(fields["from"], join(path, "from")) if "from" in fields else "") or g.smtp_from
    if not config["from"]:
        r.error(join(path, "from"), node, "no global SMTP from set")
    config["hello"] = (
        r.string(fields["hello"], join(path, "hello")) if "hello" in fields else ""
    ) or g.smtp_hello
    smarthost = r.string(fields["smarthost"], join(path, "smarthost")) if "smarthost" in fields else ""
    if smarthost:
        check_hostport(r, join(path, "smarthost"), fields["smarthost"], smarthost)
    config["smarthost"] = smarthost or g.smtp_smarthost
    if not config["smarthost"]:
        r.error(join(path, "smarthost"), node, "no global SMTP smarthost set")
    username = (
        r.string(fields["auth_username"], join(path, "auth_username")) if "auth_username" in fields else ""
    )
    config["username"] = username or g.smtp_auth_username
    for name, ours in (("auth_password", "password"), ("auth_secret", "auth_secret")):
        if name in fields and f"{name}_file" in fields:
            r.error(path, node, f"at most one of {name} & {name}_file must be configured")
        value = ""
        if name in fields:
            value = r.string(fields[name], join(path, name))
        elif f"{name}_file" in fields:
            where = join(path, f"{name}_file")
            value = ctx.secret_file(where, fields[f"{name}_file"], r.string(fields[f"{name}_file"], where))
        elif getattr(g, f"smtp_{name}"):
            value = getattr(g, f"smtp_{name}")
        elif getattr(g, f"smtp_{name}_file"):
            where = f"global.smtp_{name}_file"
            value = ctx.secret_file(where, g.nodes[where], getattr(g, f"smtp_{name}_file"))
        if value:
            config[ours] = value
    identity = (
        r.string(fields["auth_identity"], join(path, "auth_identity")) if "auth_identity" in fields else ""
    ) or g.smtp_auth_identity
    if identity and identity != config["username"]:
        # PLAIN with the username as identity is PLAIN without one: only that is supported.
        r.error(
            join(path, "auth_identity"),
            node,
            "an auth_identity other than the auth_username is not supported",
        )
    require_tls = (
        r.boolean(fields["require_tls"], join(path, "require_tls")) if "require_tls" in fields else None
    )
    config["starttls"] = g.smtp_require_tls if require_tls is None else require_tls
    implicit = (
        r.boolean(fields["force_implicit_tls"], join(path, "force_implicit_tls"))
        if "force_implicit_tls" in fields
        else None
    )
    if implicit is None:
        implicit = g.smtp_force_implicit_tls
    if implicit:
        config["tls"] = True
        config["starttls"] = False
    tls = (
        read_tls_config(ctx, fields["tls_config"], join(path, "tls_config"))
        if "tls_config" in fields
        else None
    )
    tls = tls or g.smtp_tls_config
    if tls:
        config["tls_config"] = dict(tls)
    _texts(r, fields, path, ("html", "text"), config)
    headers: dict[str, str] = {}
    if "headers" in fields:
        for key, (value, value_node) in r.string_map(fields["headers"], join(path, "headers")).items():
            canonical = "-".join(part.capitalize() for part in key.split("-"))
            if canonical in headers or (canonical == "Subject" and "subject" in config):
                r.error(
                    join(path, f"headers.{key}"),
                    value_node,
                    f'duplicate header "{canonical}" in email config',
                )
            elif canonical == "Subject":
                config["subject"] = value
            else:
                headers[canonical] = value
    config.setdefault("subject", DEFAULT_EMAIL_SUBJECT)
    if headers:
        config["headers"] = headers
    if "threading" in fields:
        threading = r.mapping(
            fields["threading"], join(path, "threading"), ("enabled", "thread_by_date"), "threading"
        )
        if (
            threading
            and "enabled" in threading
            and r.boolean(threading["enabled"], join(path, "threading.enabled"))
        ):
            r.error(join(path, "threading"), fields["threading"], "email threading is not supported")
    return config


def check_hostport(r: Reader, path: str, node: yaml.Node, text: str) -> None:
    host, sep, port = text.rpartition(":")
    if not sep:
        r.error(path, node, f"address {text}: missing port in address")
    elif not port:
        r.error(path, node, f'address "{text}": port cannot be empty')
    elif not port.isdigit() and not host:
        r.error(path, node, f"address {text}: invalid port")


def _slack(ctx: Context, node: yaml.Node, path: str) -> dict[str, Any] | None:
    r, g = ctx.reader, ctx.glob
    fields = r.mapping(node, path, _SLACK_FIELDS, "slack_config") or {}
    config = _base(r, fields, path, send_resolved=False)
    config.update(DEFAULT_SLACK)
    _texts(r, fields, path, _SLACK_TEXTS, config)
    api_url = r.string(fields["api_url"], join(path, "api_url")) if "api_url" in fields else ""
    api_url_file = (
        r.string(fields["api_url_file"], join(path, "api_url_file")) if "api_url_file" in fields else ""
    )
    app_token = r.string(fields["app_token"], join(path, "app_token")) if "app_token" in fields else ""
    app_token_file = (
        r.string(fields["app_token_file"], join(path, "app_token_file")) if "app_token_file" in fields else ""
    )
    if api_url and api_url_file:
        r.error(path, node, "at most one of api_url & api_url_file must be configured")
    if app_token and app_token_file:
        r.error(path, node, "at most one of app_token & app_token_file must be configured")
    if (api_url or api_url_file) and (app_token or app_token_file):
        r.error(
            path, node, "at most one of api_url/api_url_file & app_token/app_token_file must be configured"
        )
    update_message = False
    if "update_message" in fields:
        update_message = bool(r.boolean(fields["update_message"], join(path, "update_message")))
        if update_message and api_url != SLACK_BOT_URL:
            r.error(
                join(path, "update_message"),
                fields["update_message"],
                "update_message can only be used with bot tokens. api_url must be set to " + SLACK_BOT_URL,
            )
        elif update_message:
            r.error(
                join(path, "update_message"),
                fields["update_message"],
                "update_message (editing the message a group posted before) is not supported",
            )
    app_url = (
        r.string(fields["app_url"], join(path, "app_url")) if "app_url" in fields else ""
    ) or g.slack_app_url
    own_auth = has_authorization(ctx, fields.get("http_config"))
    if not app_token and not app_token_file and not own_auth and not api_url:
        app_token, app_token_file = g.slack_app_token, g.slack_app_token_file
        token_where = "global.slack_app_token_file"
    else:
        token_where = join(path, "app_token_file")
    file_where = join(path, "api_url_file")
    if not api_url and not api_url_file:
        api_url, api_url_file = g.slack_api_url, g.slack_api_url_file
        file_where = "global.slack_api_url_file"
    if not api_url and not api_url_file and not app_token and not app_token_file:
        r.error(join(path, "api_url"), node, "no Slack API URL nor App token set either inline or in a file")
    http = _http(ctx, fields, path)
    if app_token or app_token_file:
        if own_auth:
            r.error(
                join(path, "http_config.authorization"),
                fields["http_config"],
                "http authorization can't be set when using Slack App tokens",
            )
        if app_token_file:
            file_node = fields.get("app_token_file") or g.nodes.get(token_where) or node
            app_token = ctx.secret_file(token_where, file_node, app_token_file)
        http = HTTPConfig(authorization=f"Bearer {app_token}", tls_config=http.tls_config)
        config["webhook_url"] = app_url
    elif api_url_file:
        file_node = fields.get("api_url_file") or g.nodes.get(file_where) or node
        config["webhook_url"] = ctx.secret_file(file_where, file_node, api_url_file)
    else:
        config["webhook_url"] = api_url
    http.apply(config)
    if "fields" in fields:
        config["fields"] = _list_of_maps(
            r, fields["fields"], join(path, "fields"), ("title", "value", "short")
        )
    if "actions" in fields:
        config["actions"] = _list_of_maps(
            r,
            fields["actions"],
            join(path, "actions"),
            ("type", "text", "url", "style", "name", "value", "confirm"),
        )
    for key in ("short_fields", "link_names"):
        if key in fields:
            config[key] = bool(r.boolean(fields[key], join(path, key)))
    if "mrkdwn_in" in fields:
        config["mrkdwn_in"] = r.strings(fields["mrkdwn_in"], join(path, "mrkdwn_in"))
    _timeout(r, fields, path, config)
    return config


def _list_of_maps(r: Reader, node: yaml.Node, path: str, known: tuple[str, ...]) -> list[Any]:
    out = []
    for i, item in enumerate(r.sequence(node, path)):
        if r.mapping(item, f"{path}[{i}]", known, path.rsplit(".", 1)[-1]) is not None:
            out.append(to_python(item))
    return out


def _pagerduty(ctx: Context, node: yaml.Node, path: str) -> dict[str, Any] | None:
    r, g = ctx.reader, ctx.glob
    fields = r.mapping(node, path, _PAGERDUTY_FIELDS, "pagerduty_config")
    if fields is None:
        r.error(path, node, "missing pagerduty config")
        return None
    config = _base(r, fields, path, send_resolved=True)
    config.update(DEFAULT_PAGERDUTY)
    _texts(r, fields, path, _PAGERDUTY_TEXTS, config)
    keys: dict[str, str] = {}
    for name in ("routing_key", "service_key"):
        if name in fields and f"{name}_file" in fields:
            r.error(path, node, f"at most one of {name} & {name}_file must be configured")
        if name in fields:
            keys[name] = r.string(fields[name], join(path, name))
        elif f"{name}_file" in fields:
            where = join(path, f"{name}_file")
            keys[name] = ctx.secret_file(
                where, fields[f"{name}_file"], r.string(fields[f"{name}_file"], where)
            )
    if not any(keys.values()):
        r.error(join(path, "routing_key"), node, "missing service or routing key in PagerDuty config")
    if keys.get("service_key"):
        # Events API v1, to its own fixed URL, as Alertmanager sends when a service key is set.
        config["service_key"] = keys["service_key"]
        config["url"] = PAGERDUTY_V1_URL
        if "url" in fields:
            r.warn(join(path, "url"), fields["url"], "not used with a service_key (Events API v1)")
    else:
        if keys.get("routing_key"):
            config["routing_key"] = keys["routing_key"]
        url = r.string(fields["url"], join(path, "url")) if "url" in fields else ""
        config["url"] = url or g.pagerduty_url
    if "source" not in config:
        config["source"] = config["client"]
    details: dict[str, Any] = {}
    if "details" in fields:
        data = to_python(fields["details"])
        if isinstance(data, dict):
            details = data
        elif data is not None:
            r.error(join(path, "details"), fields["details"], "must be a mapping")
    config["details"] = {**DEFAULT_PAGERDUTY_DETAILS, **details}
    if "images" in fields:
        config["images"] = _list_of_maps(r, fields["images"], join(path, "images"), ("src", "alt", "href"))
    if "links" in fields:
        config["links"] = _list_of_maps(r, fields["links"], join(path, "links"), ("href", "text"))
    _timeout(r, fields, path, config)
    _http(ctx, fields, path).apply(config)
    return config


def _webhook(ctx: Context, node: yaml.Node, path: str) -> dict[str, Any] | None:
    r = ctx.reader
    fields = r.mapping(node, path, _WEBHOOK_FIELDS, "webhook_config")
    if fields is None:
        r.error(path, node, "missing webhook config")
        return None
    config = _base(r, fields, path, send_resolved=True)
    url = r.string(fields["url"], join(path, "url")) if "url" in fields else ""
    url_file = r.string(fields["url_file"], join(path, "url_file")) if "url_file" in fields else ""
    if not url and not url_file:
        r.error(join(path, "url"), node, "one of url or url_file must be configured")
    if url and url_file:
        r.error(path, node, "at most one of url & url_file must be configured")
    if url_file and not url:
        url = ctx.secret_file(join(path, "url_file"), fields["url_file"], url_file)
    config["url"] = url
    if "max_alerts" in fields:
        max_alerts = r.integer(fields["max_alerts"], join(path, "max_alerts"))
        if max_alerts:
            config["max_alerts"] = max_alerts
    _timeout(r, fields, path, config)
    if "payload" in fields:
        config["payload"] = to_python(fields["payload"])
    _http(ctx, fields, path).apply(config)
    return config


def _string_map(r: Reader, fields: dict[str, yaml.Node], path: str, key: str) -> dict[str, str]:
    if key not in fields:
        return {}
    return {k: value for k, (value, _) in r.string_map(fields[key], join(path, key)).items()}


def _secret(
    ctx: Context, fields: dict[str, yaml.Node], node: yaml.Node, path: str, name: str
) -> tuple[str, bool]:
    """The integration's own `name` or `name_file` (read), and whether it has one; both is an error."""
    r = ctx.reader
    if name in fields and f"{name}_file" in fields:
        r.error(path, node, f"at most one of {name} & {name}_file must be configured")
    if name in fields:
        value = r.string(fields[name], join(path, name))
        if value:
            return value, True
    if f"{name}_file" in fields:
        where = join(path, f"{name}_file")
        filename = r.string(fields[f"{name}_file"], where)
        if filename:
            return ctx.secret_file(where, fields[f"{name}_file"], filename), True
    return "", False


def _global_secret(ctx: Context, name: str) -> tuple[str, bool]:
    """The global section's `name` or `name_file` (read), and whether it has one."""
    g = ctx.glob
    if getattr(g, name):
        return str(getattr(g, name)), True
    filename = str(getattr(g, f"{name}_file"))
    if filename:
        where = f"global.{name}_file"
        return ctx.secret_file(where, g.nodes[where], filename), True
    return "", False


def _with_slash(url: str) -> str:
    """The URL with its path ending in '/', as Alertmanager's loader makes an api_url."""
    parts = urlsplit(url)
    if parts.path.endswith("/"):
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path + "/", parts.query, parts.fragment))


def _opsgenie(ctx: Context, node: yaml.Node, path: str) -> dict[str, Any] | None:
    r, g = ctx.reader, ctx.glob
    fields = r.mapping(node, path, _OPSGENIE_FIELDS, "opsgenie_config")
    if fields is None:
        r.error(path, node, "missing opsgenie config")
        return None
    config = _base(r, fields, path, send_resolved=True)
    config.update(OPSGENIE_DEFAULTS)
    _texts(r, fields, path, _OPSGENIE_TEXTS, config)
    api_key, own = _secret(ctx, fields, node, path, "api_key")
    if not own:
        api_key, found = _global_secret(ctx, "opsgenie_api_key")
        if not found:
            r.error(join(path, "api_key"), node, "no global OpsGenie API Key set either inline or in a file")
    config["api_key"] = api_key
    api_url = r.string(fields["api_url"], join(path, "api_url")) if "api_url" in fields else ""
    config["api_url"] = _with_slash(api_url or g.opsgenie_api_url)
    details = _string_map(r, fields, path, "details")
    if details:
        config["details"] = details
    if "responders" in fields:
        responders = []
        for i, item in enumerate(r.sequence(fields["responders"], join(path, "responders"))):
            where = f"{join(path, 'responders')}[{i}]"
            known = r.mapping(item, where, ("id", "name", "username", "type"), "responder")
            if known is None:
                continue
            responder = {k: r.string(v, join(where, k)) for k, v in known.items()}
            responder = {k: v for k, v in responder.items() if v}
            if not any(responder.get(k) for k in ("id", "name", "username")):
                r.error(
                    where,
                    item,
                    "opsGenieConfig responder has to have at least one of id, username or name specified",
                )
            # Checked case-insensitively and kept as written, as Alertmanager 0.25 does.
            kind = responder.get("type", "")
            if "{{" not in kind and kind.lower() not in OPSGENIE_RESPONDER_TYPES:
                r.error(
                    join(where, "type"),
                    known.get("type") or item,
                    f"opsGenieConfig responder type {kind!r} does not match valid options "
                    "^(team|teams|user|escalation|schedule)$",
                )
            responders.append(responder)
        if responders:
            config["responders"] = responders
    if "update_alerts" in fields:
        config["update_alerts"] = bool(r.boolean(fields["update_alerts"], join(path, "update_alerts")))
    _http(ctx, fields, path).apply(config)
    return config


def _victorops(ctx: Context, node: yaml.Node, path: str) -> dict[str, Any] | None:
    r, g = ctx.reader, ctx.glob
    fields = r.mapping(node, path, _VICTOROPS_FIELDS, "victorops_config")
    if fields is None:
        r.error(path, node, "missing victorops config")
        return None
    config = _base(r, fields, path, send_resolved=True)
    config.update(VICTOROPS_DEFAULTS)
    _texts(r, fields, path, _VICTOROPS_TEXTS, config)
    if not config.get("routing_key"):
        r.error(join(path, "routing_key"), node, "missing Routing key in VictorOps config")
    api_key, own = _secret(ctx, fields, node, path, "api_key")
    if not own:
        api_key, found = _global_secret(ctx, "victorops_api_key")
        if not found:
            r.error(join(path, "api_key"), node, "no global VictorOps API Key set")
    config["api_key"] = api_key
    api_url = r.string(fields["api_url"], join(path, "api_url")) if "api_url" in fields else ""
    config["api_url"] = _with_slash(api_url or g.victorops_api_url)
    custom = _string_map(r, fields, path, "custom_fields")
    for key in custom:
        if key in VICTOROPS_RESERVED:
            r.error(
                join(path, f"custom_fields.{key}"),
                fields["custom_fields"],
                f"victorOps config contains custom field {key} which cannot be used as it conflicts with"
                " the fixed/static fields",
            )
    if custom:
        config["custom_fields"] = custom
    _http(ctx, fields, path).apply(config)
    return config


def _pushover(ctx: Context, node: yaml.Node, path: str) -> dict[str, Any] | None:
    r = ctx.reader
    fields = r.mapping(node, path, _PUSHOVER_FIELDS, "pushover_config")
    if fields is None:
        r.error(path, node, "missing pushover config")
        return None
    config = _base(r, fields, path, send_resolved=True)
    config.update(PUSHOVER_DEFAULTS)
    _texts(r, fields, path, _PUSHOVER_TEXTS, config)
    for name, what in (("user_key", "user key"), ("token", "token")):
        value, own = _secret(ctx, fields, node, path, name)
        if not own:
            r.error(join(path, name), node, f"missing {what} in Pushover config")
        config[name] = value
    for key in ("retry", "expire", "ttl"):
        if key in fields:
            text = r.string(fields[key], join(path, key))
            if r.duration(fields[key], join(path, key)) is not None:
                config[key] = text
    if "html" in fields:
        config["html"] = bool(r.boolean(fields["html"], join(path, "html")))
    _http(ctx, fields, path).apply(config)
    return config


_READERS = {
    ChannelType.EMAIL: _email,
    ChannelType.SLACK: _slack,
    ChannelType.PAGERDUTY: _pagerduty,
    ChannelType.WEBHOOK: _webhook,
    ChannelType.OPSGENIE: _opsgenie,
    ChannelType.VICTOROPS: _victorops,
    ChannelType.PUSHOVER: _pushover,
}
