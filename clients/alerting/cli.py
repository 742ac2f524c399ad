"""alertctl: the command line of the alerting service, over the typed gRPC client.

    alertctl [--server HOST:PORT] [--token T] [--tls] [-o table|json|yaml] GROUP COMMAND [ARGS]

Each command is one row of COMMANDS (group, name, arguments, run); adding one, e.g. `routes test`,
is one more row (a group that is one command, `alertctl cluster`, is a row without a name), and a
resource with the usual verbs (list, get, create, update, delete) is one Kind whose rows
resource_commands() makes. Wherever a command takes an id, the server also takes the
name of a channel, escalation policy, time interval or rule. Resources print in the REST contract's JSON shape
(alerting.client.convert): as a table, or as JSON/YAML documents. A failed call prints its code,
message and field violations on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Generic, TypeVar

import yaml
from google.protobuf.message import Message

from alerting.client import AlertingClient, AlertingError, TLSConfig
from alerting.client.convert import (
    JSON,
    dict_to_message,
    enum_choices,
    enum_name,
    enum_number,
    message_to_dict,
)
from alerting.v1 import alert_service_pb2 as alert_pb
from alerting.v1 import channel_service_pb2 as channel_pb
from alerting.v1 import config_service_pb2 as config_pb
from alerting.v1 import escalation_policy_service_pb2 as escalation_pb
from alerting.v1 import metrics_service_pb2 as metrics_pb
from alerting.v1 import routing_service_pb2 as routing_pb
from alerting.v1 import rule_service_pb2 as rule_pb
from alerting.v1 import schedule_service_pb2 as schedule_pb
from alerting.v1 import silence_service_pb2 as silence_pb
from alerting.v1 import time_interval_service_pb2 as time_interval_pb
from alerting.v1 import user_service_pb2 as user_pb
from alerting_common import yamlerrors
from alerting_common.durations import format_duration, parse_duration

DEFAULT_SERVER = "127.0.0.1:50051"
Resource = dict[str, JSON]
M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Resource], str]


@dataclass(frozen=True)
class Shown:
    """What a command prints: resources (one, or a list) with their table columns, a line of text, or
    a stream of resources printed as they come."""

    resources: list[Resource] = field(default_factory=list)
    columns: Sequence[Column] = ()
    single: bool = False
    text: str = ""
    stream: Iterator[Resource] | None = None
    # What the command exits with after printing (a check that found problems: 1).
    exit_code: int = 0


def no_arguments(parser: argparse.ArgumentParser) -> None:
    pass


@dataclass(frozen=True)
class Command:
    group: str
    # "": the group is this one command (`alertctl cluster`).
    name: str
    help: str
    run: Callable[[AlertingClient, argparse.Namespace], Shown]
    arguments: Callable[[argparse.ArgumentParser], None] = no_arguments


GROUPS = {
    "rules": "alerting and recording rules",
    "alerts": "alerts, their history and acknowledgement",
    "channels": "notification channels",
    "deliveries": "notifications sent or being sent through channels",
    "silences": "silences",
    "routes": "the routing tree",
    "inhibit-rules": "inhibition rules",
    "escalation-policies": "escalation policies",
    "time-intervals": "time intervals that mute routes or make them active (Alertmanager's time_intervals)",
    "users": "people and their contact methods",
    "schedules": "on-call schedules, their overrides and shifts",
    "metrics": "samples and PromQL queries of the embedded store",
    "config": "the Alertmanager configuration file (alertmanager.yml)",
}


# Rendering of resource fields in table cells


def text(value: JSON) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ",".join(f'{k}="{v}"' for k, v in value.items())
    if isinstance(value, list):
        return ",".join(text(v) for v in value)
    return str(value)


def cell(name: str) -> Callable[[Resource], str]:
    return lambda resource: text(resource.get(name))


def inner(outer: str, render: Callable[[Resource], str]) -> Callable[[Resource], str]:
    """A column of the resource's `outer` object: `inner("alert", cell("state"))`."""

    def of(resource: Resource) -> str:
        value = resource.get(outer)
        return render(value) if isinstance(value, dict) else ""

    return of


def count(name: str) -> Callable[[Resource], str]:
    def render(resource: Resource) -> str:
        value = resource.get(name)
        return str(len(value)) if isinstance(value, list) else ""

    return render


def when(name: str) -> Callable[[Resource], str]:
    def render(resource: Resource) -> str:
        ms = resource.get(name)
        if not isinstance(ms, int) or isinstance(ms, bool):
            return ""
        return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return render


def acked_by(resource: Resource) -> str:
    ack = resource.get("ack")
    return text(ack.get("by")) if isinstance(ack, dict) else ""


def points(resource: Resource) -> str:
    values = resource.get("points")
    if not isinstance(values, list):
        return ""
    return " ".join(
        f"{text(p.get('value'))} @{when('timestamp_ms')(p)}" for p in values if isinstance(p, dict)
    )


