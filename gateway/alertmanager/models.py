"""Alertmanager 0.25's v2 JSON models (api/v2/openapi.yaml) to and from our protobuf messages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alerting.v1 import alert_service_pb2, silence_service_pb2
from alerting_common.jsonmap import JSON, JSONObject
from gateway.alertmanager.matchers import Matcher, MatcherError, from_api, parse_matcher
from gateway.alertmanager.timefmt import format_timestamp, parse_ms

_Alert = alert_service_pb2.Alert
_Silence = silence_service_pb2.Silence
_SILENCE_STATES = {
    silence_service_pb2.SILENCE_STATE_ACTIVE: "active",
    silence_service_pb2.SILENCE_STATE_PENDING: "pending",
    silence_service_pb2.SILENCE_STATE_EXPIRED: "expired",
}
# SortSilences of Alertmanager: active first, then pending, then expired.
_STATE_ORDER = {"active": 1, "pending": 2, "expired": 3}


class SchemaError(ValueError):
    """A body that does not fit the OpenAPI schema; go-swagger answers these before the handler runs.

    `status` 400 for a value of the wrong JSON type, 422 for a missing required property, with
    go-swagger's `{"code", "message"}` body.
    """

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code

    def body(self) -> JSONObject:
        code = self.code if self.code is not None else 602 if self.status == 422 else self.status
        return {"code": code, "message": self.message}


# go-openapi/strfmt's uuid format: hex in any case, dashes optional, no version check.
_UUID = re.compile(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
_INVALID_FORMAT = 601  # go-openapi errors.InvalidTypeCode


def silence_id(text: str) -> str:
    """The silenceID path parameter, which the API declares `format: uuid`."""
    if not _UUID.match(text):
        raise SchemaError(
            422,
            f"silenceID in path must be of type uuid: {json.dumps(text, ensure_ascii=False)}",
            _INVALID_FORMAT,
        )
    return text


class InvalidSilence(ValueError):
    """A silence that fits the schema but that Alertmanager's handler refuses; the message is its text."""


# --- alerts -----------------------------------------------------------------------------------


def is_alertmanager_alert(alert: _Alert, now_ms: int) -> bool:
    """Alertmanager's alerts: not pending rule alerts, and (its alertFilter) not yet ended at `now`."""
    if alert.state in (alert_service_pb2.ALERT_STATE_PENDING, alert_service_pb2.ALERT_STATE_RESOLVED):
        return False
    return not (alert.HasField("ends_at") and alert.ends_at.ToMilliseconds() < now_ms)


def alert_state(alert: _Alert) -> str:
    return "suppressed" if alert.silenced_by or alert.inhibited_by else "active"


def gettable_alert(alert: _Alert, muted_by: Sequence[str] = ()) -> JSONObject:
    """A gettableAlert; generatorURL is left out when empty, as Go's omitempty does. `muted_by`: the
    time intervals muting the alert's group, which only /alerts/groups tells (Alertmanager 0.28's
    AlertToOpenAPIAlert is given them there, and nil for /alerts); an alert they mute is
    suppressed."""
    out: JSONObject = {
        "annotations": dict(alert.annotations),
        "endsAt": format_timestamp(alert.ends_at, alert.HasField("ends_at")),
        "fingerprint": alert.fingerprint,
        "receivers": [{"name": name} for name in alert.receivers],
        "startsAt": format_timestamp(alert.started_at, alert.HasField("started_at")),
        "status": {
            "inhibitedBy": list(alert.inhibited_by),
            "mutedBy": list(muted_by),
            "silencedBy": list(alert.silenced_by),
            "state": "suppressed" if muted_by else alert_state(alert),
        },
        "updatedAt": format_timestamp(alert.updated_at, alert.HasField("updated_at")),
        "labels": dict(alert.labels),
    }
    if alert.generator_url:
        out["generatorURL"] = alert.generator_url
    return out


