from __future__ import annotations

import math

import pytest

from alerting.v1 import (
    alert_service_pb2,
    escalation_policy_service_pb2,
    metrics_service_pb2,
    rule_service_pb2,
)
from alerting_common.jsonmap import JSON, MappingError, merge_json, to_json


def test_rule_round_trips() -> None:
    data: dict[str, JSON] = {
        "name": "r",
        "duration": "1h30m",
        "keep_firing_for": "0s",
        "labels": {"b": "2", "a": "1"},
        "type": "recording",
        "last_evaluation": 1_696_789_234_567,
    }
    rule = rule_service_pb2.Rule()

    merge_json(data, rule)
    out = to_json(rule)

    assert rule.duration.ToMilliseconds() == 5_400_000
    assert rule.type == rule_service_pb2.RULE_TYPE_RECORDING
    assert {k: out[k] for k in data} == data
    assert out["interval"] is None
    assert out["updated_at"] is None
    assert out["health"] == "unspecified"
    assert list(out) == [f.name for f in rule_service_pb2.Rule.DESCRIPTOR.fields]


def test_nested_repeated_messages_and_error_paths() -> None:
    policy = escalation_policy_service_pb2.EscalationPolicy()
    merge_json({"levels": [{"after": "0s", "channels": ["a"]}, {"after": "10m"}], "repeat": 2}, policy)

    assert to_json(policy)["levels"] == [
        {"after": "0s", "channels": ["a"], "users": [], "schedules": []},
        {"after": "10m", "channels": [], "users": [], "schedules": []},
    ]
    with pytest.raises(MappingError) as error:
        merge_json({"levels": [{"after": "0s"}, {"after": "soon"}]}, policy)
    assert error.value.field == "levels[1].after"


def test_enum_accepts_the_full_name_case_insensitively() -> None:
    request = alert_service_pb2.WatchAlertsRequest()

    merge_json({"states": ["FIRING", "alert_state_pending"]}, request)

    assert list(request.states) == [
        alert_service_pb2.ALERT_STATE_FIRING,
        alert_service_pb2.ALERT_STATE_PENDING,
    ]


def test_non_finite_doubles_are_strings_both_ways() -> None:
    sample = metrics_service_pb2.Sample()

    merge_json({"value": "NaN"}, sample)
    assert math.isnan(sample.value)
    assert to_json(sample)["value"] == "NaN"
    merge_json({"value": "-Infinity"}, sample)
    assert to_json(sample)["value"] == "-Infinity"


def test_null_clears_a_field() -> None:
    rule = rule_service_pb2.Rule()
    merge_json({"duration": "5m", "name": "x"}, rule)

    merge_json({"duration": None, "name": None}, rule)

    assert not rule.HasField("duration")
    assert rule.name == ""


@pytest.mark.parametrize(
    ("data", "field", "description"),
    [
        ({"repeat": 2**31}, "repeat", "expected an integer between"),
        ({"repeat": 1.5}, "repeat", "expected an integer between"),
        ({"repeat": True}, "repeat", "expected an integer between"),
        ({"name": None, "levels": {}}, "levels", "expected a JSON array"),
        ({"created_at": 1.5}, "created_at", "expected epoch milliseconds as an integer"),
        ({"created_at": 10**15}, "created_at", "timestamp out of range"),
        ({"created_at": "2023-10-08T18:20:34"}, "created_at", "timestamp needs a time zone"),
        ({"created_at": True}, "created_at", "expected a timestamp"),
        ({"ack_timeout": "-5m"}, "ack_timeout", "not a valid duration string"),
    ],
)
def test_type_errors_name_field_and_expectation(data: dict[str, JSON], field: str, description: str) -> None:
    with pytest.raises(MappingError) as error:
        merge_json(data, escalation_policy_service_pb2.EscalationPolicy())

    assert error.value.field == field
    assert error.value.description.startswith(description)