RULE_COLUMNS = [
    Column("ID", cell("id")),
    Column("NAME", cell("name")),
    Column("SEVERITY", cell("severity")),
    Column("FOR", cell("duration")),
    Column("HEALTH", cell("health")),
    Column("QUERY", cell("query")),
]
ALERT_COLUMNS = [
    Column("FINGERPRINT", cell("fingerprint")),
    Column("RULE", cell("rule")),
    Column("STATE", cell("state")),
    Column("VALUE", cell("value")),
    Column("STARTED", when("started_at")),
    Column("ACKED BY", acked_by),
    Column("LABELS", cell("labels")),
]
HISTORY_COLUMNS = [
    Column("AT", when("at")),
    Column("TYPE", cell("type")),
    Column("STATE", cell("state")),
    Column("CHANNEL", cell("channel")),
    Column("BY", cell("by")),
    Column("MESSAGE", cell("message")),
]
CHANNEL_COLUMNS = [Column("ID", cell("id")), Column("NAME", cell("name")), Column("TYPE", cell("type"))]
DELIVERY_COLUMNS = [
    Column("ID", cell("id")),
    Column("CHANNEL", cell("channel_id")),
    Column("STATUS", cell("status")),
    Column("ATTEMPTS", cell("attempts")),
    Column("LAST ERROR", cell("last_error")),
]
ROUTE_COLUMNS = [Column("ROUTE", cell("route_key")), Column("RECEIVER", cell("receiver"))]
ROUTING_COLUMNS = [
    Column("RECEIVER", cell("receiver")),
    Column("GROUP BY", cell("group_by")),
    Column("ESCALATION POLICY", cell("escalation_policy_id")),
    Column("ROUTES", count("routes")),
]
GROUP_COLUMNS = [
    Column("ROUTE", cell("route")),
    Column("RECEIVER", cell("receiver")),
    Column("LABELS", cell("labels")),
    Column("ALERTS", count("alerts")),
]
EVENT_COLUMNS = [
    Column("REVISION", cell("revision")),
    Column("TYPE", cell("type")),
    Column("FINGERPRINT", inner("alert", cell("fingerprint"))),
    Column("STATE", inner("alert", cell("state"))),
    Column("LABELS", inner("alert", cell("labels"))),
]
LINK_COLUMNS = [
    Column("FINGERPRINT", inner("alert", cell("fingerprint"))),
    Column("STATE", inner("alert", cell("state"))),
    Column("ACKED BY", inner("alert", acked_by)),
    Column("EXPIRES", when("expires_at")),
]
INHIBIT_RULE_COLUMNS = [
    Column("ID", cell("id")),
    Column("SOURCE", cell("source_matchers")),
    Column("TARGET", cell("target_matchers")),
    Column("EQUAL", cell("equal")),
]
POLICY_COLUMNS = [
    Column("ID", cell("id")),
    Column("NAME", cell("name")),
    Column("LEVELS", count("levels")),
    Column("REPEAT", cell("repeat")),
]
TIME_INTERVAL_COLUMNS = [
    Column("ID", cell("id")),
    Column("NAME", cell("name")),
    Column("INTERVALS", count("time_intervals")),
    Column("SOURCE", cell("source")),
]
USER_COLUMNS = [
    Column("ID", cell("id")),
    Column("NAME", cell("name")),
    Column("EMAIL", cell("email")),
    Column("TIME ZONE", cell("time_zone")),
    Column("CONTACT METHODS", count("contact_methods")),
]
SCHEDULE_COLUMNS = [
    Column("ID", cell("id")),
    Column("NAME", cell("name")),
    Column("TIME ZONE", cell("time_zone")),
    Column("LAYERS", count("layers")),
]
OVERRIDE_COLUMNS = [
    Column("ID", cell("id")),
    Column("USER", cell("user")),
    Column("START", when("start")),
    Column("END", when("end")),
]
SHIFT_COLUMNS = [
    Column("USER", cell("user_name")),
    Column("START", when("start")),
    Column("END", when("end")),
]
ONCALL_COLUMNS = [
    Column("", cell("when")),
    Column("ON CALL", lambda resource: text(resource.get("users")) or "(nobody)"),
    Column("FROM", when("from")),
    Column("UNTIL", when("until")),
]
SERIES_COLUMNS = [Column("SERIES", cell("labels")), Column("POINTS", points)]

SILENCE_COLUMNS = [
    Column("ID", cell("id")),
    Column("STATE", cell("state")),
    Column("MATCHERS", cell("matchers")),
    Column("ENDS", when("ends_at")),
    Column("CREATED BY", cell("created_by")),
    Column("COMMENT", cell("comment")),
]


def one(message: Message, columns: Sequence[Column]) -> Shown:
    return Shown([message_to_dict(message)], columns, single=True)


def many(messages: Iterable[Message], columns: Sequence[Column]) -> Shown:
    return Shown([message_to_dict(m) for m in messages], columns)


def done(line: str) -> Shown:
    return Shown(text=line)


# Arguments shared by several commands


def read_document(path: str) -> dict[str, object]:
    """A JSON or YAML object from a file ("-" for stdin); JSON when the name ends in .json."""
    content = sys.stdin.read() if path == "-" else Path(path).read_text()
    data = json.loads(content) if path.endswith(".json") else yaml.safe_load(content)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected an object at the top level")
    return data


def duration_ms(value: str) -> int:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def time_ms(value: str) -> int:
    """An RFC 3339 time or Unix seconds, as Prometheus' HTTP API takes them."""
    try:
        return int(float(value) * 1000)
    except ValueError:
        pass
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time or Unix seconds: {value!r}") from None


def with_id(what: str, *, named: bool = True) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("id", help=f"the {what}'s id or name" if named else f"the {what}'s id")

    return add


def with_fingerprint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fingerprint", help="the alert's fingerprint")


def with_file(what: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("-f", "--file", required=True, help=f"{what} (JSON or YAML; - for stdin)")

    return add


def with_id_and_file(what: str, *, named: bool = True) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        with_id(what, named=named)(parser)
        with_file(f"the new {what}")(parser)

    return add


def labels_of(pairs: Iterable[str]) -> dict[str, str]:
    """NAME=VALUE arguments (the value may be quoted, as amtool takes them)."""
    labels: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"not a label: {pair!r}; expected NAME=VALUE")
        labels[name] = value.strip('"')
    return labels


# Resources with the usual verbs: one Kind each, its commands made by resource_commands()


