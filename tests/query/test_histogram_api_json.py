"""Histograms read back from Prometheus' query-API JSON (what a remote datasource answers)."""

import random

import pytest

from alerting_server.api.histograms import histogram_to_pb
from alerting_server.query.histogram import FloatHistogram, HistogramError, histogram_from_api
from gateway.promapi import histogram_json


def _round_trip(h: FloatHistogram) -> FloatHistogram:
    return histogram_from_api(histogram_json(histogram_to_pb(h)))


@pytest.mark.parametrize("schema", range(-4, 9))
def test_exponential_histograms_of_every_schema_come_back(schema: int) -> None:
    rng = random.Random(schema)
    for _ in range(20):
        positive = {i: float(rng.randint(1, 9)) for i in rng.sample(range(-40, 40), rng.randint(1, 6))}
        negative = {i: float(rng.randint(1, 9)) for i in rng.sample(range(-40, 40), rng.randint(0, 3))}
        h = FloatHistogram(
            schema=schema,
            count=sum(positive.values()) + sum(negative.values()) + 2,
            sum=1.5,
            zero_threshold=0.0,
            zero_count=0.0,
            positive=positive,
            negative=negative,
        )
        back = _round_trip(h)
        assert back.equals(h), (h, back)
        assert back.schema == schema


def test_zero_bucket_and_custom_buckets_come_back() -> None:
    h = FloatHistogram(schema=2, count=9, sum=3, zero_threshold=1e-3, zero_count=4, positive={0: 2, 5: 3})
    assert _round_trip(h).equals(h)
    custom = FloatHistogram(schema=-53, count=6, sum=2, positive={0: 1, 1: 2, 2: 3}, custom_values=(0.5, 1.0))
    back = _round_trip(custom)
    assert back.equals(custom)
    assert back.custom_values == (0.5, 1.0)
    # Bounds no exponential schema has: custom buckets too, even without an infinite one.
    finite = FloatHistogram(schema=-53, count=2, sum=2, positive={1: 2.0}, custom_values=(0.3, 0.7))
    assert _round_trip(finite).equals(finite)


def test_a_histogram_whose_only_bucket_is_clipped_cannot_be_read_back() -> None:
    clipped = {"count": "3", "sum": "1", "buckets": [[3, "-0.75", "0.75", "1"], [0, "0.75", "1", "2"]]}
    with pytest.raises(HistogramError, match="schema"):
        histogram_from_api(clipped)
    with pytest.raises(ValueError, match="boundary rule"):
        histogram_from_api({"count": "1", "sum": "1", "buckets": [[7, "0", "1", "1"]]})
