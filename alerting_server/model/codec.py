"""Alerts as plain data (JSON-ready dicts) and back: in snapshots of the dispatcher's state and in
outbox payloads (model/notification.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from alerting_server.model.alert import Ack, Alert, AlertState
from alerting_server.model.alert_json import value_to_json


def alert_to_data(alert: Alert) -> dict[str, object]:
    # Field by field rather than dataclasses.asdict, which deep-copies and is many times slower.
    data = {f.name: getattr(alert, f.name) for f in _FIELDS}
    # As the alert JSON holds it: an alert whose value is +Inf could not be queued on PostgreSQL.
    data["value"] = value_to_json(alert.value)
    data["labels"] = dict(alert.labels)
    data["annotations"] = dict(alert.annotations)
    data["state"] = alert.state.name.lower()
    data["silenced_by"] = list(alert.silenced_by)
    data["inhibited_by"] = list(alert.inhibited_by)
    data["muted_by"] = list(alert.muted_by)
    data["ack"] = None if alert.ack is None else dataclasses.asdict(alert.ack)
    return data


_FIELDS = dataclasses.fields(Alert)


def alert_from_data(data: Mapping[str, Any]) -> Alert:
    """KeyError/ValueError/TypeError when `data` is not what `alert_to_data` wrote."""
    fields = dict(data)
    fields["state"] = AlertState[str(fields["state"]).upper()]
    if "value" in fields:
        fields["value"] = float(fields["value"])
    ack = fields.get("ack")
    fields["ack"] = Ack(**ack) if ack is not None else None
    fields["labels"] = {str(k): str(v) for k, v in fields["labels"].items()}
    fields["annotations"] = {str(k): str(v) for k, v in fields.get("annotations", {}).items()}
    fields["silenced_by"] = tuple(fields.get("silenced_by", ()))
    fields["inhibited_by"] = tuple(fields.get("inhibited_by", ()))
    fields["muted_by"] = tuple(fields.get("muted_by", ()))
    return Alert(**fields)
