"""An alert as a JSON document: the inbox and the watch log of several replicas carry alerts so."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from alerting_server.model.alert import Ack, Alert, AlertState


def value_to_json(value: float) -> float | str:
    """An alert's value as JSON holds it: NaN and infinities, which JSON has no word for (and which
    PostgreSQL's JSONB refuses in the form Python's json writes them), as strings float() reads back."""
    return value if math.isfinite(value) else str(value)


def alert_to_json(alert: Alert) -> dict[str, Any]:
    """NaN and infinities, which JSON has no word for, as strings (value_to_json)."""
    ack = alert.ack
    return {
        "fingerprint": alert.fingerprint,
        "rule_id": alert.rule_id,
        "rule": alert.rule,
        "state": alert.state.name.lower(),
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "value": value_to_json(alert.value),
        "started_at": alert.started_at,
        "fired_at": alert.fired_at,
        "resolved_at": alert.resolved_at,
        "updated_at": alert.updated_at,
        "ack_by": None if ack is None else ack.by,
        "ack_comment": None if ack is None else ack.comment,
        "ack_at": None if ack is None else ack.at,
        "silenced_by": list(alert.silenced_by),
        "inhibited_by": list(alert.inhibited_by),
        "muted_by": list(alert.muted_by),
        "escalation_level": alert.escalation_level,
        "generator_url": alert.generator_url,
        "keep_firing_since": alert.keep_firing_since,
    }


def alert_from_json(doc: Mapping[str, Any]) -> Alert:
    ack_at = doc["ack_at"]
    return Alert(
        fingerprint=doc["fingerprint"],
        labels=dict(doc["labels"]),
        state=AlertState[str(doc["state"]).upper()],
        annotations=dict(doc["annotations"]),
        rule=doc["rule"],
        rule_id=doc["rule_id"],
        value=float(doc["value"]),
        started_at=doc["started_at"],
        fired_at=doc["fired_at"],
        resolved_at=doc["resolved_at"],
        updated_at=doc["updated_at"],
        ack=None if ack_at is None else Ack(by=doc["ack_by"], comment=doc["ack_comment"], at=ack_at),
        silenced_by=tuple(doc["silenced_by"]),
        inhibited_by=tuple(doc["inhibited_by"]),
        # Absent from documents written before time intervals existed.
        muted_by=tuple(doc.get("muted_by", ())),
        escalation_level=doc["escalation_level"],
        generator_url=doc["generator_url"],
        keep_firing_since=doc["keep_firing_since"],
    )
