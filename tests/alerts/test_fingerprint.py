import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def fnv1a_reference(labels: dict[str, str]) -> int:
    """prometheus/common's algorithm written out: 64-bit FNV-1a over the names in byte order, each
    name and value followed by 0xff."""
    h = 14695981039346656037
    for name, value in sorted((n.encode(), v.encode()) for n, v in labels.items()):
        for byte in (*name, 0xFF, *value, 0xFF):
            h = ((h ^ byte) * 1099511628211) & ((1 << 64) - 1)
    return h


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=8), st.text(max_size=12), max_size=6))
def test_equals_the_algorithm_written_out(labels: dict[str, str]) -> None:
    assert fingerprint_int(labels) == fnv1a_reference(labels)


def test_names_are_ordered_as_utf8_bytes() -> None:
    # U+FFFF sorts before U+10000 as UTF-8 bytes (and as code points), not as UTF-16 units.
    labels = {"\uffff": "a", "\U00010000": "b", "z": "c"}
    assert fingerprint_int(labels) == fnv1a_reference(labels)
