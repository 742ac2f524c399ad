"""Messages to and from JSON in the REST contract's shape."""

from __future__ import annotations

import pytest
from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2

from alerting.client.convert import dict_to_message, enum_choices, enum_name, enum_number, message_to_dict
from alerting.v1 import alert_service_pb2 as alert_pb
from alerting.v1 import channel_service_pb2 as channel_pb
from alerting.v1 import escalation_policy_service_pb2 as escalation_pb
from alerting.v1 import rule_service_pb2 as rule_pb

REST_RULE = {
    "name": "high_cpu_alert",
    "query": "avg(cpu_usage) > 80",
    "duration": "5m",
    "keep_firing_for": "0s",
    "severity": "warning",
    "labels": {"team": "infra"},
    "annotations": {"summary": "High CPU usage detected"},
    "interval": "1h30m",
    "last_evaluation": 1696789234567,
}


def test_a_rest_rule_becomes_the_message() -> None:
    assert dict_to_message(REST_RULE, rule_pb.Rule) == rule_pb.Rule(
        name="high_cpu_alert",
        query="avg(cpu_usage) > 80",
        duration=duration_pb2.Duration(seconds=300),
        keep_firing_for=duration_pb2.Duration(),
        severity="warning",
        labels={"team": "infra"},
        annotations={"summary": "High CPU usage detected"},
        interval=duration_pb2.Duration(seconds=5400),
        last_evaluation=timestamp_pb2.Timestamp(seconds=1696789234, nanos=567_000_000),
    )


def test_round_trip_keeps_every_given_field_and_shows_unset_messages_as_null() -> None:
    data = message_to_dict(dict_to_message(REST_RULE, rule_pb.Rule))
    assert {key: data[key] for key in REST_RULE} == REST_RULE
    assert data["created_at"] is None
    assert data["type"] == "unspecified"
    assert data["id"] == ""


def test_nested_repeated_messages_enums_and_struct() -> None:
    policy = dict_to_message(
        {
            "name": "infra",
            "levels": [{"after": "0s", "channels": ["ops"]}, {"after": "10m", "channels": ["pager"]}],
        },
        escalation_pb.EscalationPolicy,
    )
    assert [level.after.ToMilliseconds() for level in policy.levels] == [0, 600_000]
    assert message_to_dict(policy)["levels"] == [
        {"after": "0s", "channels": ["ops"], "users": [], "schedules": []},
        {"after": "10m", "channels": ["pager"], "users": [], "schedules": []},
    ]
    config = struct_pb2.Struct()
    config.update({"to": ["a@x.org"], "starttls": True})
    channel = channel_pb.Channel(type=channel_pb.CHANNEL_TYPE_EMAIL, config=config)
    assert message_to_dict(channel)["config"] == {"to": ["a@x.org"], "starttls": True}
    assert dict_to_message(
        {"type": "EMAIL", "config": {"to": ["a@x.org"], "starttls": True}}, channel_pb.Channel
    ) == (channel)


def test_enum_names() -> None:
    state = alert_pb.AlertState.DESCRIPTOR
    assert enum_name(state, alert_pb.ALERT_STATE_FIRING) == "firing"
    assert enum_number(state, "firing") == alert_pb.ALERT_STATE_FIRING
    assert enum_number(state, "ALERT_STATE_PENDING") == alert_pb.ALERT_STATE_PENDING
    assert enum_choices(state) == ["pending", "firing", "resolved"]
    assert enum_choices(channel_pb.ChannelType.DESCRIPTOR) == [
        "email",
        "slack",
        "pagerduty",
        "webhook",
        "opsgenie",
        "victorops",
        "pushover",
    ]
    with pytest.raises(ValueError, match="expected one of: pending, firing, resolved"):
        enum_number(state, "unspecified")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"nmae": "x"}, "nmae: unknown field"),
        ({"duration": "5 minutes"}, "duration: not a valid duration string"),
        ({"labels": {"team": 1}}, "labels.team: expected a string"),
        ({"labels": ["team"]}, "labels: expected a JSON object"),
        ({"type": "paging"}, "type: unknown value 'paging'"),
        ({"name": 7}, "name: expected a string"),
        ({"last_evaluation": "yesterday"}, "last_evaluation: "),
        ({"last_evaluation": 1.5}, "last_evaluation: expected epoch milliseconds as an integer"),
    ],
)
def test_errors_name_the_field(data: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=f"^{error}"):
        dict_to_message(data, rule_pb.Rule)


def test_nested_errors_carry_the_whole_path() -> None:
    with pytest.raises(ValueError, match=r"^levels\[1\]\.after: not a valid duration string"):
        dict_to_message({"levels": [{"after": "1m"}, {"after": "soon"}]}, escalation_pb.EscalationPolicy)