def gettable_alerts(alerts: Iterable[_Alert]) -> list[JSON]:
    """Sorted by fingerprint, as Alertmanager sorts them."""
    return [gettable_alert(a) for a in sorted(alerts, key=lambda a: a.fingerprint)]


@dataclass(frozen=True)
class AlertFilter:
    """The query filters of GET /api/v2/alerts and /alerts/groups, with Alertmanager's meaning:
    each flag says whether alerts of that kind are shown (all default to true)."""

    active: bool = True
    silenced: bool = True
    inhibited: bool = True
    matchers: tuple[Matcher, ...] = ()

    def shows(self, alert: _Alert, now_ms: int) -> bool:
        if not is_alertmanager_alert(alert, now_ms):
            return False
        if not self.active and alert_state(alert) == "active":
            return False
        if not self.silenced and alert.silenced_by:
            return False
        if not self.inhibited and alert.inhibited_by:
            return False
        labels = dict(alert.labels)
        return all(m.matches(labels) for m in self.matchers)


def alert_group(group: alert_service_pb2.AlertGroup, alerts: Sequence[_Alert]) -> JSONObject:
    return {
        "alerts": [gettable_alert(a, group.muted_by) for a in sorted(alerts, key=lambda a: a.fingerprint)],
        "labels": dict(group.labels),
        "receiver": {"name": group.receiver},
    }


def postable_alerts(body: JSON) -> alert_service_pb2.CreateAlertsRequest:
    """The CreateAlerts request of a postableAlerts body.

    Empty label values are dropped first, as Alertmanager's removeEmptyLabels does; the semantic checks
    (labels present and valid, start before end) are the server's.
    """
    if not isinstance(body, list):
        raise SchemaError(400, _unmarshal_error("array", body, "PostableAlerts"))
    request = alert_service_pb2.CreateAlertsRequest()
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            raise SchemaError(400, _unmarshal_error("object", item, "PostableAlert"))
        if item.get("labels") is None:
            raise SchemaError(422, f"{index}.labels in body is required")
        labels = _label_set(item["labels"], "labels")
        alert = request.alerts.add(
            labels={k: v for k, v in labels.items() if v},
            annotations=_label_set(item.get("annotations") or {}, "annotations"),
            generator_url=_string(item.get("generatorURL") or "", "generatorURL"),
        )
        for key, field in (("startsAt", alert.starts_at), ("endsAt", alert.ends_at)):
            ms = _time(item.get(key), key)
            if ms:
                field.FromMilliseconds(ms)
    return request


# --- silences ---------------------------------------------------------------------------------


def silence_matchers(silence: silence_service_pb2.Silence) -> list[Matcher]:
    return [parse_matcher(text) for text in silence.matchers]


def gettable_silence(silence: silence_service_pb2.Silence) -> JSONObject:
    return {
        "id": silence.id,
        "status": {"state": _SILENCE_STATES.get(silence.state, "expired")},
        "updatedAt": format_timestamp(silence.updated_at, silence.HasField("updated_at")),
        "comment": silence.comment,
        "createdBy": silence.created_by,
        "endsAt": format_timestamp(silence.ends_at, silence.HasField("ends_at")),
        "matchers": [m.to_api() for m in silence_matchers(silence)],
        "startsAt": format_timestamp(silence.starts_at, silence.HasField("starts_at")),
    }


def silence_shown(silence: silence_service_pb2.Silence, filters: Sequence[Matcher]) -> bool:
    """CheckSilenceMatchesFilterLabels: every filter matcher is one of the silence's, exactly."""
    own = set(silence_matchers(silence))
    return all(f in own for f in filters)


def sorted_silences(silences: Iterable[_Silence]) -> list[_Silence]:
    """Alertmanager's order: active by end soonest, pending by start soonest, expired most recent first."""

    def key(s: _Silence) -> tuple[int, int]:
        state = _SILENCE_STATES.get(s.state, "expired")
        if state == "pending":
            return _STATE_ORDER[state], s.starts_at.ToMilliseconds()
        ends = s.ends_at.ToMilliseconds()
        return _STATE_ORDER[state], -ends if state == "expired" else ends

    return sorted(silences, key=key)


