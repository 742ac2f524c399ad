"""Each client method sends the right request to the right RPC and unwraps the response."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.message import Message

from alerting.client import AlertingClient, AsyncAlertingClient
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

from .fakes import FakeAlertingServer

RULE = rule_pb.Rule(id="r1", name="high_cpu", query="avg(cpu_usage) > 80")
ALERT = alert_pb.Alert(fingerprint="fp1", rule="high_cpu", state=alert_pb.ALERT_STATE_FIRING)
EVENT = alert_pb.AlertHistoryEvent(id="h1", type=alert_pb.ALERT_HISTORY_EVENT_TYPE_STATE_CHANGE)
GROUP = alert_pb.AlertGroup(route="root", receiver="ops", alerts=[ALERT])
CHANNEL = channel_pb.Channel(id="c1", name="ops", type=channel_pb.CHANNEL_TYPE_SLACK)
DELIVERY = channel_pb.Delivery(id="d1", channel_id="c1", status=channel_pb.DELIVERY_STATUS_DELIVERED)
SILENCE = silence_pb.Silence(id="s1", matchers=['host="server01"'], created_by="alice")
ROUTE = routing_pb.Route(receiver="ops", group_by=["alertname"])
INHIBIT = routing_pb.InhibitRule(id="i1", source_matchers=['severity="critical"'], equal=["host"])
POLICY = escalation_pb.EscalationPolicy(id="e1", name="infra", repeat=2)
TIME_INTERVAL = time_interval_pb.TimeInterval(id="t1", name="weekend")
TIME_INTERVAL.time_intervals.add().update({"weekdays": ["saturday", "sunday"]})
TIME_INTERVALS = time_interval_pb.ListTimeIntervalsResponse(time_intervals=[TIME_INTERVAL])
USER = user_pb.User(id="u1", name="ana", email="ana@example.org", time_zone="UTC")
SCHEDULE = schedule_pb.Schedule(id="s1", name="primary", time_zone="UTC")
OVERRIDE = schedule_pb.Override(id="o1", user="u1")
USERS = user_pb.ListUsersResponse(users=[USER])
SCHEDULES = schedule_pb.ListSchedulesResponse(schedules=[SCHEDULE])
OVERRIDES = schedule_pb.ListOverridesResponse(overrides=[OVERRIDE])
ON_CALL = schedule_pb.GetOnCallResponse(users=[schedule_pb.OnCallUser(id="u1", name="ana")])
SHIFT = schedule_pb.Shift(user="u1", user_name="ana")
CALENDAR_LINK = schedule_pb.GetCalendarLinkResponse(url="http://a/calendar/c.s1.x.ics", token="c.s1.x")
CALENDAR_FEED = schedule_pb.GetCalendarFeedResponse(schedule=SCHEDULE, shifts=[SHIFT])
SAMPLE = metrics_pb.Sample(name="cpu_usage", labels={"host": "server01"}, value=85.5)
REPLICA = cluster_pb.Replica(
    id="alerting-0",
    address="10.0.0.1:50051",
    leases=[cluster_pb.Lease(name="pipeline", epoch=3)],
    this_replica=True,
)
SERIES = metrics_pb.Series(labels={"host": "server01"}, points=[metrics_pb.Point(timestamp_ms=1000, value=1)])


@dataclass(frozen=True)
class Case:
    method: str
    args: tuple[object, ...]
    kwargs: dict[str, object]
    rpc: str
    request: Message
    response: Message
    result: object = field(default=None)


def _ts(seconds: int, nanos: int = 0) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


LIST_RULES = rule_pb.ListRulesResponse(rules=[RULE], next_page_token="next")
LIST_ALERTS = alert_pb.ListAlertsResponse(alerts=[ALERT])
HISTORY = alert_pb.ListAlertHistoryResponse(events=[EVENT])
GROUPS = alert_pb.ListAlertGroupsResponse(groups=[GROUP])
CHANNELS = channel_pb.ListChannelsResponse(channels=[CHANNEL])
DELIVERIES = channel_pb.ListDeliveriesResponse(deliveries=[DELIVERY])
SILENCES = silence_pb.ListSilencesResponse(silences=[SILENCE])
INHIBITS = routing_pb.ListInhibitRulesResponse(inhibit_rules=[INHIBIT])
POLICIES = escalation_pb.ListEscalationPoliciesResponse(escalation_policies=[POLICY])
WRITTEN = metrics_pb.WriteResponse(accepted=1)
INSTANT = metrics_pb.QueryResponse(result_type=metrics_pb.RESULT_TYPE_VECTOR, series=[SERIES])
RANGE = metrics_pb.QueryRangeResponse(result_type=metrics_pb.RESULT_TYPE_MATRIX, series=[SERIES])
NAMES = metrics_pb.ListLabelNamesResponse(names=["__name__", "host"])
VALUES = metrics_pb.ListLabelValuesResponse(values=["server01"])
CHECKED = config_pb.CheckConfigResponse(valid=True, summary=config_pb.ConfigSummary(receivers=1))
LISTED = metrics_pb.ListSeriesResponse(series=[metrics_pb.LabelSet(labels={"__name__": "cpu_usage"})])

CASES = [
    Case(
        "create_rule",
        (RULE,),
        {},
        "CreateRule",
        rule_pb.CreateRuleRequest(rule=RULE),
        rule_pb.CreateRuleResponse(rule=RULE),
        RULE,
    ),
    Case(
        "get_rule",
        ("r1",),
        {},
        "GetRule",
        rule_pb.GetRuleRequest(id="r1"),
        rule_pb.GetRuleResponse(rule=RULE),
        RULE,
    ),
    Case(
        "list_rules",
        (),
        {"page_size": 2, "page_token": "t"},
        "ListRules",
        rule_pb.ListRulesRequest(page_size=2, page_token="t"),
        LIST_RULES,
        LIST_RULES,
    ),
    Case(
        "update_rule",
        ("r1", RULE),
        {},
        "UpdateRule",
        rule_pb.UpdateRuleRequest(id="r1", rule=RULE),
        rule_pb.UpdateRuleResponse(rule=RULE),
        RULE,
    ),
    Case(
        "delete_rule",
        ("r1",),
        {},
        "DeleteRule",
        rule_pb.DeleteRuleRequest(id="r1"),
        rule_pb.DeleteRuleResponse(),
    ),
    Case(
        "import_rules",
        ("groups: []",),
        {},
        "ImportRules",
        rule_pb.ImportRulesRequest(content="groups: []"),
        rule_pb.ImportRulesResponse(rules=[RULE], actions=[rule_pb.RULE_IMPORT_ACTION_CREATED]),
        rule_pb.ImportRulesResponse(rules=[RULE], actions=[rule_pb.RULE_IMPORT_ACTION_CREATED]),
    ),
    Case(
        "export_rules",
        (),
        {},
        "ExportRules",
        rule_pb.ExportRulesRequest(),
        rule_pb.ExportRulesResponse(content="groups: []\n"),
        "groups: []\n",
    ),
    Case(
        "list_alerts",
        (),
        {
            "state": alert_pb.ALERT_STATE_FIRING,
            "rule": "high_cpu",
            "filter": '{host="a"}',
            "acknowledged": False,
        },
        "ListAlerts",
        alert_pb.ListAlertsRequest(
            state=alert_pb.ALERT_STATE_FIRING, rule="high_cpu", filter='{host="a"}', acknowledged=False
        ),
        LIST_ALERTS,
        LIST_ALERTS,
    ),
    Case(
        "create_alerts",
        ([alert_pb.PostableAlert(labels={"alertname": "A"})],),
        {},
        "CreateAlerts",
        alert_pb.CreateAlertsRequest(alerts=[alert_pb.PostableAlert(labels={"alertname": "A"})]),
        alert_pb.CreateAlertsResponse(fingerprints=["fp1"]),
        ["fp1"],
    ),
    Case(
        "get_alert",
        ("fp1",),
        {},
        "GetAlert",
        alert_pb.GetAlertRequest(fingerprint="fp1"),
        alert_pb.GetAlertResponse(alert=ALERT),
        ALERT,
    ),
    Case(
        "list_alert_history",
        ("fp1",),
        {"page_size": 3},
        "ListAlertHistory",
        alert_pb.ListAlertHistoryRequest(fingerprint="fp1", page_size=3),
        HISTORY,
        HISTORY,
    ),
    Case("list_alert_groups", (), {}, "ListAlertGroups", alert_pb.ListAlertGroupsRequest(), GROUPS, GROUPS),
    Case(
        "acknowledge",
        ("fp1",),
        {"by": "alice", "comment": "looking"},
        "Acknowledge",
        ack_pb.AcknowledgeRequest(fingerprint="fp1", by="alice", comment="looking"),
        ack_pb.AcknowledgeResponse(alert=ALERT),
        ALERT,
    ),
    Case(
        "unacknowledge",
        ("fp1",),
        {"by": "alice"},
        "Unacknowledge",
        ack_pb.UnacknowledgeRequest(fingerprint="fp1", by="alice"),
        ack_pb.UnacknowledgeResponse(alert=ALERT),
        ALERT,
    ),
    Case(
        "get_ack_token",
        ("tok",),
        {},
        "GetAckToken",
        ack_pb.GetAckTokenRequest(token="tok"),
        ack_pb.GetAckTokenResponse(alert=ALERT),
        ack_pb.GetAckTokenResponse(alert=ALERT),
    ),
    Case(
        "acknowledge_by_token",
        ("tok",),
        {"by": "alice", "comment": "from the link"},
        "AcknowledgeByToken",
        ack_pb.AcknowledgeByTokenRequest(token="tok", by="alice", comment="from the link"),
        ack_pb.AcknowledgeByTokenResponse(alert=ALERT),
        ALERT,
    ),
    Case(
        "create_channel",
        (CHANNEL,),
        {},
        "CreateChannel",
        channel_pb.CreateChannelRequest(channel=CHANNEL),
        channel_pb.CreateChannelResponse(channel=CHANNEL),
        CHANNEL,
    ),
    Case(
        "get_channel",
        ("c1",),
        {},
        "GetChannel",
        channel_pb.GetChannelRequest(id="c1"),
        channel_pb.GetChannelResponse(channel=CHANNEL),
        CHANNEL,
    ),
    Case(
        "list_channels",
        (),
        {"page_size": 1},
        "ListChannels",
        channel_pb.ListChannelsRequest(page_size=1),
        CHANNELS,
        CHANNELS,
    ),
    Case(
        "update_channel",
        ("c1", CHANNEL),
        {},
        "UpdateChannel",
        channel_pb.UpdateChannelRequest(id="c1", channel=CHANNEL),
        channel_pb.UpdateChannelResponse(channel=CHANNEL),
        CHANNEL,
    ),
    Case(
        "delete_channel",
        ("c1",),
        {},
        "DeleteChannel",
        channel_pb.DeleteChannelRequest(id="c1"),
        channel_pb.DeleteChannelResponse(),
    ),
    Case(
        "test_channel",
        ("c1",),
        {},
        "TestChannel",
        channel_pb.TestChannelRequest(id="c1"),
        channel_pb.TestChannelResponse(delivery=DELIVERY),
        DELIVERY,
    ),
    Case(
        "list_deliveries",
        (),
        {"channel_id": "c1", "status": channel_pb.DELIVERY_STATUS_FAILED},
        "ListDeliveries",
        channel_pb.ListDeliveriesRequest(channel_id="c1", status=channel_pb.DELIVERY_STATUS_FAILED),
        DELIVERIES,
        DELIVERIES,
    ),
    Case(
        "create_silence",
        (SILENCE,),
        {},
        "CreateSilence",
        silence_pb.CreateSilenceRequest(silence=SILENCE),
        silence_pb.CreateSilenceResponse(silence=SILENCE),
        SILENCE,
    ),
    Case(
        "get_silence",
        ("s1",),
        {},
        "GetSilence",
        silence_pb.GetSilenceRequest(id="s1"),
        silence_pb.GetSilenceResponse(silence=SILENCE),
        SILENCE,
    ),
    Case(
        "list_silences",
        (),
        {"state": silence_pb.SILENCE_STATE_ACTIVE},
        "ListSilences",
        silence_pb.ListSilencesRequest(state=silence_pb.SILENCE_STATE_ACTIVE),
        SILENCES,
        SILENCES,
    ),
    Case(
        "update_silence",
        ("s1", SILENCE),
        {},
        "UpdateSilence",
        silence_pb.UpdateSilenceRequest(id="s1", silence=SILENCE),
        silence_pb.UpdateSilenceResponse(silence=SILENCE),
        SILENCE,
    ),
    Case(
        "expire_silence",
        ("s1",),
        {},
        "ExpireSilence",
        silence_pb.ExpireSilenceRequest(id="s1"),
        silence_pb.ExpireSilenceResponse(),
    ),
    Case(
        "test_routes",
        ({"severity": "critical"},),
        {},
        "TestRoutes",
        routing_pb.TestRoutesRequest(labels={"severity": "critical"}),
        routing_pb.TestRoutesResponse(matches=[routing_pb.RouteMatch(route_key="{}", receiver="ops")]),
        [routing_pb.RouteMatch(route_key="{}", receiver="ops")],
    ),
    Case(
        "get_routing",
        (),
        {},
        "GetRouting",
        routing_pb.GetRoutingRequest(),
        routing_pb.GetRoutingResponse(route=ROUTE),
        ROUTE,
    ),
    Case(
        "update_routing",
        (ROUTE,),
        {},
        "UpdateRouting",
        routing_pb.UpdateRoutingRequest(route=ROUTE),
        routing_pb.UpdateRoutingResponse(route=ROUTE),
        ROUTE,
    ),
    Case(
        "create_inhibit_rule",
        (INHIBIT,),
        {},
        "CreateInhibitRule",
        routing_pb.CreateInhibitRuleRequest(inhibit_rule=INHIBIT),
        routing_pb.CreateInhibitRuleResponse(inhibit_rule=INHIBIT),
        INHIBIT,
    ),
    Case(
        "get_inhibit_rule",
        ("i1",),
        {},
        "GetInhibitRule",
        routing_pb.GetInhibitRuleRequest(id="i1"),
        routing_pb.GetInhibitRuleResponse(inhibit_rule=INHIBIT),
        INHIBIT,
    ),
    Case(
        "list_inhibit_rules",
        (),
        {},
        "ListInhibitRules",
        routing_pb.ListInhibitRulesRequest(),
        INHIBITS,
        INHIBITS,
    ),
    Case(
        "delete_inhibit_rule",
        ("i1",),
        {},
        "DeleteInhibitRule",
        routing_pb.DeleteInhibitRuleRequest(id="i1"),
        routing_pb.DeleteInhibitRuleResponse(),
    ),
    Case(
        "create_escalation_policy",
        (POLICY,),
        {},
        "CreateEscalationPolicy",
        escalation_pb.CreateEscalationPolicyRequest(escalation_policy=POLICY),
        escalation_pb.CreateEscalationPolicyResponse(escalation_policy=POLICY),
        POLICY,
    ),
    Case(
        "get_escalation_policy",
        ("e1",),
        {},
        "GetEscalationPolicy",
        escalation_pb.GetEscalationPolicyRequest(id="e1"),
        escalation_pb.GetEscalationPolicyResponse(escalation_policy=POLICY),
        POLICY,
    ),
    Case(
        "list_escalation_policies",
        (),
        {"page_token": "p"},
        "ListEscalationPolicies",
        escalation_pb.ListEscalationPoliciesRequest(page_token="p"),
        POLICIES,
        POLICIES,
    ),
    Case(
        "update_escalation_policy",
        ("e1", POLICY),
        {},
        "UpdateEscalationPolicy",
        escalation_pb.UpdateEscalationPolicyRequest(id="e1", escalation_policy=POLICY),
        escalation_pb.UpdateEscalationPolicyResponse(escalation_policy=POLICY),
        POLICY,
    ),
    Case(
        "delete_escalation_policy",
        ("e1",),
        {},
        "DeleteEscalationPolicy",
        escalation_pb.DeleteEscalationPolicyRequest(id="e1"),
        escalation_pb.DeleteEscalationPolicyResponse(),
    ),
    Case(
        "create_time_interval",
        (TIME_INTERVAL,),
        {},
        "CreateTimeInterval",
        time_interval_pb.CreateTimeIntervalRequest(time_interval=TIME_INTERVAL),
        time_interval_pb.CreateTimeIntervalResponse(time_interval=TIME_INTERVAL),
        TIME_INTERVAL,
    ),
    Case(
        "get_time_interval",
        ("weekend",),
        {},
        "GetTimeInterval",
        time_interval_pb.GetTimeIntervalRequest(id="weekend"),
        time_interval_pb.GetTimeIntervalResponse(time_interval=TIME_INTERVAL),
        TIME_INTERVAL,
    ),
    Case(
        "list_time_intervals",
        (),
        {"page_size": 5},
        "ListTimeIntervals",
        time_interval_pb.ListTimeIntervalsRequest(page_size=5),
        TIME_INTERVALS,
        TIME_INTERVALS,
    ),
    Case(
        "update_time_interval",
        ("t1", TIME_INTERVAL),
        {},
        "UpdateTimeInterval",
        time_interval_pb.UpdateTimeIntervalRequest(id="t1", time_interval=TIME_INTERVAL),
        time_interval_pb.UpdateTimeIntervalResponse(time_interval=TIME_INTERVAL),
        TIME_INTERVAL,
    ),
    Case(
        "delete_time_interval",
        ("t1",),
        {},
        "DeleteTimeInterval",
        time_interval_pb.DeleteTimeIntervalRequest(id="t1"),
        time_interval_pb.DeleteTimeIntervalResponse(),
    ),
    Case("write", ([SAMPLE],), {}, "Write", metrics_pb.WriteRequest(samples=[SAMPLE]), WRITTEN, WRITTEN),
    Case(
        "query",
        ("cpu_usage",),
        {"time_ms": 1696789234567},
        "Query",
        metrics_pb.QueryRequest(query="cpu_usage", time=_ts(1696789234, 567_000_000)),
        INSTANT,
        INSTANT,
    ),
    Case(
        "query_range",
        ("cpu_usage",),
        {"start_ms": 1000, "end_ms": 61000, "step_ms": 15000},
        "QueryRange",
        metrics_pb.QueryRangeRequest(
            query="cpu_usage", start=_ts(1), end=_ts(61), step=duration_pb2.Duration(seconds=15)
        ),
        RANGE,
        RANGE,
    ),
    Case(
        "list_label_names",
        (),
        {},
        "ListLabelNames",
        metrics_pb.ListLabelNamesRequest(selection=metrics_pb.SeriesSelection()),
        NAMES,
        NAMES,
    ),
    Case(
        "list_label_values",
        ("host", ["cpu_usage"]),
        {"start_ms": 1000, "limit": 5},
        "ListLabelValues",
        metrics_pb.ListLabelValuesRequest(
            name="host", selection=metrics_pb.SeriesSelection(match=["cpu_usage"], start=_ts(1), limit=5)
        ),
        VALUES,
        VALUES,
    ),
    Case(
        "list_series",
        (["cpu_usage"],),
        {"end_ms": 61000},
        "ListSeries",
        metrics_pb.ListSeriesRequest(selection=metrics_pb.SeriesSelection(match=["cpu_usage"], end=_ts(61))),
        LISTED,
        LISTED,
    ),
    Case(
        "create_user",
        (USER,),
        {},
        "CreateUser",
        user_pb.CreateUserRequest(user=USER),
        user_pb.CreateUserResponse(user=USER),
        USER,
    ),
    Case(
        "get_user",
        ("ana",),
        {},
        "GetUser",
        user_pb.GetUserRequest(id="ana"),
        user_pb.GetUserResponse(user=USER),
        USER,
    ),
    Case(
        "list_users", (), {"page_size": 5}, "ListUsers", user_pb.ListUsersRequest(page_size=5), USERS, USERS
    ),
    Case(
        "update_user",
        ("u1", USER),
        {},
        "UpdateUser",
        user_pb.UpdateUserRequest(id="u1", user=USER),
        user_pb.UpdateUserResponse(user=USER),
        USER,
    ),
    Case(
        "delete_user",
        ("u1",),
        {},
        "DeleteUser",
        user_pb.DeleteUserRequest(id="u1"),
        user_pb.DeleteUserResponse(),
    ),
    Case(
        "create_schedule",
        (SCHEDULE,),
        {},
        "CreateSchedule",
        schedule_pb.CreateScheduleRequest(schedule=SCHEDULE),
        schedule_pb.CreateScheduleResponse(schedule=SCHEDULE),
        SCHEDULE,
    ),
    Case(
        "get_schedule",
        ("primary",),
        {},
        "GetSchedule",
        schedule_pb.GetScheduleRequest(id="primary"),
        schedule_pb.GetScheduleResponse(schedule=SCHEDULE),
        SCHEDULE,
    ),
    Case(
        "list_schedules",
        (),
        {"page_token": "p"},
        "ListSchedules",
        schedule_pb.ListSchedulesRequest(page_token="p"),
        SCHEDULES,
        SCHEDULES,
    ),
    Case(
        "update_schedule",
        ("s1", SCHEDULE),
        {},
        "UpdateSchedule",
        schedule_pb.UpdateScheduleRequest(id="s1", schedule=SCHEDULE),
        schedule_pb.UpdateScheduleResponse(schedule=SCHEDULE),
        SCHEDULE,
    ),
    Case(
        "delete_schedule",
        ("s1",),
        {},
        "DeleteSchedule",
        schedule_pb.DeleteScheduleRequest(id="s1"),
        schedule_pb.DeleteScheduleResponse(),
    ),
    Case(
        "create_override",
        ("s1", OVERRIDE),
        {},
        "CreateOverride",
        schedule_pb.CreateOverrideRequest(schedule_id="s1", override=OVERRIDE),
        schedule_pb.CreateOverrideResponse(override=OVERRIDE),
        OVERRIDE,
    ),
    Case(
        "list_overrides",
        ("s1",),
        {"start_ms": 61000, "end_ms": 121000},
        "ListOverrides",
        schedule_pb.ListOverridesRequest(schedule_id="s1", start=_ts(61), end=_ts(121)),
        OVERRIDES,
        OVERRIDES,
    ),
    Case(
        "delete_override",
        ("s1", "o1"),
        {},
        "DeleteOverride",
        schedule_pb.DeleteOverrideRequest(schedule_id="s1", id="o1"),
        schedule_pb.DeleteOverrideResponse(),
    ),
    Case(
        "get_on_call",
        ("s1",),
        {"at_ms": 61000},
        "GetOnCall",
        schedule_pb.GetOnCallRequest(id="s1", at=_ts(61)),
        ON_CALL,
        ON_CALL,
    ),
    Case(
        "get_final_schedule",
        ("s1",),
        {"start_ms": 61000, "end_ms": 121000},
        "GetFinalSchedule",
        schedule_pb.GetFinalScheduleRequest(id="s1", start=_ts(61), end=_ts(121)),
        schedule_pb.GetFinalScheduleResponse(shifts=[SHIFT]),
        [SHIFT],
    ),
    Case(
        "get_calendar_link",
        ("s1",),
        {},
        "GetCalendarLink",
        schedule_pb.GetCalendarLinkRequest(id="s1"),
        CALENDAR_LINK,
        CALENDAR_LINK,
    ),
    Case(
        "reset_calendar_link",
        ("s1",),
        {},
        "ResetCalendarLink",
        schedule_pb.ResetCalendarLinkRequest(id="s1"),
        schedule_pb.ResetCalendarLinkResponse(url="http://a/calendar/cal2.1.s1.y.ics", token="cal2.1.s1.y"),
        schedule_pb.ResetCalendarLinkResponse(url="http://a/calendar/cal2.1.s1.y.ics", token="cal2.1.s1.y"),
    ),
    Case(
        "get_calendar_feed",
        ("cal1.s1.sig",),
        {"start_ms": 61000, "end_ms": 121000},
        "GetCalendarFeed",
        schedule_pb.GetCalendarFeedRequest(token="cal1.s1.sig", start=_ts(61), end=_ts(121)),
        CALENDAR_FEED,
        CALENDAR_FEED,
    ),
    Case(
        "get_cluster",
        (),
        {},
        "GetCluster",
        cluster_pb.GetClusterRequest(),
        cluster_pb.GetClusterResponse(replicas=[REPLICA]),
        [REPLICA],
    ),
    Case(
        "check_config",
        ("route: {}",),
        {},
        "CheckConfig",
        config_pb.CheckConfigRequest(content="route: {}"),
        CHECKED,
        CHECKED,
    ),
    Case(
        "import_config",
        ("route: {}", "am.yml"),
        {},
        "ImportConfig",
        config_pb.ImportConfigRequest(content="route: {}", name="am.yml"),
        config_pb.ImportConfigResponse(created_channels=["ops"]),
        config_pb.ImportConfigResponse(created_channels=["ops"]),
    ),
    Case(
        "export_config",
        (),
        {},
        "ExportConfig",
        config_pb.ExportConfigRequest(),
        config_pb.ExportConfigResponse(content="route: {}\n"),
        "route: {}\n",
    ),
    Case(
        "reload_config",
        (),
        {},
        "ReloadConfig",
        config_pb.ReloadConfigRequest(),
        config_pb.ReloadConfigResponse(summary=config_pb.ConfigSummary(receivers=1)),
        config_pb.ReloadConfigResponse(summary=config_pb.ConfigSummary(receivers=1)),
    ),
    Case(
        "get_config_status",
        (),
        {},
        "GetConfigStatus",
        config_pb.GetConfigStatusRequest(),
        config_pb.GetConfigStatusResponse(source="/etc/am.yml"),
        config_pb.GetConfigStatusResponse(source="/etc/am.yml"),
    ),
]


def test_the_cases_cover_every_rpc_but_the_watch_stream() -> None:
    every_rpc = {method.name for service in SERVICES for method in service.methods}
    assert {case.rpc for case in CASES} == every_rpc - {"WatchAlerts"}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.method)
async def test_sync_client(fake: FakeAlertingServer, case: Case) -> None:
    fake.respond(case.rpc, case.response)
    with AlertingClient(fake.target) as client:
        result = await asyncio.to_thread(getattr(client, case.method), *case.args, **case.kwargs)
    assert result == case.result
    [call] = fake.called(case.rpc)
    assert call.request == case.request


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.method)
async def test_async_client(fake: FakeAlertingServer, case: Case) -> None:
    fake.respond(case.rpc, case.response)
    async with AsyncAlertingClient(fake.target) as client:
        result = await getattr(client, case.method)(*case.args, **case.kwargs)
    assert result == case.result
    [call] = fake.called(case.rpc)
    assert call.request == case.request
