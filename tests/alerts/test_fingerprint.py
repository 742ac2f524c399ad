import pytest

from alerting_server.alerts import fingerprint
from alerting_server.alerts.fingerprint import fingerprint_int


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # prometheus/common model/signature_test.go TestLabelsToSignature / TestLabelSetToFingerprint
        ({}, 14695981039346656037),
        ({"name": "garland, briggs", "fear": "love is not enough"}, 5799056148416392346),
    ],
)
def test_matches_prometheus_vectors(labels: dict[str, str], expected: int) -> None:
    assert fingerprint_int(labels) == expected
    assert fingerprint(labels) == f"{expected:016x}"


def test_order_independent_and_sensitive_to_names_and_values() -> None:
    a = fingerprint({"alertname": "X", "job": "api"})
    assert a == fingerprint({"job": "api", "alertname": "X"})
    assert a != fingerprint({"alertname": "X", "job": "apI"})
    # The separator keeps the name/value boundary: {ab: c} is not {a: bc}.
    assert fingerprint({"ab": "c"}) != fingerprint({"a": "bc"})
    assert len(a) == 16
    assert int(a, 16) >= 0


def test_non_ascii_is_utf8() -> None:
    assert fingerprint({"é": "☃"}) == fingerprint({"é": "☃"})
    assert fingerprint({"é": "☃"}) != fingerprint({"e": "☃"})
