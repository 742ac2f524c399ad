"""alertctl against the fake server: arguments become requests, responses stdout, errors stderr."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2
from google.protobuf.message import Message

from alerting.cli import COMMANDS, Command, Shown, build_parser, main
from alerting.client import AlertingClient
from alerting.v1 import ack_service_pb2 as ack_pb
from alerting.v1 import alert_service_pb2 as alert_pb
from alerting.v1 import channel_service_pb2 as channel_pb
from alerting.v1 import escalation_policy_service_pb2 as escalation_pb
from alerting.v1 import routing_service_pb2 as routing_pb
from alerting.v1 import rule_service_pb2 as rule_pb
from alerting.v1 import silence_service_pb2 as silence_pb
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
    fake.respond("ImportRules", rule_pb.ImportRulesResponse(rules=RULES[:1]))
    assert await alertctl(fake, "rules", "apply", "-f", str(path), "-o", "json") == 0
    assert fake.called("ImportRules")[0].request == rule_pb.ImportRulesRequest(content=content)
    assert [rule["name"] for rule in json.loads(capsys.readouterr().out)] == ["high_cpu"]


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
