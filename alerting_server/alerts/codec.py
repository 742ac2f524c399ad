"""Alerts as plain data (JSON-ready dicts) and back, for snapshots of the dispatcher's state."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from alerting_server.model import Ack, Alert, AlertState


def alert_to_data(alert: Alert) -> dict[str, object]:
    data = dataclasses.asdict(alert)
    data["state"] = alert.state.name.lower()
    data["silenced_by"] = list(alert.silenced_by)
    data["inhibited_by"] = list(alert.inhibited_by)
    return data


def alert_from_data(data: Mapping[str, Any]) -> Alert:
    """KeyError/ValueError/TypeError when `data` is not what `alert_to_data` wrote."""
    fields = dict(data)
    fields["state"] = AlertState[str(fields["state"]).upper()]
    ack = fields.get("ack")
    fields["ack"] = Ack(**ack) if ack is not None else None
    fields["labels"] = {str(k): str(v) for k, v in fields["labels"].items()}
    fields["annotations"] = {str(k): str(v) for k, v in fields.get("annotations", {}).items()}
    fields["silenced_by"] = tuple(fields.get("silenced_by", ()))
    fields["inhibited_by"] = tuple(fields.get("inhibited_by", ()))
    return Alert(**fields)
