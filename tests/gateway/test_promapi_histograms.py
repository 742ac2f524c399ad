"""Histogram samples in Prometheus' query API JSON, checked against Prometheus' own codec tests."""

import json
from typing import Any

from alerting.v1 import metrics_service_pb2 as pb
from alerting_common.histogram_bounds import EXPONENTIAL_BOUNDS
from alerting_common.histograms import exponential_bound
from gateway.promapi import histogram_json, result_json

# web/api/v1/json_codec_test.go: the FloatHistogram of its matrix case.
CODEC_CASE = pb.NativeHistogram(
    schema=2,
    zero_threshold=0.001,
    zero_count=12,
    count=10,
    sum=20,
    positive_spans=[pb.BucketSpan(offset=3, length=2), pb.BucketSpan(offset=1, length=3)],
    negative_spans=[pb.BucketSpan(offset=2, length=2)],
    positive_buckets=[1, 2, 2, 1, 1],
    negative_buckets=[2, 1],
)
CODEC_EXPECTED = (
    '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"foo"},'
    '"histograms":[[1,{"count":"10","sum":"20","buckets":[[1,"-1.6817928305074288","-1.414213562373095","1"],'
    '[1,"-1.414213562373095","-1.189207115002721","2"],[3,"-0.001","0.001","12"],'
    '[0,"1.414213562373095","1.6817928305074288","1"],[0,"1.6817928305074288","2","2"],'
    '[0,"2.378414230005442","2.82842712474619","2"],[0,"2.82842712474619","3.3635856610148576","1"],'
    '[0,"3.3635856610148576","4","1"]]}]]}]}}'
)


def _compact(body: object) -> str:
    return json.dumps(body, separators=(",", ":"))


def _result(body: dict[str, Any]) -> list[Any]:
    rows = body["data"]["result"]
    assert isinstance(rows, list)
    return rows


def test_a_matrix_of_histograms_is_what_prometheus_writes() -> None:
    response = pb.QueryRangeResponse(
        result_type=pb.RESULT_TYPE_MATRIX,
        series=[
            pb.Series(labels={"__name__": "foo"}, points=[pb.Point(timestamp_ms=1000, histogram=CODEC_CASE)])
        ],
    )
    assert _compact(result_json(response)) == CODEC_EXPECTED


def test_a_vector_sample_is_a_histogram_and_a_mixed_series_has_both_keys() -> None:
    vector = pb.QueryResponse(
        result_type=pb.RESULT_TYPE_VECTOR,
        series=[pb.Series(labels={"a": "b"}, points=[pb.Point(timestamp_ms=1500, histogram=CODEC_CASE)])],
    )
    (row,) = _result(result_json(vector))
    assert row == {"metric": {"a": "b"}, "histogram": [1.5, histogram_json(CODEC_CASE)]}
    matrix = pb.QueryRangeResponse(
        result_type=pb.RESULT_TYPE_MATRIX,
        series=[
            pb.Series(
                labels={},
                points=[
                    pb.Point(timestamp_ms=1000, value=3.0),
                    pb.Point(timestamp_ms=2000, histogram=pb.NativeHistogram(count=0, sum=0)),
                ],
            )
        ],
    )
    (series,) = _result(result_json(matrix))
    # A histogram without populated buckets has no `buckets` key.
    assert series == {"metric": {}, "values": [[1, "3"]], "histograms": [[2, {"count": "0", "sum": "0"}]]}


def test_custom_buckets_and_the_zero_threshold_clip() -> None:
    custom = pb.NativeHistogram(
        schema=-53,
        count=6,
        sum=3,
        positive_spans=[pb.BucketSpan(offset=0, length=3)],
        positive_buckets=[1, 2, 3],
        custom_values=[0.5, 1],
    )
    assert histogram_json(custom)["buckets"] == [
        [3, "-Inf", "0.5", "1"],
        [0, "0.5", "1", "2"],
        [0, "1", "+Inf", "3"],
    ]
    # A bucket reaching into the zero bucket starts at the threshold (AllBucketIterator's clip).
    clipped = pb.NativeHistogram(
        schema=0,
        count=3,
        sum=1,
        zero_threshold=0.75,
        zero_count=1,
        positive_spans=[pb.BucketSpan(offset=0, length=1)],
        positive_buckets=[2],
    )
    assert histogram_json(clipped)["buckets"] == [[3, "-0.75", "0.75", "1"], [0, "0.75", "1", "2"]]


def test_bounds_come_from_prometheus_table_not_from_pow() -> None:
    # The table's sqrt(2)/2, doubled, is one ulp below math's 2 ** 0.5, and Prometheus shows it.
    assert exponential_bound(1, 1) == 1.414213562373095
    assert 2**0.5 == 1.4142135623730951
    assert exponential_bound(3, 5) == 1.0671404006768235
    assert exponential_bound(-8, 8) == EXPONENTIAL_BOUNDS[8][248]
    assert exponential_bound(1024 << 8, 8) == float.fromhex("0x1.fffffffffffffp+1023")