@dataclass(frozen=True)
class Kind(Generic[M]):
    """A resource of the API and the client calls of its verbs; a verb left None has no command."""

    group: str
    what: str
    message: type[M]
    columns: Sequence[Column]
    list: Callable[[AlertingClient], Iterable[M]] | None = None
    get: Callable[[AlertingClient, str], M] | None = None
    create: Callable[[AlertingClient, M], M] | None = None
    update: Callable[[AlertingClient, str, M], M] | None = None
    delete: Callable[[AlertingClient, str], None] | None = None
    # Whether the server also finds one by its name (names are unique).
    named: bool = True
    deleting: str = ""
    # A delete that may also remove the uses of the resource, and who those users are.
    delete_cascading: Callable[[AlertingClient, str, bool], None] | None = None
    users: str = ""


def resource_commands(kind: Kind[M]) -> list[Command]:
    the_id = with_id(kind.what, named=kind.named)
    commands: list[Command] = []
    if (list_ := kind.list) is not None:

        def listing(client: AlertingClient, args: argparse.Namespace) -> Shown:
            return many(list_(client), kind.columns)

        commands.append(Command(kind.group, "list", f"list every {kind.what}", listing))
    if (get := kind.get) is not None:

        def getting(client: AlertingClient, args: argparse.Namespace) -> Shown:
            return one(get(client, args.id), kind.columns)

        commands.append(Command(kind.group, "get", f"show one {kind.what}", getting, the_id))
    if (create := kind.create) is not None:

        def creating(client: AlertingClient, args: argparse.Namespace) -> Shown:
            return one(create(client, dict_to_message(read_document(args.file), kind.message)), kind.columns)

        help = f"create one {kind.what} from a file"
        commands.append(Command(kind.group, "create", help, creating, with_file(f"the {kind.what}")))
    if (update := kind.update) is not None:

        def updating(client: AlertingClient, args: argparse.Namespace) -> Shown:
            message = dict_to_message(read_document(args.file), kind.message)
            return one(update(client, args.id, message), kind.columns)

        help = f"replace one {kind.what} with the one in a file"
        arguments = with_id_and_file(kind.what, named=kind.named)
        commands.append(Command(kind.group, "update", help, updating, arguments))
    delete, cascading = kind.delete, kind.delete_cascading
    if delete is not None or cascading is not None:

        def deleting(client: AlertingClient, args: argparse.Namespace) -> Shown:
            if cascading is not None:
                cascading(client, args.id, args.cascade)
            elif delete is not None:
                delete(client, args.id)
            return done(f"{kind.what} {args.id} deleted")

        def delete_arguments(parser: argparse.ArgumentParser) -> None:
            the_id(parser)
            if cascading is not None:
                parser.add_argument(
                    "--cascade",
                    action="store_true",
                    help=f"also remove its uses by {kind.users} (without: refused while in use, naming them)",
                )

        help = f"delete one {kind.what}{kind.deleting}"
        commands.append(Command(kind.group, "delete", help, deleting, delete_arguments))
    return commands


RULES = Kind(
    "rules",
    "rule",
    rule_pb.Rule,
    RULE_COLUMNS,
    list=AlertingClient.iter_rules,
    get=AlertingClient.get_rule,
    create=AlertingClient.create_rule,
    update=AlertingClient.update_rule,
    delete=AlertingClient.delete_rule,
    deleting="; its alerts resolve",
)
CHANNELS = Kind(
    "channels",
    "channel",
    channel_pb.Channel,
    CHANNEL_COLUMNS,
    list=AlertingClient.iter_channels,
    get=AlertingClient.get_channel,
    create=AlertingClient.create_channel,
    update=AlertingClient.update_channel,
    delete_cascading=lambda client, id, cascade: client.delete_channel(id, cascade=cascade),
    users="routes and escalation levels",
)
SILENCES = Kind(
    "silences",
    "silence",
    silence_pb.Silence,
    SILENCE_COLUMNS,
    get=AlertingClient.get_silence,
    update=AlertingClient.update_silence,
    named=False,
)
INHIBIT_RULES = Kind(
    "inhibit-rules",
    "inhibit rule",
    routing_pb.InhibitRule,
    INHIBIT_RULE_COLUMNS,
    list=AlertingClient.iter_inhibit_rules,
    get=AlertingClient.get_inhibit_rule,
    create=AlertingClient.create_inhibit_rule,
    delete=AlertingClient.delete_inhibit_rule,
    named=False,
)
ESCALATION_POLICIES = Kind(
    "escalation-policies",
    "escalation policy",
    escalation_pb.EscalationPolicy,
    POLICY_COLUMNS,
    list=AlertingClient.iter_escalation_policies,
    get=AlertingClient.get_escalation_policy,
    create=AlertingClient.create_escalation_policy,
    update=AlertingClient.update_escalation_policy,
    delete_cascading=lambda client, id, cascade: client.delete_escalation_policy(id, cascade=cascade),
    users="routes and rules",
)
TIME_INTERVALS = Kind(
    "time-intervals",
    "time interval",
    time_interval_pb.TimeInterval,
    TIME_INTERVAL_COLUMNS,
    list=AlertingClient.iter_time_intervals,
    get=AlertingClient.get_time_interval,
    create=AlertingClient.create_time_interval,
    update=AlertingClient.update_time_interval,
    delete=AlertingClient.delete_time_interval,
    deleting="; refused while routes name it",
)

USERS = Kind(
    "users",
    "user",
    user_pb.User,
    USER_COLUMNS,
    list=AlertingClient.iter_users,
    get=AlertingClient.get_user,
    create=AlertingClient.create_user,
    update=AlertingClient.update_user,
    delete=AlertingClient.delete_user,
    deleting="; their contact methods' channels go with them",
)
SCHEDULES = Kind(
    "schedules",
    "schedule",
    schedule_pb.Schedule,
    SCHEDULE_COLUMNS,
    list=AlertingClient.iter_schedules,
    get=AlertingClient.get_schedule,
    create=AlertingClient.create_schedule,
    update=AlertingClient.update_schedule,
    delete=AlertingClient.delete_schedule,
    deleting="; its overrides go with it",
)


