"""alertctl: the command line of the alerting service, over the typed gRPC client.

    alertctl [--server HOST:PORT] [--token T] [--tls] [-o table|json|yaml] GROUP COMMAND [ARGS]

Each command is one row of COMMANDS (group, name, arguments, run); adding one, e.g. `routes test`,
is one more row. Resources print in the REST contract's JSON shape (alerting.client.convert):
as a table, or as JSON/YAML documents. A failed call prints its code, message and field
violations on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from google.protobuf.message import Message

from alerting.client import AlertingClient, AlertingError, TLSConfig
from alerting.client.convert import JSON, dict_to_message, enum_choices, enum_number, message_to_dict
from alerting.durations import parse_duration
from alerting.v1 import alert_service_pb2 as alert_pb
from alerting.v1 import channel_service_pb2 as channel_pb
from alerting.v1 import rule_service_pb2 as rule_pb
from alerting.v1 import silence_service_pb2 as silence_pb

DEFAULT_SERVER = "127.0.0.1:50051"
Resource = dict[str, JSON]


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Resource], str]


@dataclass(frozen=True)
class Shown:
    """What a command prints: resources (one, or a list) with their table columns, or a line of text."""

    resources: list[Resource] = field(default_factory=list)
    columns: Sequence[Column] = ()
    single: bool = False
    text: str = ""


def no_arguments(parser: argparse.ArgumentParser) -> None:
    pass


@dataclass(frozen=True)
class Command:
    group: str
    name: str
    help: str
    run: Callable[[AlertingClient, argparse.Namespace], Shown]
    arguments: Callable[[argparse.ArgumentParser], None] = no_arguments


GROUPS = {
    "rules": "alerting and recording rules",
    "alerts": "alerts, their history and acknowledgement",
    "channels": "notification channels",
    "silences": "silences",
    "escalation-policies": "escalation policies",
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


def with_id(what: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("id", help=f"the {what}'s id")

    return add


def with_fingerprint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("fingerprint", help="the alert's fingerprint")


def with_file(what: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("-f", "--file", required=True, help=f"{what} (JSON or YAML; - for stdin)")

    return add


# rules


def rules_list(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return many(client.iter_rules(), RULE_COLUMNS)


def rules_get(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.get_rule(args.id), RULE_COLUMNS)


def rules_create(client: AlertingClient, args: argparse.Namespace) -> Shown:
    rule = dict_to_message(read_document(args.file), rule_pb.Rule)
    return one(client.create_rule(rule), RULE_COLUMNS)


def rules_delete(client: AlertingClient, args: argparse.Namespace) -> Shown:
    client.delete_rule(args.id)
    return done(f"rule {args.id} deleted")


def rules_apply(client: AlertingClient, args: argparse.Namespace) -> Shown:
    content = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
    return many(client.import_rules(content), RULE_COLUMNS)


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


# channels


def channels_list(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return many(client.iter_channels(), CHANNEL_COLUMNS)


def channels_get(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.get_channel(args.id), CHANNEL_COLUMNS)


def channels_create(client: AlertingClient, args: argparse.Namespace) -> Shown:
    channel = dict_to_message(read_document(args.file), channel_pb.Channel)
    return one(client.create_channel(channel), CHANNEL_COLUMNS)


def delete_arguments(what: str, users: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        with_id(what)(parser)
        parser.add_argument(
            "--cascade",
            action="store_true",
            help=f"also remove its uses by {users} (without: refused while it is in use, naming them)",
        )

    return add


def channels_delete(client: AlertingClient, args: argparse.Namespace) -> Shown:
    client.delete_channel(args.id, cascade=args.cascade)
    return done(f"channel {args.id} deleted")


def channels_test(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.test_channel(args.id), DELIVERY_COLUMNS)


# escalation policies


def escalation_policies_delete(client: AlertingClient, args: argparse.Namespace) -> Shown:
    client.delete_escalation_policy(args.id, cascade=args.cascade)
    return done(f"escalation policy {args.id} deleted")


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


def silences_get(client: AlertingClient, args: argparse.Namespace) -> Shown:
    return one(client.get_silence(args.id), SILENCE_COLUMNS)


def silences_create_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--matcher",
        action="append",
        required=True,
        help="a label matcher, e.g. 'host=\"server01\"'; repeatable",
    )
    parser.add_argument("--duration", type=duration_ms, required=True, help="how long from now, e.g. 2h")
    parser.add_argument("--comment", required=True, help="why")
    parser.add_argument("--created-by", default=os.environ.get("USER", ""), help="who (default: $USER)")


def silences_create(client: AlertingClient, args: argparse.Namespace) -> Shown:
    now_ms = int(time.time() * 1000)
    silence = silence_pb.Silence(matchers=args.matcher, created_by=args.created_by, comment=args.comment)
    silence.starts_at.FromMilliseconds(now_ms)
    silence.ends_at.FromMilliseconds(now_ms + args.duration)
    return one(client.create_silence(silence), SILENCE_COLUMNS)


def silences_expire(client: AlertingClient, args: argparse.Namespace) -> Shown:
    client.expire_silence(args.id)
    return done(f"silence {args.id} expired")


# routes


def routes_test_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", nargs="+", metavar="NAME=VALUE", help="the labels of an alert")


def routes_test(client: AlertingClient, args: argparse.Namespace) -> Shown:
    labels: dict[str, str] = {}
    for pair in args.labels:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"not a label: {pair!r}; expected NAME=VALUE")
        labels[name] = value.strip('"')
    matches = client.test_routes(labels)
    if args.output == "table":
        # As amtool config routes test: the receivers, comma-separated.
        return done(",".join(m.receiver for m in matches))
    return many(matches, ROUTE_COLUMNS)


COMMANDS: list[Command] = [
    Command("rules", "list", "list every rule", rules_list),
    Command("rules", "get", "show one rule", rules_get, with_id("rule")),
    Command("rules", "create", "create a rule from a file", rules_create, with_file("the rule")),
    Command("rules", "delete", "delete a rule; its alerts resolve", rules_delete, with_id("rule")),
    Command("rules", "apply", "create or replace the rules of a Prometheus rule file", rules_apply,
            with_file("a Prometheus rule file")),
    Command("rules", "export", "print every rule as a Prometheus rule file", rules_export),
    Command("alerts", "list", "list alerts", alerts_list, alerts_list_arguments),
    Command("alerts", "get", "show one alert", alerts_get, with_fingerprint),
    Command("alerts", "history", "show what happened to an alert", alerts_history, with_fingerprint),
    Command("alerts", "ack", "acknowledge an alert", alerts_ack, alerts_ack_arguments),
    Command("alerts", "unack", "withdraw an acknowledgement", alerts_unack, alerts_unack_arguments),
    Command("channels", "list", "list every channel", channels_list),
    Command("channels", "get", "show one channel", channels_get, with_id("channel")),
    Command("channels", "create", "create a channel from a file", channels_create, with_file("the channel")),
    Command("channels", "delete", "delete a channel", channels_delete,
            delete_arguments("channel", "routes and escalation levels")),
    Command("channels", "test", "send a test notification now", channels_test, with_id("channel")),
    Command("escalation-policies", "delete", "delete an escalation policy", escalation_policies_delete,
            delete_arguments("escalation policy", "routes and rules")),
    Command("silences", "list", "list silences", silences_list, silences_list_arguments),
    Command("silences", "get", "show one silence", silences_get, with_id("silence")),
    Command("silences", "create", "silence matching alerts from now on", silences_create,
            silences_create_arguments),
    Command("silences", "expire", "end a silence now", silences_expire, with_id("silence")),
    Command("routes", "test", "show the receivers an alert with these labels reaches", routes_test,
            routes_test_arguments),
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
        if command.group not in group_parsers:
            group = groups.add_parser(command.group, help=GROUPS.get(command.group, ""))
            group_parsers[command.group] = group.add_subparsers(dest="name", required=True, metavar="COMMAND")
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
        print(render(shown, args.output))
    except AlertingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
