from __future__ import annotations

import pytest

from alerting_server.notify.message import GO_ZERO_TIME, build_message, go_time, truncate
from tests.notify.alerts import T0, firing, high_cpu_message, resolved


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (None, GO_ZERO_TIME),
        (0, "1970-01-01T00:00:00Z"),
        (T0, "2023-11-14T22:13:20Z"),
        (T0 + 500, "2023-11-14T22:13:20.5Z"),
        (T0 + 120, "2023-11-14T22:13:20.12Z"),
        (T0 + 7, "2023-11-14T22:13:20.007Z"),
    ],
)
def test_go_time_marshals_like_go(ms: int | None, text: str) -> None:
    assert go_time(ms) == text


def test_message_holds_firing_then_resolved_in_label_order() -> None:
    m = high_cpu_message()
    assert [a.labels["instance"] for a in m.alerts] == ["a", "b", "c"]
    assert [a.status for a in m.alerts] == ["firing", "firing", "resolved"]
    assert m.status == "firing"
    assert m.firing == m.alerts[:2]
    assert m.resolved == m.alerts[2:]
    assert m.alerts[0].ends_at is None
    assert m.alerts[2].ends_at == T0 + 120_500
    assert m.alerts[0].starts_at == T0
    assert m.common_labels == {"alertname": "HighCPU", "severity": "critical"}
    # "c" has no summary, and a and b disagree: nothing is common.
    assert m.common_annotations == {}
    assert m.truncated_alerts == 0


def test_all_resolved_group_is_resolved() -> None:
    m = build_message(
        receiver="ops", group_key="k", group_labels={}, firing=[], resolved=[resolved("A", "x")]
    )
    assert m.status == "resolved"
    assert m.common_labels == {"alertname": "A", "instance": "x", "severity": "critical"}


def test_empty_message_has_no_common_labels() -> None:
    m = build_message(receiver="ops", group_key="k", group_labels={}, firing=[])
    assert m.alerts == ()
    assert m.common_labels == {}
    assert m.status == "resolved"


def test_cap_counts_truncated_alerts_and_recomputes_common_labels() -> None:
    m = build_message(
        receiver="ops",
        group_key="k",
        group_labels={"alertname": "A"},
        firing=[firing("A", "x", summary="s"), firing("A", "y", summary="s"), firing("A", "z", summary="t")],
        max_alerts=2,
    )
    assert [a.labels["instance"] for a in m.alerts] == ["x", "y"]
    assert m.truncated_alerts == 1
    assert m.common_annotations == {"summary": "s"}
    assert m.status == "firing"


def test_truncate_without_cap_or_under_it_is_identity() -> None:
    m = high_cpu_message()
    assert truncate(m, 0) is m
    assert truncate(m, 3) is m
    assert truncate(truncate(m, 2), 1).truncated_alerts == 2