# rules


def rules_apply(client: AlertingClient, args: argparse.Namespace) -> Shown:
    content = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    imported = client.import_rules(content)
    action = rule_pb.RuleImportAction.DESCRIPTOR
    return Shown(
        [
            {**message_to_dict(rule), "action": enum_name(action, number)}
            for rule, number in zip(imported.rules, imported.actions, strict=True)
        ],
        [Column("ACTION", cell("action")), *RULE_COLUMNS],
    )


def rules_export(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return done(client.export_rules().rstrip("\n"))


# alerts

ALERT_STATE = alert_pb.AlertState.DESCRIPTOR


def alerts_list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", choices=enum_choices(ALERT_STATE), help="only alerts in this state")
    parser.add_argument("--rule", default="", help="only alerts of this rule (by name)")
    parser.add_argument("--filter", default="", help="label matchers, e.g. '{host=\"server01\"}'")


def alerts_list(client: AlertingClient, args: argparse.Namespace) -> Shown:
    state = (
        None if args.state is None else alert_pb.AlertState.ValueType(enum_number(ALERT_STATE, args.state))
    )
    return many(client.iter_alerts(state=state, rule=args.rule, filter=args.filter), ALERT_COLUMNS)


def alerts_get(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.get_alert(args.fingerprint), ALERT_COLUMNS)


def alerts_history(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return many(client.iter_alert_history(args.fingerprint), HISTORY_COLUMNS)


def alerts_groups(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return many(client.iter_alert_groups(), GROUP_COLUMNS)


def alerts_create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", nargs="+", metavar="NAME=VALUE", help="the alert's labels")
    parser.add_argument(
        "--annotation", action="append", default=[], metavar="NAME=VALUE", help="an annotation; repeatable"
    )


def alerts_create(client: AlertingClient, args: argparse.Namespace) -> Shown:
    alert = alert_pb.PostableAlert(labels=labels_of(args.labels), annotations=labels_of(args.annotation))
    return done("\n".join(client.create_alerts([alert])))


def alerts_watch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state", action="append", default=[], choices=enum_choices(ALERT_STATE), help="repeatable"
    )
    parser.add_argument("--filter", default="", help="label matchers, e.g. '{host=\"server01\"}'")
    parser.add_argument(
        "--since-revision", type=int, default=0, help="resume after this revision instead of a snapshot"
    )


def alerts_watch(client: AlertingClient, args: argparse.Namespace) -> Shown:
    states = [alert_pb.AlertState.ValueType(enum_number(ALERT_STATE, s)) for s in args.state]
    events = client.watch_alerts(filter=args.filter, states=states, since_revision=args.since_revision)
    return Shown(columns=EVENT_COLUMNS, stream=(message_to_dict(e) for e in events))


def alerts_ack_arguments(parser: argparse.ArgumentParser) -> None:
    with_fingerprint(parser)
    parser.add_argument("--by", required=True, help="who acknowledges")
    parser.add_argument("--comment", default="", help="why, or what is being done")


def alerts_ack(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.acknowledge(args.fingerprint, by=args.by, comment=args.comment), ALERT_COLUMNS)


def alerts_unack_arguments(parser: argparse.ArgumentParser) -> None:
    with_fingerprint(parser)
    parser.add_argument("--by", default="", help="who withdraws the acknowledgement")


def alerts_unack(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.unacknowledge(args.fingerprint, by=args.by), ALERT_COLUMNS)


def with_link_token(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("token", help="the token of a signed acknowledgement link (its last path segment)")


def alerts_link_show(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.get_ack_token(args.token), LINK_COLUMNS)


def alerts_link_ack_arguments(parser: argparse.ArgumentParser) -> None:
    with_link_token(parser)
    parser.add_argument("--by", default="", help="who acknowledges (default: the server's link user)")
    parser.add_argument("--comment", default="", help="why, or what is being done")


def alerts_link_ack(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.acknowledge_by_token(args.token, by=args.by, comment=args.comment), ALERT_COLUMNS)


# channels and deliveries


def channels_test(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.test_channel(args.id), DELIVERY_COLUMNS)


DELIVERY_STATUS = channel_pb.DeliveryStatus.DESCRIPTOR


def deliveries_list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", default="", help="only deliveries through this channel (id or name)")
    parser.add_argument("--fingerprint", default="", help="only deliveries that carry this alert")
    parser.add_argument(
        "--status", choices=enum_choices(DELIVERY_STATUS), help="only deliveries in this status"
    )
    parser.add_argument("--newest-first", action="store_true", help="the latest deliveries first")


def deliveries_list(client: AlertingClient, args: argparse.Namespace) -> Shown:
    status = (
        None
        if args.status is None
        else channel_pb.DeliveryStatus.ValueType(enum_number(DELIVERY_STATUS, args.status))
    )
    deliveries = client.iter_deliveries(
        channel_id=args.channel, fingerprint=args.fingerprint, status=status, newest_first=args.newest_first
    )
    return many(deliveries, DELIVERY_COLUMNS)


# silences

SILENCE_STATE = silence_pb.SilenceState.DESCRIPTOR


def silences_list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--state", choices=enum_choices(SILENCE_STATE), help="only silences in this state")


def silences_list(client: AlertingClient, args: argparse.Namespace) -> Shown:
    state = (
        None
        if args.state is None
        else silence_pb.SilenceState.ValueType(enum_number(SILENCE_STATE, args.state))
    )
    return many(client.iter_silences(state=state), SILENCE_COLUMNS)


def silences_create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--matcher",
        action="append",
        required=True,
        help="a label matcher, e.g. 'host=\"server01\"'; repeatable",
    )
    parser.add_argument("--duration", type=duration_ms, required=True, help="how long from now, e.g. 2h")
    parser.add_argument("--comment", required=True, help="why")
    parser.add_argument(
        "--created-by",
        default="",
        help="who (default: with --token, the name the server gives the token; else your login name)",
    )


def login_name() -> str:
    """$LOGNAME, $USER, ... or else the password database's name of this process' user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # A container's user id often has no entry in the password database.
        return ""


def silences_create(client: AlertingClient, args: argparse.Namespace) -> Shown:
    # Left empty, the server names the token the call was made with: a CI job's token says more
    # than the login name of its container (often root, or none).
    created_by = args.created_by
    said = "the token's name"
    if not created_by and not args.token:
        created_by = login_name()
        said = "your login name"
        if not created_by:
            raise ValueError("--created-by is required: no login name is known for this user")
    now_ms = int(time.time() * 1000)
    silence = silence_pb.Silence(matchers=args.matcher, created_by=created_by, comment=args.comment)
    silence.starts_at.FromMilliseconds(now_ms)
    silence.ends_at.FromMilliseconds(now_ms + args.duration)
    created = client.create_silence(silence)
    if not args.created_by:
        print(f"created_by: {created.created_by} ({said}; --created-by to say otherwise)", file=sys.stderr)
    return one(created, SILENCE_COLUMNS)


def silences_expire(client: AlertingClient, args: argparse.Namespace) -> Shown:
    client.expire_silence(args.id)
    return done(f"silence {args.id} expired")


# routes


def routes_get(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.get_routing(), ROUTING_COLUMNS)


def routes_set(client: AlertingClient, args: argparse.Namespace) -> Shown:
    route = dict_to_message(read_document(args.file), routing_pb.Route)
    return one(client.update_routing(route), ROUTING_COLUMNS)


def routes_test_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", nargs="+", metavar="NAME=VALUE", help="the labels of an alert")


def routes_test(client: AlertingClient, args: argparse.Namespace) -> Shown:
    matches = client.test_routes(labels_of(args.labels))
    if args.output == "table":
        # As amtool config routes test: the receivers, comma-separated.
        return done(",".join(m.receiver for m in matches))
    return many(matches, ROUTE_COLUMNS)


# metrics


def metrics_write(client: AlertingClient, args: argparse.Namespace) -> Shown:
    request = dict_to_message(read_document(args.file), metrics_pb.WriteRequest)
    if request.all_or_nothing:
        raise ValueError("all_or_nothing: not supported here; send the samples with POST /api/v1/write")
    response = client.write(request.samples)
    lines = [f"{response.accepted} accepted, {response.rejected} rejected"]
    lines += [f"  samples[{e.index}]: {e.reason}" for e in response.errors]
    return done("\n".join(lines))


def metrics_query_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="a PromQL expression")
    parser.add_argument(
        "--time", type=time_ms, help="evaluation time (RFC 3339 or Unix seconds; default now)"
    )
    parser.add_argument("--datasource", default="", help="a configured source (default: the embedded store)")


def metrics_query(client: AlertingClient, args: argparse.Namespace) -> Shown:
    response = client.query(args.query, time_ms=args.time, datasource=args.datasource)
    if response.result_type == metrics_pb.RESULT_TYPE_SCALAR:
        return done(text(response.scalar.value))
    if response.result_type == metrics_pb.RESULT_TYPE_STRING:
        return done(response.string_value)
    return many(response.series, SERIES_COLUMNS)


def metrics_query_range_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="a PromQL expression")
    parser.add_argument("--start", type=time_ms, required=True, help="RFC 3339 or Unix seconds")
    parser.add_argument("--end", type=time_ms, required=True, help="RFC 3339 or Unix seconds")
    parser.add_argument("--step", type=duration_ms, required=True, help="resolution, e.g. 1m")
    parser.add_argument("--datasource", default="", help="a configured source (default: the embedded store)")


def metrics_query_range(client: AlertingClient, args: argparse.Namespace) -> Shown:
    response = client.query_range(
        args.query, start_ms=args.start, end_ms=args.end, step_ms=args.step, datasource=args.datasource
    )
    return many(response.series, SERIES_COLUMNS)


def selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--match", action="append", default=[], help='a series selector such as up{job="api"} (repeatable)'
    )
    parser.add_argument(
        "--start", type=time_ms, help="only series with samples since (RFC 3339 or Unix seconds)"
    )
    parser.add_argument(
        "--end", type=time_ms, help="only series with samples until (RFC 3339 or Unix seconds)"
    )
    parser.add_argument("--limit", type=int, default=0, help="at most this many results (0: all)")


def metrics_label_values_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the label (__name__ for metric names)")
    selection_arguments(parser)


def warn(warnings: Iterable[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)


def listed(values: Iterable[str], warnings: Iterable[str]) -> Shown:
    warn(warnings)
    return done("\n".join(values))


def metrics_labels(client: AlertingClient, args: argparse.Namespace) -> Shown:
    response = client.list_label_names(args.match, start_ms=args.start, end_ms=args.end, limit=args.limit)
    return listed(response.names, response.warnings)


def metrics_label_values(client: AlertingClient, args: argparse.Namespace) -> Shown:
    response = client.list_label_values(
        args.name, args.match, start_ms=args.start, end_ms=args.end, limit=args.limit
    )
    return listed(response.values, response.warnings)


def metrics_series(client: AlertingClient, args: argparse.Namespace) -> Shown:
    response = client.list_series(args.match, start_ms=args.start, end_ms=args.end, limit=args.limit)
    warn(response.warnings)
    return many(response.series, SERIES_COLUMNS[:1])


# on-call schedules


def with_schedule(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("schedule", help="the schedule's id or name")


def range_arguments(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--start", type=time_ms, required=required, help="RFC 3339 or Unix seconds")
    parser.add_argument("--end", type=time_ms, required=required, help="RFC 3339 or Unix seconds")


def schedules_overrides_arguments(parser: argparse.ArgumentParser) -> None:
    with_schedule(parser)
    range_arguments(parser, required=False)


def schedules_overrides(client: AlertingClient, args: argparse.Namespace) -> Shown:
    overrides = client.iter_overrides(args.schedule, start_ms=args.start, end_ms=args.end)
    return many(overrides, OVERRIDE_COLUMNS)


def schedules_override_arguments(parser: argparse.ArgumentParser) -> None:
    with_schedule(parser)
    parser.add_argument("--user", required=True, help="who is on call instead (id or name)")
    range_arguments(parser, required=True)


def schedules_override(client: AlertingClient, args: argparse.Namespace) -> Shown:
    override = schedule_pb.Override(user=args.user)
    override.start.FromMilliseconds(args.start)
    override.end.FromMilliseconds(args.end)
    return one(client.create_override(args.schedule, override), OVERRIDE_COLUMNS)


def schedules_override_delete_arguments(parser: argparse.ArgumentParser) -> None:
    with_schedule(parser)
    parser.add_argument("id", help="the override's id")


def schedules_override_delete(client: AlertingClient, args: argparse.Namespace) -> Shown:
    client.delete_override(args.schedule, args.id)
    return done(f"override {args.id} deleted")


def schedules_final_arguments(parser: argparse.ArgumentParser) -> None:
    with_schedule(parser)
    range_arguments(parser, required=True)


def schedules_final(client: AlertingClient, args: argparse.Namespace) -> Shown:
    shifts = client.get_final_schedule(args.schedule, start_ms=args.start, end_ms=args.end)
    return many(shifts, SHIFT_COLUMNS)


def schedules_calendar_link(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return done(client.get_calendar_link(args.schedule).url)


def schedules_calendar_link_reset(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return done(client.reset_calendar_link(args.schedule).url)


def schedules_calendar_feed_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("token", help="the token of a calendar link (what follows /calendar/ in it)")
    range_arguments(parser, required=True)


def schedules_calendar_feed(client: AlertingClient, args: argparse.Namespace) -> Shown:
    answer = client.get_calendar_feed(args.token, start_ms=args.start, end_ms=args.end)
    return many(answer.shifts, SHIFT_COLUMNS)


def oncall_arguments(parser: argparse.ArgumentParser) -> None:
    with_schedule(parser)
    parser.add_argument("--at", type=time_ms, help="at this time instead of now (RFC 3339 or Unix seconds)")


def _on_call_row(label: str, answer: schedule_pb.GetOnCallResponse, since: int | None) -> Resource:
    users: list[JSON] = [u.name or u.id for u in answer.users]
    return {
        "when": label,
        "users": users,
        "from": since,
        "until": answer.until.ToMilliseconds() if answer.HasField("until") else None,
    }


def oncall(client: AlertingClient, args: argparse.Namespace) -> Shown:
    """Who is on call now (or --at), and who is next from when that ends."""
    current = client.get_on_call(args.schedule, at_ms=args.at)
    rows = [_on_call_row("now" if args.at is None else "at", current, args.at)]
    if current.HasField("until"):
        until = current.until.ToMilliseconds()
        rows.append(_on_call_row("next", client.get_on_call(args.schedule, at_ms=until), until))
    return Shown(rows, ONCALL_COLUMNS)


# cluster


def age(name: str, now_ms: int) -> Callable[[Resource], str]:
    """How long before `now_ms` the time was, in whole seconds once past the first: by this machine's
    clock, so only as right as it agrees with the database's."""

    def render(resource: Resource) -> str:
        ms = resource.get(name)
        if not isinstance(ms, int) or isinstance(ms, bool):
            return ""
        elapsed = max(0, now_ms - ms)
        return format_duration(elapsed if elapsed < 1000 else elapsed // 1000 * 1000) + " ago"

    return render


def lease_names(resource: Resource) -> str:
    leases = resource.get("leases")
    if not isinstance(leases, list):
        return ""
    return ",".join(text(lease.get("name")) for lease in leases if isinstance(lease, dict))


def replica_id(resource: Resource) -> str:
    return text(resource.get("id")) + (" *" if resource.get("this_replica") else "")


def cluster(client: AlertingClient, args: argparse.Namespace) -> Shown:
    columns = [
        Column("ID", replica_id),
        Column("ADDRESS", cell("address")),
        Column("STARTED", when("started_at")),
        Column("LAST HEARTBEAT", age("last_heartbeat", int(time.time() * 1000))),
        Column("LEASES", lease_names),
    ]
    return many(client.get_cluster(), columns)


# Alertmanager configuration


def config_check(client: AlertingClient, args: argparse.Namespace) -> Shown:
    """As `amtool check-config`: a verdict per file, what it holds, exit code 1 when one fails."""
    failed = 0
    lines = []
    for name in args.files:
        content = sys.stdin.read() if name == "-" else Path(name).read_text()
        checked = client.check_config(content)
        if checked.valid:
            lines.append(f"Checking '{name}'  SUCCESS")
            s = checked.summary
            lines.append("Found:")
            if getattr(s, "global"):
                lines.append(" - global config")
            lines += [
                " - route",
                f" - {s.inhibit_rules} inhibit rules",
                f" - {s.receivers} receivers",
                f" - {s.templates} templates",
                f" - {s.time_intervals} time intervals",
                f" - {len(s.channels)} channels: {', '.join(s.channels)}" if s.channels else " - 0 channels",
            ]
            lines += [f"  warning: {_problem(p)}" for p in checked.warnings]
        else:
            failed += 1
            lines.append(f"Checking '{name}'  FAILED:")
            lines += [f"  {_problem(p)}" for p in checked.problems]
        lines.append("")
    if failed:
        lines.append(f"failed to validate {failed} file(s)")
    return Shown(text="\n".join(lines).rstrip("\n"), exit_code=1 if failed else 0)


def _problem(p: config_pb.ConfigProblem) -> str:
    where = f"line {p.line}: " if p.line else ""
    return f"{where}{p.field}: {p.message}" if p.field else f"{where}{p.message}"


def config_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="alertmanager.yml files ('-' for stdin)")


def config_import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", metavar="FILE", help="an Alertmanager configuration (alertmanager.yml; '-' for stdin)"
    )
    parser.add_argument("--name", default="", help="the import's name (default: the file's name)")


def config_import(client: AlertingClient, args: argparse.Namespace) -> Shown:
    content = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    name = args.name or ("alertmanager.yml" if args.file == "-" else Path(args.file).name)
    imported = client.import_config(content, name)
    lines = [
        f"imported {name}: {imported.summary.receivers} receivers, {len(imported.summary.channels)} channels"
        f" ({len(imported.created_channels)} new, {len(imported.updated_channels)} changed,"
        f" {len(imported.deleted_channels)} removed), {imported.summary.inhibit_rules} inhibit rules,"
        f" {imported.summary.time_intervals} time intervals"
    ]
    lines += [f"warning: {_problem(p)}" for p in imported.warnings]
    return done("\n".join(lines))


def config_export(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return done(client.export_config().rstrip("\n"))


def config_reload(client: AlertingClient, args: argparse.Namespace) -> Shown:
    reloaded = client.reload_config()
    return done(
        f"reloaded: {reloaded.summary.receivers} receivers, {len(reloaded.summary.channels)} channels"
    )


def config_status(client: AlertingClient, args: argparse.Namespace) -> Shown:
    status = client.get_config_status()
    if not status.source:
        return done("no Alertmanager configuration loaded")
    lines = [f"source: {status.source}"]
    if status.HasField("loaded_at"):
        lines.append(f"loaded at: {status.loaded_at.ToJsonString()}")
    outcome = f"failed: {status.error}" if status.error else "ok"
    lines.append(f"last attempt: {status.attempted_at.ToJsonString()} {outcome}")
    return done("\n".join(lines))


COMMANDS: list[Command] = [
    *resource_commands(RULES),
    Command("rules", "apply", "create or replace the rules of a Prometheus rule file", rules_apply,
            with_file("a Prometheus rule file")),
    Command("rules", "export", "print every rule as a Prometheus rule file", rules_export),
    Command("alerts", "list", "list alerts", alerts_list, alerts_list_arguments),
    Command("alerts", "get", "show one alert", alerts_get, with_fingerprint),
    Command("alerts", "create", "post an alert from outside, as Prometheus does", alerts_create,
            alerts_create_arguments),
    Command("alerts", "history", "show what happened to an alert", alerts_history, with_fingerprint),
    Command("alerts", "groups", "list the aggregation groups and their alerts", alerts_groups),
    Command("alerts", "watch", "print alert events as they happen (Ctrl-C ends)", alerts_watch,
            alerts_watch_arguments),
    Command("alerts", "ack", "acknowledge an alert", alerts_ack, alerts_ack_arguments),
    Command("alerts", "unack", "withdraw an acknowledgement", alerts_unack, alerts_unack_arguments),
    Command("alerts", "link-show", "show the alert a signed acknowledgement link names", alerts_link_show,
            with_link_token),
    Command("alerts", "link-ack", "acknowledge through a signed acknowledgement link", alerts_link_ack,
            alerts_link_ack_arguments),
    *resource_commands(CHANNELS),
    Command("channels", "test", "send a test notification now", channels_test, with_id("channel")),
    Command("deliveries", "list", "list deliveries", deliveries_list, deliveries_list_arguments),
    Command("silences", "list", "list silences", silences_list, silences_list_arguments),
    *resource_commands(SILENCES),
    Command("silences", "create", "silence matching alerts from now on", silences_create,
            silences_create_arguments),
    Command("silences", "expire", "end a silence now", silences_expire, with_id("silence", named=False)),
    Command("routes", "get", "show the routing tree (-o yaml for all of it)", routes_get),
    Command("routes", "set", "replace the routing tree with the one in a file", routes_set,
            with_file("the routing tree")),
    Command("routes", "test", "show the receivers an alert with these labels reaches", routes_test,
            routes_test_arguments),
    *resource_commands(INHIBIT_RULES),
    *resource_commands(ESCALATION_POLICIES),
    *resource_commands(TIME_INTERVALS),
    *resource_commands(USERS),
    *resource_commands(SCHEDULES),
    Command("schedules", "overrides", "list a schedule's overrides", schedules_overrides,
            schedules_overrides_arguments),
    Command("schedules", "override", "put someone on call over a time range", schedules_override,
            schedules_override_arguments),
    Command("schedules", "override-delete", "remove an override", schedules_override_delete,
            schedules_override_delete_arguments),
    Command("schedules", "final", "the computed shifts over a time range", schedules_final,
            schedules_final_arguments),
    Command("schedules", "calendar-link", "the secret address of the schedule's iCalendar feed",
            schedules_calendar_link, with_schedule),
    Command("schedules", "calendar-link-reset",
            "a new secret address for the schedule's feed; the links given before stop working",
            schedules_calendar_link_reset, with_schedule),
    Command("schedules", "calendar-feed", "the shifts a calendar link's token reads, over a time range",
            schedules_calendar_feed, schedules_calendar_feed_arguments),
    Command("oncall", "", "who is on call in a schedule now, and who is next", oncall, oncall_arguments),
    Command("metrics", "write", "write the samples of a file", metrics_write,
            with_file('{"samples": [{"name", "labels", "value", "timestamp"}]}')),
    Command("metrics", "query", "evaluate a PromQL expression at one time", metrics_query,
            metrics_query_arguments),
    Command("metrics", "query-range", "evaluate a PromQL expression over a range", metrics_query_range,
            metrics_query_range_arguments),
    Command("metrics", "labels", "list the label names of the stored series", metrics_labels,
            selection_arguments),
    Command("metrics", "label-values", "list the values of one label", metrics_label_values,
            metrics_label_values_arguments),
    Command("metrics", "series", "list the stored series that match", metrics_series, selection_arguments),
    Command("config", "check", "check Alertmanager configuration files, as amtool check-config does",
            config_check, config_check_arguments),
    Command("config", "import", "apply an Alertmanager configuration file", config_import,
            config_import_arguments),
    Command("config", "export", "print what the server holds as an Alertmanager configuration",
            config_export),
    Command("config", "reload", "make the server read its Alertmanager configuration file again",
            config_reload),
    Command("config", "status", "show which Alertmanager configuration is loaded and how its last load went",
            config_status),
    Command("cluster", "", "show the replicas serving the API (* the one that answered) and their leases",
            cluster),
]  # fmt: skip


# The parser


def add_connection_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options every command takes; `defaults=False` lets them also follow the command."""

    def default(value: object) -> object:
        # SUPPRESS keeps a command's unset option from overwriting the value given before the command.
        return value if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("connection and output")

    group.add_argument(
        "--server",
        default=default(os.environ.get("ALERTING_SERVER", DEFAULT_SERVER)),
        help=f"host:port of the gRPC API (env ALERTING_SERVER, default {DEFAULT_SERVER})",
    )
    group.add_argument(
        "--token", default=default(os.environ.get("ALERTING_TOKEN")), help="bearer token (env ALERTING_TOKEN)"
    )
    group.add_argument("--tls", action="store_true", default=default(False), help="connect with TLS")
    group.add_argument(
        "--tls-ca", default=default(None), metavar="FILE", help="CA certificate (PEM); implies --tls"
    )
    group.add_argument(
        "--tls-cert", default=default(None), metavar="FILE", help="client certificate for mTLS"
    )
    group.add_argument("--tls-key", default=default(None), metavar="FILE", help="client private key for mTLS")
    group.add_argument(
        "--tls-server-name", default=default(None), help="name to verify in the server certificate"
    )
    group.add_argument("--timeout", type=float, default=default(10.0), help="seconds per call (default 10)")
    group.add_argument(
        "-o", "--output", choices=["table", "json", "yaml"], default=default("table"), help="output format"
    )


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alertctl", description="Manage and inspect the alerting service.")
    add_connection_options(parser, defaults=True)
    groups = parser.add_subparsers(dest="group", required=True, metavar="GROUP")
    group_parsers: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in commands:
        if not command.name:
            sub = groups.add_parser(command.group, help=command.help, description=command.help)
        else:
            if command.group not in group_parsers:
                group = groups.add_parser(command.group, help=GROUPS.get(command.group, ""))
                group_parsers[command.group] = group.add_subparsers(
                    dest="name", required=True, metavar="COMMAND"
                )
            sub = group_parsers[command.group].add_parser(
                command.name, help=command.help, description=command.help
            )
        command.arguments(sub)
        add_connection_options(sub, defaults=False)
        sub.set_defaults(command=command)
    return parser


def connect(args: argparse.Namespace) -> AlertingClient:
    tls: bool | TLSConfig = bool(args.tls)
    if args.tls_ca or args.tls_cert or args.tls_key or args.tls_server_name:
        tls = TLSConfig(
            server_root_ca_cert=Path(args.tls_ca).read_bytes() if args.tls_ca else None,
            client_cert=Path(args.tls_cert).read_bytes() if args.tls_cert else None,
            client_private_key=Path(args.tls_key).read_bytes() if args.tls_key else None,
            domain=args.tls_server_name,
        )
    return AlertingClient(args.server, tls=tls, token=args.token or None, timeout=args.timeout)


def render(shown: Shown, output: str) -> str:
    if shown.text:
        return shown.text
    document: JSON = shown.resources[0] if shown.single else list(shown.resources)
    if output == "json":
        return json.dumps(document, indent=2, ensure_ascii=False)
    if output == "yaml":
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True).rstrip("\n")
    return table(shown.resources, shown.columns)


def streamed(stream: Iterator[Resource], columns: Sequence[Column], output: str) -> Iterator[str]:
    """One line (a YAML document) per resource as it comes: JSON Lines, or table rows that cannot wait
    to learn the widths of their columns."""
    if output == "table":
        yield "   ".join(c.header for c in columns)
    for resource in stream:
        if output == "json":
            yield json.dumps(resource, ensure_ascii=False)
        elif output == "yaml":
            yield "---\n" + yaml.safe_dump(resource, sort_keys=False, allow_unicode=True).rstrip("\n")
        else:
            yield "   ".join(c.value(resource).ljust(len(c.header)) for c in columns).rstrip()


def table(resources: Sequence[Resource], columns: Sequence[Column]) -> str:
    rows = [[c.header for c in columns]] + [[c.value(r) for c in columns] for r in resources]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "\n".join(
        "   ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command: Command = args.command
    try:
        with connect(args) as client:
            shown = command.run(client, args)
            if shown.stream is None:
                print(render(shown, args.output))
                if shown.exit_code:
                    return shown.exit_code
            else:
                for line in streamed(shown.stream, shown.columns, args.output):
                    print(line, flush=True)
    except AlertingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except yaml.YAMLError as exc:
        print(f"error: not valid YAML: {yamlerrors.describe(exc)}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
