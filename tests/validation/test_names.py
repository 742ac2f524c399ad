from __future__ import annotations

import pytest

from alerting_server.validation.names import (
    check_alert_name,
    check_label_name,
    check_label_value,
    check_metric_name,
    check_name,
)
from tests.validation.helpers import collected


@pytest.mark.parametrize("name", ["a", "ops-slack", "High CPU on web 🔥", "x" * 256])
def test_good_names(name: str) -> None:
    assert collected(lambda v: check_name(v, "name", name)) == {}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "must not be empty"),
        ("x" * 257, "must be at most 256 characters, got 257"),
        ("a\nb", "must not contain control characters"),
        ("a\x00", "must not contain control characters"),
        (" padded", "must not start or end with whitespace"),
        ("\ud800", "must be valid UTF-8"),
    ],
)
def test_bad_names(name: str, reason: str) -> None:
    assert collected(lambda v: check_name(v, "name", name)) == {"name": reason}


def test_alert_name_is_any_printable_text() -> None:
    assert collected(lambda v: check_alert_name(v, "name", "Disk almost full (90%)")) == {}
    assert collected(lambda v: check_alert_name(v, "name", "tab\there")) == {
        "name": "must not contain control characters"
    }


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("job:http_requests:rate5m", True),
        ("_private", True),
        (":leading_colon", True),
        ("cpu", True),
        ("9lives", False),
        ("has-dash", False),
        ("has space", False),
        ("", False),
    ],
)
def test_metric_names(name: str, ok: bool) -> None:
    found = collected(lambda v: check_metric_name(v, "name", name))
    assert (found == {}) is ok
    if not ok:
        assert "name" in found


@pytest.mark.parametrize(
    ("name", "allow_reserved", "reason"),
    [
        ("team", False, None),
        ("_x9", False, None),
        ("__name__", True, None),
        ("__meta", False, "label name '__meta' is reserved: names starting with __ are for internal use"),
        ("job:rate", False, "invalid label name 'job:rate': must match [a-zA-Z_][a-zA-Z0-9_]*"),
        ("1st", False, "invalid label name '1st': must match [a-zA-Z_][a-zA-Z0-9_]*"),
        ("", False, "label name must not be empty"),
        ("l" * 300, False, "label name must be at most 256 characters"),
    ],
)
def test_label_names(name: str, allow_reserved: bool, reason: str | None) -> None:
    found = collected(lambda v: check_label_name(v, "labels.x", name, allow_reserved=allow_reserved))
    assert found == ({} if reason is None else {"labels.x": reason})


def test_label_values() -> None:
    assert collected(lambda v: check_label_value(v, "labels.x", "ünïcode ok")) == {}
    assert collected(lambda v: check_label_value(v, "labels.x", "bad \udcff")) == {
        "labels.x": "label value must be valid UTF-8"
    }
    assert collected(lambda v: check_label_value(v, "labels.x", "v" * 5000)) == {
        "labels.x": "must be at most 4096 characters, got 5000"
    }
