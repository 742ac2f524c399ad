"""The compiled remote-write reader (native/, alerting_server/native.py) reads what the protobuf
runtime reads, or leaves the body to it; a hostile body can only be left to it."""

from __future__ import annotations

import math
import os
import struct
from typing import Any

import cramjam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting_common.remote_write import PromWriteRequest, WriteRequest, parse, split_labels
from alerting_server import native
from alerting_server.api.metrics import SampleLimits, series_labels
from alerting_server.api.remote_write import RemoteSeries, remote_write_samples
from alerting_server.errors import InvalidArgument
from alerting_server.native import RemoteWriteColumns, remote_write_columns


def test_ci_has_the_library() -> None:
    """`make setup` builds it; where CI runs, a missing library is a failure, not a slower path."""
    if os.environ.get("CI") == "true":
        assert native.AVAILABLE, f"{native.LIBRARY} was not built"


needs_library = pytest.mark.skipif(
    not native.AVAILABLE and os.environ.get("CI") != "true", reason="the native library is not built"
)

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
VALUES = st.floats(allow_nan=True, allow_infinity=True) | st.just(
    struct.unpack("<d", b"\x02\x00\x00\x00\x00\x00\xf0\x7f")[0]
)
LABELS = st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6)), max_size=4)
SERIES = st.tuples(LABELS, st.lists(st.tuples(VALUES, INT64), max_size=4))


def request_of(series: list[tuple[list[tuple[str, str]], list[tuple[float, int]]]]) -> Any:
    request: Any = WriteRequest()
    for labels, samples in series:
        ts = request.timeseries.add()
        for name, value in labels:
            ts.labels.add(name=name, value=value)
        for sample_value, t in samples:
            ts.samples.add(value=sample_value, timestamp=t)
    return request


def as_read(request: PromWriteRequest) -> list[tuple[bytes, list[tuple[int, bytes]]]]:
    """Each series' labels (as sent) and samples (value bits, to compare NaNs), read by the runtime."""
    return [
        (
            b"".join(b"\x0a" + bytes([len(label)]) + label for label in series.labels),
            [(s.timestamp, struct.pack("<d", s.value)) for s in series.samples],
        )
        for series in request.timeseries
    ]


def columns_read(raw: bytes, columns: RemoteWriteColumns) -> list[tuple[bytes, list[tuple[int, bytes]]]]:
    ends = [*columns.series[1:, 2].tolist(), len(columns.ts)][: len(columns.series)]
    return [
        (
            raw[at : at + length],
            [(int(columns.ts[j]), struct.pack("<d", columns.vs[j])) for j in range(first, end)],
        )
        for (at, length, first), end in zip(columns.series.tolist(), ends, strict=True)
    ]


@needs_library
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SERIES, max_size=6))
def test_a_body_of_float_samples_is_read_as_the_runtime_reads_it(
    series: list[tuple[list[tuple[str, str]], list[tuple[float, int]]]],
) -> None:
    raw = request_of(series).SerializeToString()
    columns = remote_write_columns(raw)
    assert columns is not None
    assert columns_read(raw, columns) == as_read(parse(raw))


@needs_library
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SERIES, min_size=1, max_size=4), st.data())
def test_whatever_it_reads_of_a_damaged_body_the_runtime_reads_the_same(
    series: list[tuple[list[tuple[str, str]], list[tuple[float, int]]]], data: st.DataObject
) -> None:
    """Bytes changed, cut or added anywhere: the reader either leaves the body to the runtime, or
    reads exactly what the runtime reads (and the runtime takes the body)."""
    raw = bytearray(request_of(series).SerializeToString())
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, len(raw)))
        if action == "flip" and at < len(raw):
            raw[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del raw[at : at + data.draw(st.integers(1, 8))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    body = bytes(raw)
    columns = remote_write_columns(body)
    if columns is None:
        return
    labels_bytes = [label_run for label_run, _ in columns_read(body, columns)]
    request = parse(body)
    read = as_read(request)
    assert [samples for _, samples in columns_read(body, columns)] == [samples for _, samples in read]
    # The runtime's labels of each series are those of the run the reader found.
    assert [tuple(s.labels) for s in request.timeseries] == [split_labels(b) for b in labels_bytes]
    assert all(not s.histograms for s in request.timeseries)


@needs_library
@given(st.binary(max_size=64))
def test_random_bytes_are_never_read_past(body: bytes) -> None:
    columns = remote_write_columns(body)
    if columns is not None:
        assert len(columns.series) == len(parse(body).timeseries)


@needs_library
def test_histograms_and_labels_split_by_samples_are_left_to_the_runtime() -> None:
    request: Any = WriteRequest()
    request.timeseries.add().histograms.add(count_int=1, timestamp=5)
    assert remote_write_columns(request.SerializeToString()) is None
    # A label, a sample, then a label: the labels are not one run of bytes.
    label = b"\x0a\x08\x0a\x01a\x12\x03abc"
    sample = b"\x12\x0b\x09" + struct.pack("<d", 1.0) + b"\x10\x05"
    series = label + sample + label.replace(b"a\x12", b"b\x12")
    split = b"\x0a" + bytes([len(series)]) + series
    assert remote_write_columns(split) is None
    assert [tuple(s.labels) for s in parse(split).timeseries] == [
        (label[2:], label[2:].replace(b"a\x12", b"b\x12"))
    ]


def test_both_readers_give_the_server_the_same_samples_and_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the library and without it (the runtime then reads every body)."""
    good = request_of(
        [
            ([("__name__", "cpu"), ("host", "h1"), ("zone", "")], [(0.5, 1000), (math.inf, 2000)]),
            ([("job", "a"), ("__name__", "up")], [(1.0, -1500)]),
            ([("__name__", "none")], []),
        ]
    )
    bad_time = request_of([([("__name__", "up")], [(1.0, 0), (1.0, 2**62)])])
    no_name = request_of([([("__name__", "up")], [(1.0, 0)]), ([("job", "x")], [(1.0, 0)])])
    # The first problem in the body's order is the one named, a series' labels before its samples.
    up, nameless = [("__name__", "up")], [("job", "x")]
    late_bad_time = request_of(
        [(up, [(1.0, 0)]), (up, []), (up, [(1.0, 5), (1.0, -(2**62))]), (nameless, [])]
    )
    nameless_first = request_of([(up, [(1.0, 0)]), (nameless, [(1.0, 2**62)]), (up, [(1.0, 2**62)])])
    check = series_labels_check()

    def outcome() -> list[object]:
        found: list[object] = []
        for request in (good, good, bad_time, no_name, late_bad_time, nameless_first):
            body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
            try:
                found.append(remote_write_samples(body, RemoteSeries(), check))
            except InvalidArgument as exc:
                found.append([(v.field, v.description) for v in exc.violations])
        return found

    with_library = outcome()
    monkeypatch.setattr(native, "_LIBRARY", None)
    assert outcome() == with_library
    assert with_library[2] == [
        (
            "prometheus_remote_write",
            f"timeseries[0].samples[1].timestamp: {2**62} is out of the range of a timestamp",
        )
    ]
    assert with_library[4] == [
        (
            "prometheus_remote_write",
            f"timeseries[2].samples[1].timestamp: {-(2**62)} is out of the range of a timestamp",
        )
    ]
    assert with_library[5][0][1].startswith("timeseries[1]: ")  # type: ignore[index]


def series_labels_check() -> Any:
    limits = SampleLimits()
    return lambda violations, field, sample: series_labels(violations, field, sample, limits)
