"""Any text given as a duration, and any JSON posted to the Alertmanager API as alerts or a silence, gets a
value or a clean error, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerting_common.durations import format_duration, parse_duration
from alerting_common.jsonmap import JSON
from alerting_server.errors import Violations
from alerting_server.validation.durations import parse_duration_field
from gateway.alertmanager.models import InvalidSilence, SchemaError, postable_alerts, postable_silence

# Pieces of durations, so that generated text is often nearly one.
_DURATION_PIECES = st.sampled_from(
    ["0", "1", "5", "99999999999999999999", "y", "w", "d", "h", "m", "s", "ms", "-"]
)
_DURATIONS = st.one_of(st.text(max_size=40), st.lists(_DURATION_PIECES, max_size=12).map("".join))


@settings(max_examples=400, deadline=None, database=None)
@given(_DURATIONS)
def test_any_text_is_a_duration_or_a_value_error(text: str) -> None:
    try:
        ms = parse_duration(text)
    except ValueError:
        ms = None
    if ms is not None:
        assert ms >= 0
        # What parses round-trips through its canonical form.
        assert parse_duration(format_duration(ms)) == ms
    violations = Violations()
    field_ms = parse_duration_field(violations, "for", text)
    assert (field_ms is None) == bool(violations.items)
    assert {v.field for v in violations.items} <= {"for"}


@settings(max_examples=20, deadline=None, database=None)
@given(st.text(alphabet="0123456789", min_size=4000, max_size=6000).map(lambda d: f"1{d}s"))
def test_a_huge_number_is_out_of_range_not_a_crash(text: str) -> None:
    with pytest.raises(ValueError, match="duration out of range"):
        parse_duration(text)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(
        [
            "2024-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "10000-01-01T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T00:00:00+25:00",
            "-2024-01-01T00:00:00Z",
            "alertname",
            "a.*",
            "(",
        ]
    ),
)
_KEYS = st.one_of(
    st.sampled_from(
        [
            "labels",
            "annotations",
            "startsAt",
            "endsAt",
            "generatorURL",
            "matchers",
            "createdBy",
            "comment",
            "id",
            "name",
            "value",
            "isRegex",
            "isEqual",
        ]
    ),
    st.text(max_size=8),
)
_JSON: st.SearchStrategy[JSON] = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=6)),
    max_leaves=30,
)

_OBJECTS = st.dictionaries(_KEYS, _JSON, max_size=6)


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(_JSON, st.lists(_OBJECTS, max_size=3)))
def test_any_json_is_postable_alerts_or_a_schema_error(body: JSON) -> None:
    status = 200
    try:
        postable_alerts(body)
    except SchemaError as exc:
        status = exc.status
    assert status in (200, 400, 422)


_MATCHERS = st.lists(st.one_of(_JSON, _OBJECTS), max_size=3)


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(_JSON, _OBJECTS, st.builds(lambda o, m: {**o, "matchers": m}, _OBJECTS, _MATCHERS)))
def test_any_json_is_a_postable_silence_or_a_clean_error(body: JSON) -> None:
    status = 200
    try:
        postable_silence(body)
    except SchemaError as exc:
        status = exc.status
    except InvalidSilence:
        status = 400
    assert status in (200, 400, 422)
