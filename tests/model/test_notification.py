"""The outbox payload's codec: rows already in an outbox decode, and encode back as they were."""

from __future__ import annotations

import pytest

from alerting_server.model import ACKNOWLEDGE, NotificationPayload
from alerting_server.model.codec import alert_to_data
from tests.notify.alerts import T0, firing, resolved

GROUP = '{}:{alertname="HighCPU"}'
FIRING = alert_to_data(firing("HighCPU", "a"))
RESOLVED = alert_to_data(resolved("HighCPU", "c"))

ROWS: dict[str, dict[str, object]] = {
    "a group of a route": {
        "receiver": "ops",
        "group_key": GROUP,
        "group_labels": {"alertname": "HighCPU"},
        "route_key": "{}",
        "escalation_policy_id": "",
        "reason": "new_alerts",
        "firing": [FIRING],
        "resolved": [RESOLVED],
        "ack_urls": {FIRING["fingerprint"]: "https://alerts.example/ack/t"},
        "ack_url": "https://alerts.example/ack/t",
    },
    "a level of an escalation": {
        "receiver": "pager",
        "group_key": "escalation/p1/abc",
        "group_labels": {"alertname": "HighCPU"},
        "route_key": "",
        "escalation_policy_id": "p1",
        "escalation_level": 1,
        "escalation_repeat": 0,
        "reason": "escalation",
        "firing": [FIRING],
        "resolved": [],
    },
    "an acknowledgement": {"action": ACKNOWLEDGE, "receiver": "pd", "group_key": GROUP},
}


@pytest.mark.parametrize("data", ROWS.values(), ids=ROWS.keys())
def test_stored_rows_decode_and_encode_back_unchanged(data: dict[str, object]) -> None:
    assert NotificationPayload.from_data(data).to_data() == data


def test_the_decoded_row_is_typed() -> None:
    payload = NotificationPayload.from_data(ROWS["a level of an escalation"])
    assert (payload.escalation_level, payload.acknowledges) == (1, False)
    assert [a.labels["instance"] for a in payload.firing] == ["a"]
    assert payload.firing[0].started_at == T0
    assert NotificationPayload.from_data(ROWS["an acknowledgement"]).acknowledges