@dataclass(frozen=True)
class PostableSilence:
    id: str
    silence: silence_service_pb2.Silence


def postable_silence(body: JSON) -> PostableSilence:
    """Our Silence of a postableSilence body; `id` set means update."""
    if not isinstance(body, dict):
        raise SchemaError(400, _unmarshal_error("object", body, "PostableSilence"))
    for key in ("comment", "createdBy", "endsAt", "matchers", "startsAt"):
        if body.get(key) is None:
            raise SchemaError(422, f"{key} in body is required")
    raw_matchers = body["matchers"]
    if not isinstance(raw_matchers, list):
        raise SchemaError(400, _unmarshal_error("array", raw_matchers, "Matchers"))
    if not raw_matchers:
        raise SchemaError(422, "matchers in body should have at least 1 items")
    matchers = [_matcher(item, index) for index, item in enumerate(raw_matchers)]
    silence = silence_service_pb2.Silence(
        matchers=[str(m) for m in matchers],
        created_by=_string(body["createdBy"], "createdBy"),
        comment=_string(body["comment"], "comment"),
    )
    silence.starts_at.FromMilliseconds(_time(body["startsAt"], "startsAt"))
    silence.ends_at.FromMilliseconds(_time(body["endsAt"], "endsAt"))
    return PostableSilence(_string(body.get("id") or "", "id"), silence)


def silence_time_error(silence: silence_service_pb2.Silence, now_ms: int) -> str | None:
    """The checks Alertmanager's postSilencesHandler makes itself, with its messages."""
    starts, ends = silence.starts_at.ToMilliseconds(), silence.ends_at.ToMilliseconds()
    if starts >= ends:
        return "Failed to create silence: start time must be before end time"
    if ends < now_ms:
        return "Failed to create silence: end time can't be in the past"
    return None


def _matcher(item: JSON, index: int) -> Matcher:
    if not isinstance(item, dict):
        raise SchemaError(400, _unmarshal_error("object", item, "Matcher"))
    for key in ("name", "value", "isRegex"):
        if item.get(key) is None:
            raise SchemaError(422, f"matchers.{index}.{key} in body is required")
    name, value = _string(item["name"], "name"), _string(item["value"], "value")
    is_regex, is_equal = _flag(item, "isRegex", index), _flag(item, "isEqual", index)
    matcher = from_api(name, value, is_regex, is_equal)
    if matcher.is_regex:
        try:
            parse_matcher(str(matcher))
        except MatcherError as exc:
            raise InvalidSilence(f"failed to convert API silence to internal silence: {exc}") from None
    return matcher


def _flag(item: JSONObject, key: str, index: int) -> bool:
    """A boolean matcher property; absent or null is true (only isEqual may be absent by then)."""
    flag = item.get(key)
    if flag is None:
        return True
    if not isinstance(flag, bool):
        raise SchemaError(400, _unmarshal_error("bool", flag, f"matchers.{index}.{key}"))
    return flag


def _label_set(value: JSON, key: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise SchemaError(400, _unmarshal_error("object of strings", value, f"LabelSet ({key})"))
    return {k: v for k, v in value.items() if isinstance(v, str)}


def _string(value: JSON, key: str) -> str:
    if not isinstance(value, str):
        raise SchemaError(400, _unmarshal_error("string", value, key))
    return value


def _time(value: JSON, key: str) -> int:
    """Epoch ms of an optional RFC 3339 property; 0 when absent or Go's zero time."""
    if value is None:
        return 0
    try:
        return parse_ms(_string(value, key))
    except ValueError as exc:
        raise SchemaError(400, f"{key} in body must be of type date-time: {exc}") from None


def _unmarshal_error(expected: str, value: JSON, target: str) -> str:
    """encoding/json's wording, with JSON's names for the value's type."""
    kinds = {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}
    kind = kinds.get(type(value), "null")
    return f"json: cannot unmarshal {kind} into {target}, expected {expected}"
