"""The alert's JSON document (inbox, watch log) and plain data (snapshots, outbox) carry muted_by."""

from __future__ import annotations

from alerting_server.model import Alert, AlertState
from alerting_server.model.alert_json import alert_from_json, alert_to_json
from alerting_server.model.codec import alert_from_data, alert_to_data

MUTED = Alert(
    fingerprint="f1",
    labels={"alertname": "DiskFull"},
    state=AlertState.FIRING,
    silenced_by=("s1",),
    muted_by=("weekend", "night"),
)


def test_muted_by_round_trips() -> None:
    assert alert_to_json(MUTED)["muted_by"] == ["weekend", "night"]
    assert alert_from_json(alert_to_json(MUTED)) == MUTED
    assert alert_from_data(alert_to_data(MUTED)) == MUTED


def test_a_document_written_before_time_intervals_is_not_muted() -> None:
    old = alert_to_json(MUTED)
    del old["muted_by"]
    assert alert_from_json(old).muted_by == ()
    data = alert_to_data(MUTED)
    del data["muted_by"]
    assert alert_from_data(data).muted_by == ()
