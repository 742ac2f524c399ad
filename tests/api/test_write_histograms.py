"""Histogram samples of the Write call: validated field by field, stored as the engine reads them."""

import pytest

from alerting.v1 import metrics_service_pb2 as pb
from alerting_server.api.histograms import histogram_to_pb
from alerting_server.api.metrics import samples_from_pb
from alerting_server.errors import InvalidArgument
from alerting_server.query.histogram import CounterResetHint, FloatHistogram
from alerting_server.query.tsdb import HistogramSample


def native(**fields: object) -> pb.NativeHistogram:
    base: dict[str, object] = {
        "schema": 1,
        "count": 5.0,
        "sum": 7.5,
        "zero_threshold": 0.001,
        "zero_count": 1.0,
        "positive_spans": [pb.BucketSpan(offset=-2, length=2), pb.BucketSpan(offset=3, length=1)],
        "positive_buckets": [1.0, 2.0, 0.5],
        "negative_spans": [pb.BucketSpan(offset=0, length=1)],
        "negative_buckets": [0.5],
        "counter_reset_hint": pb.COUNTER_RESET_HINT_GAUGE,
    }
    return pb.NativeHistogram(**{**base, **fields})  # type: ignore[arg-type]


def test_a_histogram_sample_is_stored_with_absolute_buckets_by_index() -> None:
    request = pb.WriteRequest(samples=[pb.Sample(name="h", labels={"a": "b"}, histogram=native())])
    request.samples[0].timestamp.FromMilliseconds(5000)
    (sample,) = samples_from_pb(request, now=0)
    assert isinstance(sample, HistogramSample)
    assert sample.t_ms == 5000
    h = sample.histogram
    assert h.positive == {-2: 1.0, -1: 2.0, 3: 0.5}
    assert h.negative == {0: 0.5}
    assert h.counter_reset_hint is CounterResetHint.GAUGE
    assert (h.schema, h.count, h.sum, h.zero_threshold, h.zero_count) == (1, 5.0, 7.5, 0.001, 1.0)
    # And back: the spans and absolute counts it came as.
    assert histogram_to_pb(h) == native()


def test_custom_buckets_round_trip() -> None:
    h = FloatHistogram(schema=-53, count=3.0, sum=1.0, positive={0: 1.0, 2: 2.0}, custom_values=(0.1, 1.0))
    request = pb.WriteRequest(samples=[pb.Sample(name="h", histogram=histogram_to_pb(h))])
    (sample,) = samples_from_pb(request, now=1)
    assert isinstance(sample, HistogramSample)
    assert sample.histogram.equals(h)


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"positive_buckets": [1.0, 2.0]}, "samples[0].histogram.positive_spans", "cover 3 buckets but 2"),
        ({"negative_buckets": [-0.5]}, "samples[0].histogram.negative_buckets[0]", "negative"),
        ({"schema": -5}, "samples[0].histogram.schema", "between -4 and 8"),
        ({"count": -1.0}, "samples[0].histogram.count", "negative"),
        ({"zero_threshold": -1.0}, "samples[0].histogram.zero_threshold", "zero or positive"),
        ({"custom_values": [1.0]}, "samples[0].histogram.custom_values", "only a histogram of schema -53"),
        (
            {
                "schema": -53,
                "zero_threshold": 0,
                "zero_count": 0,
                "negative_spans": [],
                "negative_buckets": [],
            },
            "samples[0].histogram.positive_spans[0].offset",
            "negative",
        ),
        (
            {
                "positive_spans": [pb.BucketSpan(offset=0, length=20_000)],
                "positive_buckets": [1.0] * 20_000,
            },
            "samples[0].histogram.positive_spans",
            "more than the limit of 16384",
        ),
    ],
    ids=[
        "spans",
        "negative-count",
        "schema",
        "count",
        "zero-threshold",
        "custom-values",
        "custom-offset",
        "cap",
    ],
)
def test_bad_histograms_name_the_field_and_nothing_is_returned(
    fields: dict[str, object], field: str, reason: str
) -> None:
    request = pb.WriteRequest(
        samples=[pb.Sample(name="h", histogram=native(**fields)), pb.Sample(name="ok", value=1.0)]
    )
    with pytest.raises(InvalidArgument) as raised:
        samples_from_pb(request, now=0)
    found = {(v.field, v.description) for v in raised.value.violations}
    assert any(f == field and reason in d for f, d in found), found


def test_a_histogram_sample_with_a_value_is_refused() -> None:
    request = pb.WriteRequest(samples=[pb.Sample(name="h", value=2.0, histogram=native())])
    with pytest.raises(InvalidArgument) as raised:
        samples_from_pb(request, now=0)
    assert [v.field for v in raised.value.violations] == ["samples[0].value"]
