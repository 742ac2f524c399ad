"""NativeHistogram messages to and from the engine's FloatHistogram."""

from __future__ import annotations

from alerting.v1 import metrics_service_pb2
from alerting_common.histograms import check_counts, check_layout, expand, spans_of
from alerting_server.errors import Violations
from alerting_server.query.histogram import CounterResetHint, FloatHistogram


def histogram_from_pb(
    violations: Violations, field: str, pb: metrics_service_pb2.NativeHistogram
) -> FloatHistogram | None:
    """The histogram of a message, or None with its problems added (`field`.positive_spans...)."""
    positive_spans = [(s.offset, s.length) for s in pb.positive_spans]
    negative_spans = [(s.offset, s.length) for s in pb.negative_spans]
    problems = check_layout(
        pb.schema,
        positive_spans,
        len(pb.positive_buckets),
        negative_spans,
        len(pb.negative_buckets),
        list(pb.custom_values),
        pb.zero_threshold,
        pb.zero_count,
    )
    problems += check_counts("positive", pb.positive_buckets)
    problems += check_counts("negative", pb.negative_buckets)
    if pb.zero_count < 0:
        problems.append(("zero_count", f"count {pb.zero_count} is negative"))
    if pb.count < 0:
        problems.append(("count", f"count {pb.count} is negative"))
    for name, reason in problems:
        violations.add(f"{field}.{name}", reason)
    if problems:
        return None
    return FloatHistogram(
        schema=pb.schema,
        count=pb.count,
        sum=pb.sum,
        zero_threshold=pb.zero_threshold,
        zero_count=pb.zero_count,
        positive=expand(positive_spans, list(pb.positive_buckets)),
        negative=expand(negative_spans, list(pb.negative_buckets)),
        custom_values=tuple(pb.custom_values),
        counter_reset_hint=CounterResetHint(int(pb.counter_reset_hint)),
    )


def histogram_to_pb(h: FloatHistogram) -> metrics_service_pb2.NativeHistogram:
    positive_spans, positive = spans_of(h.positive)
    negative_spans, negative = spans_of(h.negative)
    return metrics_service_pb2.NativeHistogram(
        schema=h.schema,
        count=h.count,
        sum=h.sum,
        zero_threshold=h.zero_threshold,
        zero_count=h.zero_count,
        positive_spans=[metrics_service_pb2.BucketSpan(offset=o, length=n) for o, n in positive_spans],
        positive_buckets=positive,
        negative_spans=[metrics_service_pb2.BucketSpan(offset=o, length=n) for o, n in negative_spans],
        negative_buckets=negative,
        custom_values=list(h.custom_values),
        counter_reset_hint=metrics_service_pb2.CounterResetHint.ValueType(int(h.counter_reset_hint)),
    )
