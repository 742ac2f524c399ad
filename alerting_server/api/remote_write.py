"""The samples of a Prometheus remote-write body (MetricsService.Write's `prometheus_remote_write`).

Prometheus sends the same series in every batch, so a series is looked up by its labels as they
came (their bytes), and its name and labels are decoded and checked once, when first seen.
Each sample then costs reading its value and timestamp out of the decoded message: no Write message
is built for it and read again. Refusals name the series as Prometheus' receiver does
(`timeseries[3]: series without a __name__ label`), under the field `prometheus_remote_write`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from alerting.v1 import metrics_service_pb2
from alerting_common.remote_write import (
    MAX_MS,
    MIN_MS,
    OUT_OF_RANGE,
    EncodedLabels,
    PromTimeSeries,
    PromWriteRequest,
    RemoteWriteError,
    decompress,
    name_and_labels,
    parse,
    split_labels,
    to_native_histogram,
)
from alerting_server.api.histograms import histogram_from_pb
from alerting_server.api.seen import SeenSeries
from alerting_server.errors import InvalidArgument, Violations
from alerting_server.native import RemoteWriteColumns, remote_write_columns
from alerting_server.query.labels import Labels
from alerting_server.query.tsdb import HistogramSample, Sample, SampleColumns

FIELD = "prometheus_remote_write"
# The label set of a written sample's series, with a violation for each way it cannot be stored
# (metrics.series_labels under the servicer's limits); None when it is over a limit.
SeriesCheck = Callable[[Violations, str, metrics_service_pb2.Sample], Labels | None]


def _refused(description: str) -> InvalidArgument:
    return InvalidArgument.field(FIELD, description)


# The label set of each series seen and found valid, by its labels as sent: each
# label's bytes (read by the protobuf runtime), or the run of them (by the compiled reader).
RemoteSeries = SeenSeries[EncodedLabels | bytes, Labels]


def remote_write_samples(
    body: bytes, known: RemoteSeries, check: SeriesCheck
) -> tuple[SampleColumns, list[Labels]]:
    """The samples of the body in its order (a series' floats, then its histograms) and the label
    set of each series; InvalidArgument for the first series or sample that cannot be stored.

    The compiled reader (alerting_server/native.py) gives a body of float samples as columns; any
    other body, or any body when it is not built, is read by the protobuf runtime, with the same
    result."""
    try:
        raw = decompress(body)
        columns = remote_write_columns(raw)
        if columns is not None:
            return _from_columns(raw, columns, known, check)
        samples, series_labels = _from_message(parse(raw), known, check)
        return SampleColumns.of(samples), series_labels
    except RemoteWriteError as exc:
        raise _refused(exc.message) from None


def _from_columns(
    raw: bytes, columns: RemoteWriteColumns, known: RemoteSeries, check: SeriesCheck
) -> tuple[SampleColumns, list[Labels]]:
    """The columns' samples, made into Python lists at once: a sample is no object of its own, and
    its timestamp is checked with all the others'."""
    ts = columns.ts
    # The first series with a timestamp out of range, and the position of that sample in it: the
    # series before it are read (and refused for their labels first, in the body's order).
    bad = np.flatnonzero((ts < MIN_MS) | (ts > MAX_MS))
    firsts = columns.series[:, 2]
    bad_series = int(np.searchsorted(firsts, bad[0], "right")) - 1 if len(bad) else len(firsts)
    series_labels: list[Labels] = []
    append = series_labels.append
    get = known.get
    # Two flat lists: a list of pairs makes a list object per series.
    starts, lengths = columns.series[:, 0].tolist(), columns.series[:, 1].tolist()
    for index, (at, length) in enumerate(zip(starts, lengths, strict=True)):
        key = raw[at : at + length]
        labels = get(key)
        if labels is None:
            labels = _checked(index, split_labels(key), check)
            known.add(key, labels)
        if index == bad_series:
            raise _sample_out_of_range(index, int(bad[0]) - int(firsts[index]), int(ts[bad[0]]))
        append(labels)
    counts = np.diff(np.append(firsts.astype(np.int64), len(ts)))
    if bool((counts == 1).all()):
        # One sample a series, as a Prometheus queue mostly sends them.
        labels_of = list(series_labels)
    else:
        labels_of = [series_labels[i] for i in np.repeat(np.arange(len(firsts)), counts).tolist()]
    return SampleColumns(labels_of, ts.tolist(), columns.vs.tolist()), series_labels


def _from_message(
    request: PromWriteRequest, known: RemoteSeries, check: SeriesCheck
) -> tuple[list[Sample], list[Labels]]:
    samples: list[Sample] = []
    series_labels: list[Labels] = []
    append = samples.append
    for index, series in enumerate(request.timeseries):
        key = tuple(series.labels)
        labels = known.get(key)
        if labels is None:
            labels = _checked(index, key, check)
            known.add(key, labels)
        series_labels.append(labels)
        for sample in series.samples:
            t = sample.timestamp
            if not MIN_MS <= t <= MAX_MS:
                _out_of_range(index, series, t)
            append(Sample(labels, t, sample.value))
        if series.histograms:
            samples.extend(_histograms(index, series, labels))
    return samples, series_labels


def _checked(index: int, key: EncodedLabels, check: SeriesCheck) -> Labels:
    try:
        name, pairs = name_and_labels(index, key)
    except RemoteWriteError as exc:
        raise _refused(exc.message) from None
    violations = Violations()
    labels = check(violations, f"timeseries[{index}]", metrics_service_pb2.Sample(name=name, labels=pairs))
    if violations.items or labels is None:
        raise _first_refusal(violations)
    return labels


def _first_refusal(violations: Violations) -> InvalidArgument:
    """The first of the violations found, as the body's refusal (Prometheus names one problem)."""
    first = violations.items[0]
    return _refused(f"{first.field}: {first.description}")


def _out_of_range(index: int, series: PromTimeSeries, t: int) -> None:
    position = next(i for i, sample in enumerate(series.samples) if sample.timestamp == t)
    raise _sample_out_of_range(index, position, t)


def _sample_out_of_range(index: int, position: int, t: int) -> InvalidArgument:
    return _refused(f"timeseries[{index}].samples[{position}].timestamp: {t} {OUT_OF_RANGE}")


def _histograms(index: int, series: PromTimeSeries, labels: Labels) -> list[Sample]:
    out: list[Sample] = []
    for position, h in enumerate(series.histograms):
        path = f"timeseries[{index}].histograms[{position}]"
        try:
            native = to_native_histogram(h, path)
        except RemoteWriteError as exc:
            raise _refused(exc.message) from None
        if not MIN_MS <= h.timestamp <= MAX_MS:
            raise _refused(f"{path}.timestamp: {h.timestamp} {OUT_OF_RANGE}")
        violations = Violations()
        histogram = histogram_from_pb(violations, path, native)
        if violations.items or histogram is None:
            raise _first_refusal(violations)
        out.append(HistogramSample(labels, h.timestamp, math.nan, histogram))
    return out
