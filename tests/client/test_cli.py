"""alertctl against the fake server: arguments become requests, responses stdout, errors stderr."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pwd
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from alerting import cli
from alerting.cli import COMMANDS, Command, Shown, build_parser, main
from alerting.client import AlertingClient
from alerting.services import SERVICES
from alerting.v1 import ack_service_pb2 as ack_pb
from alerting.v1 import alert_service_pb2 as alert_pb
from alerting.v1 import channel_service_pb2 as channel_pb
from alerting.v1 import cluster_service_pb2 as cluster_pb
from alerting.v1 import config_service_pb2 as config_pb
from alerting.v1 import escalation_policy_service_pb2 as escalation_pb
from alerting.v1 import metrics_service_pb2 as metrics_pb
from alerting.v1 import routing_service_pb2 as routing_pb
from alerting.v1 import rule_service_pb2 as rule_pb
from alerting.v1 import schedule_service_pb2 as schedule_pb
from alerting.v1 import silence_service_pb2 as silence_pb
from alerting.v1 import time_interval_service_pb2 as time_interval_pb
from alerting.v1 import user_service_pb2 as user_pb
from alerting_server.api.errors import to_grpc_status
from alerting_server.errors import FailedPrecondition, PreconditionViolation

from .fakes import FakeAlertingServer, aborting, rejecting

RULES = [
    rule_pb.Rule(
        id="r1",
        name="high_cpu",
        query="avg(cpu_usage) > 80",
        duration=duration_pb2.Duration(seconds=300),
        severity="warning",
        health=rule_pb.RULE_HEALTH_OK,
        created_at=timestamp_pb2.Timestamp(seconds=1696789234, nanos=567_000_000),
    ),
    rule_pb.Rule(id="r2", name="disk_full", query="disk_free < 0.1", severity="critical"),
]
ALERT = alert_pb.Alert(
    fingerprint="5f3c1a",
    rule="high_cpu",
    state=alert_pb.ALERT_STATE_FIRING,
    value=85.5,
    labels={"host": "server01"},
    started_at=timestamp_pb2.Timestamp(seconds=1696789234),
    acknowledged=True,
    ack=alert_pb.Ack(by="alice", comment="looking"),
)


async def alertctl(fake: FakeAlertingServer, *argv: str) -> int:
    return await asyncio.to_thread(main, ["--server", fake.target, *argv])


async def test_rules_list_as_a_table(fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]) -> None:
    fake.respond("ListRules", rule_pb.ListRulesResponse(rules=RULES))
    assert await alertctl(fake, "rules", "list") == 0
    assert capsys.readouterr().out.splitlines() == [
        "ID   NAME        SEVERITY   FOR   HEALTH        QUERY",
        "r1   high_cpu    warning    5m    ok            avg(cpu_usage) > 80",
        "r2   disk_full   critical         unspecified   disk_free < 0.1",
    ]


async def test_rules_list_as_json_in_the_rest_shape(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.respond("ListRules", rule_pb.ListRulesResponse(rules=RULES))
    assert await alertctl(fake, "rules", "list", "-o", "json") == 0
    rules = json.loads(capsys.readouterr().out)
    assert [rule["id"] for rule in rules] == ["r1", "r2"]
    assert rules[0]["duration"] == "5m"
    assert rules[0]["health"] == "ok"
    assert rules[0]["created_at"] == 1696789234567
    assert rules[1]["last_evaluation"] is None


async def test_rules_get_as_yaml(fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]) -> None:
    fake.respond("GetRule", rule_pb.GetRuleResponse(rule=RULES[0]))
    assert await alertctl(fake, "-o", "yaml", "rules", "get", "r1") == 0
    rule = yaml.safe_load(capsys.readouterr().out)
    assert (rule["id"], rule["name"], rule["duration"]) == ("r1", "high_cpu", "5m")
    assert fake.called("GetRule")[0].request == rule_pb.GetRuleRequest(id="r1")


async def test_rules_create_from_a_yaml_file(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "rule.yaml"
    path.write_text(
        "name: high_cpu\nquery: avg(cpu_usage) > 80\nduration: 5m\nseverity: warning\nlabels: {team: infra}\n"
    )
    fake.respond("CreateRule", rule_pb.CreateRuleResponse(rule=RULES[0]))
    assert await alertctl(fake, "rules", "create", "-f", str(path)) == 0
    sent = fake.called("CreateRule")[0].request
    assert sent == rule_pb.CreateRuleRequest(
        rule=rule_pb.Rule(
            name="high_cpu",
            query="avg(cpu_usage) > 80",
            duration=duration_pb2.Duration(seconds=300),
            severity="warning",
            labels={"team": "infra"},
        )
    )
    assert capsys.readouterr().out.splitlines()[1].startswith("r1   high_cpu")


async def test_a_bad_file_fails_before_any_call(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "rule.json"
    path.write_text('{"name": "x", "duration": "5 minutes"}')
    assert await alertctl(fake, "rules", "create", "-f", str(path)) == 1
    captured = capsys.readouterr()
    assert captured.err == "error: duration: not a valid duration string: '5 minutes'\n"
    assert captured.out == ""
    assert fake.calls == []


async def test_rules_apply_imports_the_file_verbatim(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    content = "groups:\n  - name: g\n    rules:\n      - alert: high_cpu\n        expr: cpu > 80\n"
    path = tmp_path / "rules.yaml"
    path.write_text(content)
    fake.respond(
        "ImportRules",
        rule_pb.ImportRulesResponse(rules=RULES[:1], actions=[rule_pb.RULE_IMPORT_ACTION_UNCHANGED]),
    )
    assert await alertctl(fake, "rules", "apply", "-f", str(path), "-o", "json") == 0
    assert fake.called("ImportRules")[0].request == rule_pb.ImportRulesRequest(content=content)
    shown = json.loads(capsys.readouterr().out)
    assert [(rule["name"], rule["action"]) for rule in shown] == [("high_cpu", "unchanged")]
    assert await alertctl(fake, "rules", "apply", "-f", str(path)) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["ACTION", "ID", "NAME"]
    assert row.split()[0] == "unchanged"


async def test_rules_delete(fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert await alertctl(fake, "rules", "delete", "r1") == 0
    assert capsys.readouterr().out == "rule r1 deleted\n"
    assert fake.called("DeleteRule")[0].request == rule_pb.DeleteRuleRequest(id="r1")


async def test_alerts_list_with_filters(fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]) -> None:
    fake.respond("ListAlerts", alert_pb.ListAlertsResponse(alerts=[ALERT]))
    argv = ["alerts", "list", "--state", "firing", "--rule", "high_cpu", "--filter", '{host="server01"}']
    assert await alertctl(fake, *argv) == 0
    assert fake.called("ListAlerts")[0].request == alert_pb.ListAlertsRequest(
        state=alert_pb.ALERT_STATE_FIRING, rule="high_cpu", filter='{host="server01"}'
    )
    assert capsys.readouterr().out.splitlines() == [
        "FINGERPRINT   RULE       STATE    VALUE   STARTED                ACKED BY   LABELS",
        '5f3c1a        high_cpu   firing   85.5    2023-10-08T18:20:34Z   alice      host="server01"',
    ]


async def test_alerts_ack_history_and_unack(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.respond("Acknowledge", ack_pb.AcknowledgeResponse(alert=ALERT))
    fake.respond(
        "ListAlertHistory",
        alert_pb.ListAlertHistoryResponse(
            events=[
                alert_pb.AlertHistoryEvent(type=alert_pb.ALERT_HISTORY_EVENT_TYPE_ACKNOWLEDGED, by="alice")
            ]
        ),
    )
    assert await alertctl(fake, "alerts", "ack", "5f3c1a", "--by", "alice", "--comment", "looking") == 0
    assert await alertctl(fake, "alerts", "history", "5f3c1a", "-o", "json") == 0
    assert await alertctl(fake, "alerts", "unack", "5f3c1a") == 0
    assert [call.request for call in fake.calls] == [
        ack_pb.AcknowledgeRequest(fingerprint="5f3c1a", by="alice", comment="looking"),
        alert_pb.ListAlertHistoryRequest(fingerprint="5f3c1a"),
        ack_pb.UnacknowledgeRequest(fingerprint="5f3c1a"),
    ]
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[-2:] == ["alice", 'host="server01"']
    assert json.loads(out[out.index("[") : out.rindex("]") + 1])[0]["type"] == "acknowledged"


async def test_channels_create_from_json_and_test(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "channel.json"
    path.write_text(json.dumps({"name": "ops", "type": "slack", "config": {"channel": "#alerts"}}))
    created = channel_pb.Channel(id="c1", name="ops", type=channel_pb.CHANNEL_TYPE_SLACK)
    fake.respond("CreateChannel", channel_pb.CreateChannelResponse(channel=created))
    delivery = channel_pb.Delivery(
        id="d1", channel_id="c1", status=channel_pb.DELIVERY_STATUS_FAILED, attempts=1, last_error="HTTP 404"
    )
    fake.respond("TestChannel", channel_pb.TestChannelResponse(delivery=delivery))
    assert await alertctl(fake, "channels", "create", "-f", str(path)) == 0
    assert await alertctl(fake, "channels", "test", "c1") == 0
    config = struct_pb2.Struct()
    config.update({"channel": "#alerts"})
    assert fake.calls[0].request == channel_pb.CreateChannelRequest(
        channel=channel_pb.Channel(name="ops", type=channel_pb.CHANNEL_TYPE_SLACK, config=config)
    )
    assert fake.calls[1].request == channel_pb.TestChannelRequest(id="c1")
    assert capsys.readouterr().out.splitlines() == [
        "ID   NAME   TYPE",
        "c1   ops    slack",
        "ID   CHANNEL   STATUS   ATTEMPTS   LAST ERROR",
        "d1   c1        failed   1          HTTP 404",
    ]


async def test_silences_create_runs_for_the_duration(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["silences", "create", "--matcher", 'host="server01"', "--matcher", 'job=~"node.*"']
    argv += ["--duration", "2h", "--comment", "maintenance", "--created-by", "bob"]
    assert await alertctl(fake, *argv) == 0
    sent = fake.called("CreateSilence")[0].request
    assert isinstance(sent, silence_pb.CreateSilenceRequest)
    assert list(sent.silence.matchers) == ['host="server01"', 'job=~"node.*"']
    assert (sent.silence.comment, sent.silence.created_by) == ("maintenance", "bob")
    assert sent.silence.ends_at.ToMilliseconds() - sent.silence.starts_at.ToMilliseconds() == 2 * 3600 * 1000


async def test_silences_expire(fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert await alertctl(fake, "silences", "expire", "s1") == 0
    assert capsys.readouterr().out == "silence s1 expired\n"
    assert fake.called("ExpireSilence")[0].request == silence_pb.ExpireSilenceRequest(id="s1")


def test_a_bad_duration_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["silences", "create", "--matcher", 'a="b"', "--duration", "2 hours", "--comment", "c"])
    assert exited.value.code == 2
    assert "not a valid duration string" in capsys.readouterr().err


async def test_an_invalid_argument_prints_code_message_and_violations(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fake.unary["CreateRule"] = rejecting(
        "invalid rule", [("rule.query", "unexpected end of input"), ("rule.severity", "must not be empty")]
    )
    path = tmp_path / "rule.yaml"
    path.write_text("name: x\nquery: 'up >'\n")
    assert await alertctl(fake, "rules", "create", "-f", str(path)) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: INVALID_ARGUMENT: invalid rule\n"
        "  rule.query: unexpected end of input\n"
        "  rule.severity: must not be empty\n"
    )


async def test_not_found_exits_1(fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]) -> None:
    fake.unary["GetAlert"] = aborting(grpc.StatusCode.NOT_FOUND, "alert nope not found")
    assert await alertctl(fake, "alerts", "get", "nope") == 1
    assert capsys.readouterr().err == "error: NOT_FOUND: alert nope not found\n"


async def test_server_and_token_come_from_the_environment(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERTING_SERVER", fake.target)
    monkeypatch.setenv("ALERTING_TOKEN", "from-env")
    assert await asyncio.to_thread(main, ["channels", "list"]) == 0
    assert fake.calls[0].metadata["authorization"] == "Bearer from-env"
    assert capsys.readouterr().out == "ID   NAME   TYPE\n"


def test_a_new_command_is_one_more_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALERTING_SERVER", raising=False)

    def routes_show(client: AlertingClient, args: argparse.Namespace) -> Shown:
        return Shown(text=args.label)

    def arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("label")

    extra = Command("routes", "show", "show a route", routes_show, arguments)
    args = build_parser([*COMMANDS, extra]).parse_args(["routes", "show", 'a="b"', "-o", "json"])
    assert args.command is extra
    assert (args.label, args.output, args.server) == ('a="b"', "json", "127.0.0.1:50051")


async def test_routes_test_prints_receivers_as_amtool_does(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    matches = [
        routing_pb.RouteMatch(route_key='{}/{a="b"}', receiver="ops"),
        routing_pb.RouteMatch(receiver="pager"),
    ]
    fake.respond("TestRoutes", routing_pb.TestRoutesResponse(matches=matches))
    assert await alertctl(fake, "routes", "test", "a=b", 'c="d"') == 0
    assert capsys.readouterr().out.strip() == "ops,pager"
    [call] = fake.called("TestRoutes")
    assert call.request == routing_pb.TestRoutesRequest(labels={"a": "b", "c": "d"})
    assert await alertctl(fake, "routes", "test", "nolabel") == 1
    assert "not a label" in capsys.readouterr().err


NOW_MS = 1_696_789_234_567


def _ms(ms: int) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(ms)
    return ts


CLUSTER = cluster_pb.GetClusterResponse(
    replicas=[
        cluster_pb.Replica(
            id="alerting-0",
            address="10.0.0.1:50051",
            http_address="10.0.0.1:8080",
            started_at=_ms(NOW_MS - 3_600_000),
            last_heartbeat=_ms(NOW_MS - 412),
            leases=[
                cluster_pb.Lease(name="pipeline", epoch=3, expires_at=_ms(NOW_MS + 2600)),
                cluster_pb.Lease(name="rules/0", epoch=1, expires_at=_ms(NOW_MS + 2600)),
            ],
        ),
        cluster_pb.Replica(
            id="alerting-1",
            address="10.0.0.2:50051",
            http_address="10.0.0.2:8080",
            started_at=_ms(NOW_MS - 60_000),
            last_heartbeat=_ms(NOW_MS - 61_900),
            leases=[cluster_pb.Lease(name="rules/1", epoch=2, expires_at=_ms(NOW_MS - 58_900))],
            this_replica=True,
        ),
    ]
)


async def test_cluster_shows_each_replica_its_heartbeats_age_and_leases(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The age is by this machine's clock: alertctl's own, not the one grpc's deadlines run on.
    monkeypatch.setattr(cli, "time", SimpleNamespace(time=lambda: NOW_MS / 1000))
    fake.respond("GetCluster", CLUSTER)
    assert await alertctl(fake, "cluster") == 0
    assert capsys.readouterr().out.splitlines() == [
        "ID             ADDRESS          STARTED                LAST HEARTBEAT   LEASES",
        "alerting-0     10.0.0.1:50051   2023-10-08T17:20:34Z   412ms ago        pipeline,rules/0",
        "alerting-1 *   10.0.0.2:50051   2023-10-08T18:19:34Z   1m1s ago         rules/1",
    ]
    assert fake.called("GetCluster")[0].request == cluster_pb.GetClusterRequest()


async def test_cluster_as_json_in_the_rest_shape(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.respond("GetCluster", CLUSTER)
    assert await alertctl(fake, "cluster", "-o", "json") == 0
    first, second = json.loads(capsys.readouterr().out)
    assert first == {
        "id": "alerting-0",
        "address": "10.0.0.1:50051",
        "http_address": "10.0.0.1:8080",
        "started_at": NOW_MS - 3_600_000,
        "last_heartbeat": NOW_MS - 412,
        "leases": [
            {"name": "pipeline", "epoch": 3, "expires_at": NOW_MS + 2600},
            {"name": "rules/0", "epoch": 1, "expires_at": NOW_MS + 2600},
        ],
        "this_replica": False,
    }
    assert (second["id"], second["this_replica"]) == ("alerting-1", True)


def test_cluster_is_a_group_of_one_command(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["cluster", "-o", "yaml"])
    assert (args.command.group, args.output) == ("cluster", "yaml")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["cluster", "list"])
    assert "unrecognized arguments: list" in capsys.readouterr().err


@dataclass(frozen=True)
class Case:
    """One command: its arguments (FILE stands for a file holding `document`), the request it must
    send, the response the fake gives, and a line its output must hold."""

    argv: tuple[str, ...]
    rpc: str
    request: Message
    response: Message | None = None
    out: str = ""
    document: dict[str, Any] | None = None
    stream: tuple[Message, ...] = ()


def _ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


CHANNEL = channel_pb.Channel(id="c1", name="ops", type=channel_pb.CHANNEL_TYPE_SLACK)
SILENCE = silence_pb.Silence(id="s1", matchers=['host="server01"'], created_by="alice", comment="c")
INHIBIT = routing_pb.InhibitRule(id="i1", source_matchers=['severity="critical"'], equal=["host"])
POLICY = escalation_pb.EscalationPolicy(
    id="e1", name="infra", repeat=2, levels=[escalation_pb.EscalationLevel(channels=["ops"])]
)
WEEKDAYS: dict[str, Any] = {"weekdays": ["monday:friday"], "years": [2025]}
TIME_INTERVAL = time_interval_pb.TimeInterval(id="t1", name="business")
TIME_INTERVAL.time_intervals.add().update(WEEKDAYS)
TIME_INTERVAL_DOCUMENT = {"name": "business", "time_intervals": [WEEKDAYS]}
POLICY_DOCUMENT = {"name": "infra", "levels": [{"after": "0s", "channels": ["ops"]}], "repeat": 2}
USER = user_pb.User(id="u1", name="ana", email="ana@example.org", time_zone="UTC")
USER_DOCUMENT = {"name": "ana", "email": "ana@example.org", "time_zone": "UTC"}
SCHEDULE = schedule_pb.Schedule(
    id="s1", name="primary", time_zone="UTC", layers=[schedule_pb.ScheduleLayer()]
)
SCHEDULE_DOCUMENT = {"name": "primary", "time_zone": "UTC", "layers": [{"users": ["ana"]}]}
OVERRIDE = schedule_pb.Override(id="o1", user="u1", start=_ts(1767225600), end=_ts(1767229200))
SERIES = metrics_pb.Series(
    labels={"__name__": "up", "job": "node"}, points=[metrics_pb.Point(timestamp_ms=1696789234000, value=1)]
)


CASES = [
    # Names go to the server as they are: it finds a channel, a policy or a rule by id or name.
    Case(("rules", "get", "high_cpu"), "GetRule", rule_pb.GetRuleRequest(id="high_cpu"),
         rule_pb.GetRuleResponse(rule=RULES[0]), "r1   high_cpu"),
    Case(("rules", "update", "high_cpu", "-f", "FILE"), "UpdateRule",
         rule_pb.UpdateRuleRequest(id="high_cpu", rule=rule_pb.Rule(name="high_cpu", query="up == 0")),
         rule_pb.UpdateRuleResponse(rule=RULES[0]), "r1   high_cpu",
         document={"name": "high_cpu", "query": "up == 0"}),
    Case(("channels", "get", "ops"), "GetChannel", channel_pb.GetChannelRequest(id="ops"),
         channel_pb.GetChannelResponse(channel=CHANNEL), "c1   ops    slack"),
    Case(("channels", "update", "ops", "-f", "FILE"), "UpdateChannel",
         channel_pb.UpdateChannelRequest(
             id="ops", channel=channel_pb.Channel(name="ops", type=channel_pb.CHANNEL_TYPE_SLACK)
         ),
         channel_pb.UpdateChannelResponse(channel=CHANNEL), "c1   ops    slack",
         document={"name": "ops", "type": "slack"}),
    Case(("channels", "delete", "ops"), "DeleteChannel", channel_pb.DeleteChannelRequest(id="ops"),
         out="channel ops deleted"),
    Case(("channels", "test", "ops"), "TestChannel", channel_pb.TestChannelRequest(id="ops"),
         channel_pb.TestChannelResponse(delivery=channel_pb.Delivery(id="d1", channel_id="c1")), "d1   c1"),
    Case(("deliveries", "list", "--channel", "ops", "--status", "failed"), "ListDeliveries",
         channel_pb.ListDeliveriesRequest(channel_id="ops", status=channel_pb.DELIVERY_STATUS_FAILED),
         channel_pb.ListDeliveriesResponse(
             deliveries=[
                 channel_pb.Delivery(id="d1", channel_id="c1", status=channel_pb.DELIVERY_STATUS_FAILED)
             ]
         ), "d1   c1        failed"),
    Case(("deliveries", "list", "--newest-first"), "ListDeliveries",
         channel_pb.ListDeliveriesRequest(newest_first=True),
         channel_pb.ListDeliveriesResponse(deliveries=[channel_pb.Delivery(id="d2", channel_id="c1")]),
         "d2   c1"),
    Case(("alerts", "create", "alertname=Test", 'host="server01"', "--annotation", "summary=down"),
         "CreateAlerts",
         alert_pb.CreateAlertsRequest(
             alerts=[
                 alert_pb.PostableAlert(
                     labels={"alertname": "Test", "host": "server01"}, annotations={"summary": "down"}
                 )
             ]
         ),
         alert_pb.CreateAlertsResponse(fingerprints=["fp1"]), "fp1"),
    Case(("alerts", "groups"), "ListAlertGroups", alert_pb.ListAlertGroupsRequest(),
         alert_pb.ListAlertGroupsResponse(
             groups=[alert_pb.AlertGroup(route="{}", receiver="ops", labels={"a": "b"}, alerts=[ALERT])]
         ), '{}      ops        a="b"    1'),
    Case(("alerts", "watch", "--state", "firing", "--filter", '{host="server01"}', "--since-revision", "7"),
         "WatchAlerts",
         alert_pb.WatchAlertsRequest(
             filter='{host="server01"}', states=[alert_pb.ALERT_STATE_FIRING], since_revision=7
         ),
         out='8          acknowledged   5f3c1a        firing   host="server01"',
         stream=(
             alert_pb.WatchAlertsResponse(
                 type=alert_pb.ALERT_EVENT_TYPE_ACKNOWLEDGED, alert=ALERT, revision=8
             ),
         )),
    Case(("alerts", "link-show", "tok"), "GetAckToken", ack_pb.GetAckTokenRequest(token="tok"),
         ack_pb.GetAckTokenResponse(alert=ALERT, expires_at=_ts(1696792834)),
         "5f3c1a        firing   alice      2023-10-08T19:20:34Z"),
    Case(("alerts", "link-ack", "tok", "--by", "bob"), "AcknowledgeByToken",
         ack_pb.AcknowledgeByTokenRequest(token="tok", by="bob"),
         ack_pb.AcknowledgeByTokenResponse(alert=ALERT), "5f3c1a"),
    Case(("silences", "list", "--state", "active"), "ListSilences",
         silence_pb.ListSilencesRequest(state=silence_pb.SILENCE_STATE_ACTIVE),
         silence_pb.ListSilencesResponse(silences=[SILENCE]), "s1"),
    Case(("silences", "get", "s1"), "GetSilence", silence_pb.GetSilenceRequest(id="s1"),
         silence_pb.GetSilenceResponse(silence=SILENCE), 'host="server01"'),
    Case(("silences", "update", "s1", "-f", "FILE"), "UpdateSilence",
         silence_pb.UpdateSilenceRequest(
             id="s1",
             silence=silence_pb.Silence(
                 matchers=['host="server01"'], ends_at=_ts(4102444800), created_by="alice", comment="c"
             ),
         ),
         silence_pb.UpdateSilenceResponse(silence=SILENCE), "s1",
         document={"matchers": ['host="server01"'], "ends_at": 4102444800000, "created_by": "alice",
                   "comment": "c"}),
    Case(("routes", "get"), "GetRouting", routing_pb.GetRoutingRequest(),
         routing_pb.GetRoutingResponse(
             route=routing_pb.Route(receiver="ops", group_by=["alertname"], routes=[routing_pb.Route()])
         ), "ops        alertname                       1"),
    Case(("routes", "set", "-f", "FILE"), "UpdateRouting",
         routing_pb.UpdateRoutingRequest(
             route=routing_pb.Route(
                 receiver="ops",
                 routes=[routing_pb.Route(matchers=['team="infra"'], escalation_policy_id="infra")],
             )
         ),
         routing_pb.UpdateRoutingResponse(route=routing_pb.Route(receiver="ops")), "ops",
         document={"receiver": "ops",
                   "routes": [{"matchers": ['team="infra"'], "escalation_policy_id": "infra"}]}),
    Case(("inhibit-rules", "list"), "ListInhibitRules", routing_pb.ListInhibitRulesRequest(),
         routing_pb.ListInhibitRulesResponse(inhibit_rules=[INHIBIT]), 'i1   severity="critical"'),
    Case(("inhibit-rules", "get", "i1"), "GetInhibitRule", routing_pb.GetInhibitRuleRequest(id="i1"),
         routing_pb.GetInhibitRuleResponse(inhibit_rule=INHIBIT), "host"),
    Case(("inhibit-rules", "create", "-f", "FILE"), "CreateInhibitRule",
         routing_pb.CreateInhibitRuleRequest(
             inhibit_rule=routing_pb.InhibitRule(source_matchers=['severity="critical"'], equal=["host"])
         ),
         routing_pb.CreateInhibitRuleResponse(inhibit_rule=INHIBIT), "i1",
         document={"source_matchers": ['severity="critical"'], "equal": ["host"]}),
    Case(("inhibit-rules", "delete", "i1"), "DeleteInhibitRule", routing_pb.DeleteInhibitRuleRequest(id="i1"),
         out="inhibit rule i1 deleted"),
    Case(("escalation-policies", "list"), "ListEscalationPolicies",
         escalation_pb.ListEscalationPoliciesRequest(),
         escalation_pb.ListEscalationPoliciesResponse(escalation_policies=[POLICY]),
         "e1   infra   1        2"),
    Case(("escalation-policies", "get", "infra"), "GetEscalationPolicy",
         escalation_pb.GetEscalationPolicyRequest(id="infra"),
         escalation_pb.GetEscalationPolicyResponse(escalation_policy=POLICY), "e1   infra"),
    Case(("escalation-policies", "create", "-f", "FILE"), "CreateEscalationPolicy",
         escalation_pb.CreateEscalationPolicyRequest(
             escalation_policy=escalation_pb.EscalationPolicy(
                 name="infra",
                 levels=[escalation_pb.EscalationLevel(after=duration_pb2.Duration(), channels=["ops"])],
                 repeat=2,
             )
         ),
         escalation_pb.CreateEscalationPolicyResponse(escalation_policy=POLICY), "e1   infra",
         document=POLICY_DOCUMENT),
    Case(("escalation-policies", "update", "infra", "-f", "FILE"), "UpdateEscalationPolicy",
         escalation_pb.UpdateEscalationPolicyRequest(
             id="infra",
             escalation_policy=escalation_pb.EscalationPolicy(
                 name="infra",
                 levels=[escalation_pb.EscalationLevel(after=duration_pb2.Duration(), channels=["ops"])],
                 repeat=2,
             ),
         ),
         escalation_pb.UpdateEscalationPolicyResponse(escalation_policy=POLICY), "e1   infra",
         document=POLICY_DOCUMENT),
    Case(("escalation-policies", "delete", "infra"), "DeleteEscalationPolicy",
         escalation_pb.DeleteEscalationPolicyRequest(id="infra"), out="escalation policy infra deleted"),
    Case(("time-intervals", "list"), "ListTimeIntervals", time_interval_pb.ListTimeIntervalsRequest(),
         time_interval_pb.ListTimeIntervalsResponse(time_intervals=[TIME_INTERVAL]), "t1   business   1"),
    Case(("time-intervals", "get", "business"), "GetTimeInterval",
         time_interval_pb.GetTimeIntervalRequest(id="business"),
         time_interval_pb.GetTimeIntervalResponse(time_interval=TIME_INTERVAL), "t1   business"),
    Case(("time-intervals", "create", "-f", "FILE"), "CreateTimeInterval",
         time_interval_pb.CreateTimeIntervalRequest(
             time_interval=time_interval_pb.TimeInterval(
                 name="business", time_intervals=TIME_INTERVAL.time_intervals
             )
         ),
         time_interval_pb.CreateTimeIntervalResponse(time_interval=TIME_INTERVAL), "t1   business",
         document=TIME_INTERVAL_DOCUMENT),
    Case(("time-intervals", "update", "business", "-f", "FILE"), "UpdateTimeInterval",
         time_interval_pb.UpdateTimeIntervalRequest(
             id="business",
             time_interval=time_interval_pb.TimeInterval(
                 name="business", time_intervals=TIME_INTERVAL.time_intervals
             ),
         ),
         time_interval_pb.UpdateTimeIntervalResponse(time_interval=TIME_INTERVAL), "t1   business",
         document=TIME_INTERVAL_DOCUMENT),
    Case(("time-intervals", "delete", "business"), "DeleteTimeInterval",
         time_interval_pb.DeleteTimeIntervalRequest(id="business"), out="time interval business deleted"),
    Case(("users", "list"), "ListUsers", user_pb.ListUsersRequest(), user_pb.ListUsersResponse(users=[USER]),
         "u1   ana    ana@example.org   UTC"),
    Case(("users", "get", "ana"), "GetUser", user_pb.GetUserRequest(id="ana"),
         user_pb.GetUserResponse(user=USER), "u1   ana"),
    Case(("users", "create", "-f", "FILE"), "CreateUser",
         user_pb.CreateUserRequest(user=user_pb.User(name="ana", email="ana@example.org", time_zone="UTC")),
         user_pb.CreateUserResponse(user=USER), "u1   ana", document=USER_DOCUMENT),
    Case(("users", "update", "ana", "-f", "FILE"), "UpdateUser",
         user_pb.UpdateUserRequest(
             id="ana", user=user_pb.User(name="ana", email="ana@example.org", time_zone="UTC")
         ),
         user_pb.UpdateUserResponse(user=USER), "u1   ana", document=USER_DOCUMENT),
    Case(("users", "delete", "ana"), "DeleteUser", user_pb.DeleteUserRequest(id="ana"),
         out="user ana deleted"),
    Case(("schedules", "list"), "ListSchedules", schedule_pb.ListSchedulesRequest(),
         schedule_pb.ListSchedulesResponse(schedules=[SCHEDULE]), "s1   primary   UTC         1"),
    Case(("schedules", "get", "primary"), "GetSchedule", schedule_pb.GetScheduleRequest(id="primary"),
         schedule_pb.GetScheduleResponse(schedule=SCHEDULE), "s1   primary"),
    Case(("schedules", "create", "-f", "FILE"), "CreateSchedule",
         schedule_pb.CreateScheduleRequest(
             schedule=schedule_pb.Schedule(
                 name="primary", time_zone="UTC", layers=[schedule_pb.ScheduleLayer(users=["ana"])]
             )
         ),
         schedule_pb.CreateScheduleResponse(schedule=SCHEDULE), "s1   primary", document=SCHEDULE_DOCUMENT),
    Case(("schedules", "update", "primary", "-f", "FILE"), "UpdateSchedule",
         schedule_pb.UpdateScheduleRequest(
             id="primary",
             schedule=schedule_pb.Schedule(
                 name="primary", time_zone="UTC", layers=[schedule_pb.ScheduleLayer(users=["ana"])]
             ),
         ),
         schedule_pb.UpdateScheduleResponse(schedule=SCHEDULE), "s1   primary",
         document=SCHEDULE_DOCUMENT),
    Case(("schedules", "delete", "primary"), "DeleteSchedule",
         schedule_pb.DeleteScheduleRequest(id="primary"), out="schedule primary deleted"),
    Case(("schedules", "override", "primary", "--user", "ana", "--start", "2026-01-01T00:00:00Z",
          "--end", "1767229200"), "CreateOverride",
         schedule_pb.CreateOverrideRequest(
             schedule_id="primary",
             override=schedule_pb.Override(user="ana", start=_ts(1767225600), end=_ts(1767229200)),
         ),
         schedule_pb.CreateOverrideResponse(override=OVERRIDE),
         "o1   u1     2026-01-01T00:00:00Z   2026-01-01T01:00:00Z"),
    Case(("schedules", "overrides", "primary", "--start", "1767225600"), "ListOverrides",
         schedule_pb.ListOverridesRequest(schedule_id="primary", start=_ts(1767225600)),
         schedule_pb.ListOverridesResponse(overrides=[OVERRIDE]), "o1   u1"),
    Case(("schedules", "override-delete", "primary", "o1"), "DeleteOverride",
         schedule_pb.DeleteOverrideRequest(schedule_id="primary", id="o1"), out="override o1 deleted"),
    Case(("schedules", "final", "primary", "--start", "1767225600", "--end", "1767229200"),
         "GetFinalSchedule",
         schedule_pb.GetFinalScheduleRequest(id="primary", start=_ts(1767225600), end=_ts(1767229200)),
         schedule_pb.GetFinalScheduleResponse(
             shifts=[
                 schedule_pb.Shift(user="u1", user_name="ana", start=_ts(1767225600), end=_ts(1767229200))
             ]
         ),
         "ana    2026-01-01T00:00:00Z   2026-01-01T01:00:00Z"),
    Case(("schedules", "calendar-link", "primary"), "GetCalendarLink",
         schedule_pb.GetCalendarLinkRequest(id="primary"),
         schedule_pb.GetCalendarLinkResponse(url="http://a/calendar/cal1.s1.x.ics", token="cal1.s1.x"),
         "http://a/calendar/cal1.s1.x.ics"),
    Case(("schedules", "calendar-link-reset", "primary"), "ResetCalendarLink",
         schedule_pb.ResetCalendarLinkRequest(id="primary"),
         schedule_pb.ResetCalendarLinkResponse(url="http://a/calendar/cal2.1.s1.y.ics", token="cal2.1.s1.y"),
         "http://a/calendar/cal2.1.s1.y.ics"),
    Case(("schedules", "calendar-feed", "cal1.s1.x", "--start", "1767225600", "--end", "1767229200"),
         "GetCalendarFeed",
         schedule_pb.GetCalendarFeedRequest(token="cal1.s1.x", start=_ts(1767225600), end=_ts(1767229200)),
         schedule_pb.GetCalendarFeedResponse(
             shifts=[
                 schedule_pb.Shift(user="u1", user_name="ana", start=_ts(1767225600), end=_ts(1767229200))
             ]
         ),
         "ana    2026-01-01T00:00:00Z   2026-01-01T01:00:00Z"),
    # Nobody changes: nothing next, one call.
    Case(("oncall", "primary"), "GetOnCall", schedule_pb.GetOnCallRequest(id="primary"),
         schedule_pb.GetOnCallResponse(users=[schedule_pb.OnCallUser(id="u1", name="ana")]), "now   ana"),
    Case(("metrics", "write", "-f", "FILE"), "Write",
         metrics_pb.WriteRequest(
             samples=[
                 metrics_pb.Sample(name="up", labels={"job": "node"}, value=1, timestamp=_ts(1696789234))
             ]
         ),
         metrics_pb.WriteResponse(accepted=1), "1 accepted, 0 rejected",
         document={"samples": [{"name": "up", "labels": {"job": "node"}, "value": 1,
                                "timestamp": 1696789234000}]}),
    Case(("metrics", "query", "up", "--time", "1696789234"), "Query",
         metrics_pb.QueryRequest(query="up", time=_ts(1696789234)),
         metrics_pb.QueryResponse(result_type=metrics_pb.RESULT_TYPE_VECTOR, series=[SERIES]),
         '__name__="up",job="node"   1.0 @2023-10-08T18:20:34Z'),
    Case(("metrics", "labels", "--match", "up", "--limit", "2"), "ListLabelNames",
         metrics_pb.ListLabelNamesRequest(selection=metrics_pb.SeriesSelection(match=["up"], limit=2)),
         metrics_pb.ListLabelNamesResponse(names=["__name__", "job"]), "job"),
    Case(("metrics", "label-values", "job", "--start", "1696789234"), "ListLabelValues",
         metrics_pb.ListLabelValuesRequest(
             name="job", selection=metrics_pb.SeriesSelection(start=_ts(1696789234))
         ),
         metrics_pb.ListLabelValuesResponse(values=["api", "node"]), "node"),
    Case(("metrics", "series", "--match", 'up{job="node"}'), "ListSeries",
         metrics_pb.ListSeriesRequest(selection=metrics_pb.SeriesSelection(match=['up{job="node"}'])),
         metrics_pb.ListSeriesResponse(
             series=[metrics_pb.LabelSet(labels={"__name__": "up", "job": "node"})]
         ), '__name__="up",job="node"'),
    Case(("metrics", "query-range", "up", "--start", "2023-10-08T18:20:34Z", "--end", "1696792834",
          "--step", "1m"), "QueryRange",
         metrics_pb.QueryRangeRequest(
             query="up", start=_ts(1696789234), end=_ts(1696792834), step=duration_pb2.Duration(seconds=60)
         ),
         metrics_pb.QueryRangeResponse(result_type=metrics_pb.RESULT_TYPE_MATRIX, series=[SERIES]),
         '__name__="up",job="node"'),
    Case(("config", "check", "FILE"), "CheckConfig",
         config_pb.CheckConfigRequest(content=yaml.safe_dump({"route": {"receiver": "a"}})),
         config_pb.CheckConfigResponse(
             valid=True, summary=config_pb.ConfigSummary(route=True, receivers=1, channels=["a"])
         ),
         " - 1 channels: a", document={"route": {"receiver": "a"}}),
    Case(("config", "import", "FILE", "--name", "am.yml"), "ImportConfig",
         config_pb.ImportConfigRequest(content=yaml.safe_dump({"route": {"receiver": "a"}}), name="am.yml"),
         config_pb.ImportConfigResponse(
             summary=config_pb.ConfigSummary(receivers=1, channels=["a"]), created_channels=["a"]
         ),
         "imported am.yml: 1 receivers, 1 channels (1 new, 0 changed, 0 removed)",
         document={"route": {"receiver": "a"}}),
    Case(("config", "export"), "ExportConfig", config_pb.ExportConfigRequest(),
         config_pb.ExportConfigResponse(content="route:\n  receiver: a\n"), "  receiver: a"),
    Case(("config", "reload"), "ReloadConfig", config_pb.ReloadConfigRequest(),
         config_pb.ReloadConfigResponse(summary=config_pb.ConfigSummary(receivers=2, channels=["a"])),
         "reloaded: 2 receivers, 1 channels"),
    Case(("config", "status"), "GetConfigStatus", config_pb.GetConfigStatusRequest(),
         config_pb.GetConfigStatusResponse(
             source="/etc/am.yml", attempted_at=_ts(1696789234), error="line 3: route: bad"
         ),
         "last attempt: 2023-10-08T18:20:34Z failed: line 3: route: bad"),
]  # fmt: skip
# What the tests above send.
COVERED_ABOVE = {
    "ListRules", "CreateRule", "ImportRules", "DeleteRule", "ExportRules", "ListAlerts", "GetAlert",
    "ListAlertHistory", "Acknowledge", "Unacknowledge", "ListChannels", "CreateChannel", "CreateSilence",
    "ExpireSilence", "TestRoutes", "GetCluster",
}  # fmt: skip


def test_alertctl_reaches_every_rpc() -> None:
    every_rpc = {method.name for service in SERVICES for method in service.methods}
    assert {case.rpc for case in CASES} | COVERED_ABOVE == every_rpc


@pytest.mark.parametrize("case", CASES, ids=lambda case: " ".join(case.argv[:2]))
async def test_command(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str], tmp_path: Path, case: Case
) -> None:
    if case.response is not None:
        fake.respond(case.rpc, case.response)
    if case.stream:
        events = case.stream

        async def stream(request: Message, context: object) -> AsyncIterator[Message]:
            for event in events:
                yield event

        fake.streams[case.rpc] = stream
    path = tmp_path / "document.yaml"
    path.write_text(yaml.safe_dump(case.document))
    argv = [str(path) if arg == "FILE" else arg for arg in case.argv]
    assert await alertctl(fake, *argv) == 0, capsys.readouterr().err
    [call] = fake.called(case.rpc)
    assert call.request == case.request
    assert case.out in capsys.readouterr().out.splitlines()[-1]


async def test_a_stream_prints_json_lines(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    async def stream(request: Message, context: object) -> AsyncIterator[Message]:
        for revision in (1, 2):
            yield alert_pb.WatchAlertsResponse(
                type=alert_pb.ALERT_EVENT_TYPE_SNAPSHOT, alert=ALERT, revision=revision
            )

    fake.streams["WatchAlerts"] = stream
    assert await alertctl(fake, "alerts", "watch", "-o", "json") == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["revision"], e["type"], e["alert"]["fingerprint"]) for e in events] == [
        (1, "snapshot", "5f3c1a"),
        (2, "snapshot", "5f3c1a"),
    ]


async def test_silences_create_without_user_is_by_the_login_name(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # As in a container or CI job: no variable names the user; the password database does.
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    login = pwd.getpwuid(os.getuid()).pw_name
    fake.respond(
        "CreateSilence", silence_pb.CreateSilenceResponse(silence=silence_pb.Silence(created_by=login))
    )
    argv = ["silences", "create", "--matcher", 'host="server01"', "--duration", "1h", "--comment", "c"]
    assert await alertctl(fake, *argv) == 0
    sent = fake.called("CreateSilence")[0].request
    assert isinstance(sent, silence_pb.CreateSilenceRequest)
    assert sent.silence.created_by == login
    assert f"created_by: {login} (your login name" in capsys.readouterr().err


async def test_delete_in_use_names_the_users_and_cascade_is_asked_for(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    in_use = FailedPrecondition(
        "channel 'ops-slack' is in use",
        [
            PreconditionViolation(
                "route", "routing.routes[0].receiver", 'route {team="db"} (routes[0]) sends to it'
            )
        ],
    )

    async def delete(request: Message, context: grpc.aio.ServicerContext[Message, Message]) -> Message:
        assert isinstance(request, channel_pb.DeleteChannelRequest)
        if not request.cascade:
            # The server's own mapping of the error to a rich status.
            await context.abort_with_status(to_grpc_status(in_use))  # type: ignore[attr-defined]
        return channel_pb.DeleteChannelResponse()

    fake.unary["DeleteChannel"] = delete
    assert await alertctl(fake, "channels", "delete", "c1") == 1
    assert capsys.readouterr().err == (
        "error: FAILED_PRECONDITION: channel 'ops-slack' is in use\n"
        '  routing.routes[0].receiver: route {team="db"} (routes[0]) sends to it\n'
    )
    assert await alertctl(fake, "channels", "delete", "--cascade", "c1") == 0
    assert capsys.readouterr().out == "channel c1 deleted\n"
    assert await alertctl(fake, "escalation-policies", "delete", "p1", "--cascade") == 0
    assert capsys.readouterr().out == "escalation policy p1 deleted\n"
    [request] = [c.request for c in fake.called("DeleteEscalationPolicy")]
    assert isinstance(request, escalation_pb.DeleteEscalationPolicyRequest)
    assert (request.id, request.cascade) == ("p1", True)


async def test_oncall_shows_who_is_on_call_now_and_who_is_next(
    fake: FakeAlertingServer, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = {
        0: schedule_pb.GetOnCallResponse(
            users=[schedule_pb.OnCallUser(id="u1", name="ana")], until=_ts(1767258000)
        ),
        1767258000000: schedule_pb.GetOnCallResponse(until=_ts(1767261600)),
    }

    async def handler(request: Message, context: object) -> Message:
        assert isinstance(request, schedule_pb.GetOnCallRequest)
        return answers[request.at.ToMilliseconds() if request.HasField("at") else 0]

    fake.unary["GetOnCall"] = handler
    assert await alertctl(fake, "oncall", "primary") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["now", "ana", "2026-01-01T09:00:00Z"]
    assert lines[2].split() == ["next", "(nobody)", "2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z"]
