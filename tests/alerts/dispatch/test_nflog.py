"""The send decision, as notify/notify.go DedupStage.needsUpdate (TestDedupStageNeedsUpdate)."""

from __future__ import annotations

import pytest

from alerting_server.alerts import LogEntry, NotificationLog, NotifyReason, needs_update

NOW = 1_700_000_000_000
REPEAT = 3_600_000
F = frozenset


@pytest.mark.parametrize(
    ("entry", "firing", "resolved", "reason"),
    [
        (None, F(), F(), NotifyReason.NONE),
        (None, F({"1"}), F(), NotifyReason.FIRST_NOTIFICATION),
        (None, F(), F({"1"}), NotifyReason.NONE),
        (LogEntry(F({"1", "2"}), F(), NOW), F({"1", "2", "3"}), F(), NotifyReason.NEW_ALERTS),
        (LogEntry(F(), F({"1"}), NOW), F({"1"}), F(), NotifyReason.FIRST_NOTIFICATION),
        (LogEntry(F({"1", "2"}), F(), NOW), F({"1"}), F({"2"}), NotifyReason.NEW_RESOLVED),
        (LogEntry(F({"1", "2"}), F(), NOW), F({"1"}), F(), NotifyReason.NONE),
        (LogEntry(F({"1"}), F({"2"}), NOW), F({"1"}), F({"2"}), NotifyReason.NONE),
        (LogEntry(F({"1", "2"}), F(), NOW), F(), F({"1", "2"}), NotifyReason.ALL_RESOLVED),
        (LogEntry(F(), F({"1"}), NOW), F(), F({"1", "2"}), NotifyReason.NONE),
        (LogEntry(F({"1"}), F(), NOW - REPEAT), F({"1"}), F(), NotifyReason.NONE),
        (LogEntry(F({"1"}), F(), NOW - REPEAT - 1), F({"1"}), F(), NotifyReason.REPEAT),
    ],
)
def test_needs_update(
    entry: LogEntry | None, firing: frozenset[str], resolved: frozenset[str], reason: NotifyReason
) -> None:
    assert needs_update(entry, firing, resolved, REPEAT, NOW) is reason


def test_log_round_trips_as_plain_data() -> None:
    log = NotificationLog(retention=REPEAT)
    log.log("g", "r", LogEntry(F({"b", "a"}), F({"c"}), NOW))
    data = log.to_data()
    assert data == [
        {"group_id": "g", "receiver": "r", "firing": ["a", "b"], "resolved": ["c"], "sent_at": NOW}
    ]
    other = NotificationLog(retention=REPEAT)
    other.load(data)
    assert other.get("g", "r") == LogEntry(F({"a", "b"}), F({"c"}), NOW)
    assert other.get("g", "other") is None
    with pytest.raises(ValueError, match="malformed"):
        other.load([{"group_id": "g", "receiver": "r", "firing": "a", "resolved": [], "sent_at": NOW}])
