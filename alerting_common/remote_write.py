"""Prometheus remote-write 1.0: the snappy-compressed `prometheus.WriteRequest` its senders post.

Its messages are declared here as far as a receiver reads them, in a private descriptor pool; the
server decodes the body (alerting_server/api/remote_write.py), the gateway checks its headers and
its size before handing it on, and tests and benchmarks build bodies with `WriteRequest`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, TypeAlias, cast

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

from alerting.v1 import metrics_service_pb2
from alerting_common.histograms import Problem, Span, check_counts, check_layout

MEDIA_TYPE = "application/x-protobuf"
V1_MESSAGE = "prometheus.WriteRequest"
# A snappy block expands at most ~21x; the cap keeps a small hostile body from costing a large buffer.
DEFAULT_MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024
_FIELD = descriptor_pb2.FieldDescriptorProto
_Type: TypeAlias = descriptor_pb2.FieldDescriptorProto.Type.ValueType
# A series' labels as sent, each a serialized prometheus.Label.
EncodedLabels: TypeAlias = tuple[bytes, ...]
# The oldest and newest instants a google.protobuf.Timestamp holds (years 1 and 9999), in ms.
MIN_MS = -62_135_596_800_000
MAX_MS = 253_402_300_799_999
OUT_OF_RANGE = "is out of the range of a timestamp"


class RemoteWriteError(Exception):
    """A request answered with `status` and a plain-text body, before anything is written."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class PromLabel(Protocol):
    name: str
    value: str


class PromSample(Protocol):
    value: float
    timestamp: int


class PromBucketSpan(Protocol):
    offset: int
    length: int


class PromHistogram(Protocol):
    count_int: int
    count_float: float
    sum: float
    schema: int
    zero_threshold: float
    zero_count_int: int
    zero_count_float: float
    negative_spans: Sequence[PromBucketSpan]
    negative_deltas: Sequence[int]
    negative_counts: Sequence[float]
    positive_spans: Sequence[PromBucketSpan]
    positive_deltas: Sequence[int]
    positive_counts: Sequence[float]
    reset_hint: int
    timestamp: int
    custom_values: Sequence[float]

    def WhichOneof(self, name: str) -> str | None: ...


class PromTimeSeries(Protocol):
    # Each label as it was sent: a serialized prometheus.Label.
    labels: Sequence[bytes]
    samples: Sequence[PromSample]
    histograms: Sequence[PromHistogram]


class PromWriteRequest(Protocol):
    timeseries: Sequence[PromTimeSeries]


def _message(name: str, *fields: tuple[str, int, _Type, str]) -> descriptor_pb2.DescriptorProto:
    message = descriptor_pb2.DescriptorProto(name=name)
    for field_name, number, field_type, type_name in fields:
        message.field.add(
            name=field_name, number=number, type=field_type, type_name=type_name, label=_FIELD.LABEL_REPEATED
        )
    return message


def _scalar(
    name: str, number: int, field_type: _Type, oneof: int | None = None
) -> descriptor_pb2.FieldDescriptorProto:
    field = _FIELD(name=name, number=number, type=field_type, label=_FIELD.LABEL_OPTIONAL)
    if oneof is not None:
        field.oneof_index = oneof
    return field


def _repeated(
    name: str, number: int, field_type: _Type, type_name: str = ""
) -> descriptor_pb2.FieldDescriptorProto:
    field = _FIELD(name=name, number=number, type=field_type, label=_FIELD.LABEL_REPEATED)
    if type_name:
        field.type_name = type_name
    return field


def _histogram_message() -> descriptor_pb2.DescriptorProto:
    """prompb's Histogram (types.proto); ResetHint read as a plain int32, its values 0..3."""
    span = ".prometheus.BucketSpan"
    return descriptor_pb2.DescriptorProto(
        name="Histogram",
        field=[
            _scalar("count_int", 1, _FIELD.TYPE_UINT64, 0),
            _scalar("count_float", 2, _FIELD.TYPE_DOUBLE, 0),
            _scalar("sum", 3, _FIELD.TYPE_DOUBLE),
            _scalar("schema", 4, _FIELD.TYPE_SINT32),
            _scalar("zero_threshold", 5, _FIELD.TYPE_DOUBLE),
            _scalar("zero_count_int", 6, _FIELD.TYPE_UINT64, 1),
            _scalar("zero_count_float", 7, _FIELD.TYPE_DOUBLE, 1),
            _repeated("negative_spans", 8, _FIELD.TYPE_MESSAGE, span),
            _repeated("negative_deltas", 9, _FIELD.TYPE_SINT64),
            _repeated("negative_counts", 10, _FIELD.TYPE_DOUBLE),
            _repeated("positive_spans", 11, _FIELD.TYPE_MESSAGE, span),
            _repeated("positive_deltas", 12, _FIELD.TYPE_SINT64),
            _repeated("positive_counts", 13, _FIELD.TYPE_DOUBLE),
            _scalar("reset_hint", 14, _FIELD.TYPE_INT32),
            _scalar("timestamp", 15, _FIELD.TYPE_INT64),
            _repeated("custom_values", 16, _FIELD.TYPE_DOUBLE),
        ],
        oneof_decl=[
            descriptor_pb2.OneofDescriptorProto(name="count"),
            descriptor_pb2.OneofDescriptorProto(name="zero_count"),
        ],
    )


def _message_classes() -> tuple[type[Message], type[Message], type[Message], type[Message]]:
    """prompb's WriteRequest, declared only as far as this receiver reads it; the same read with
    each label left encoded; a TimeSeries so read; and a Label.

    Undeclared fields (metadata, exemplars) parse as unknown fields and are dropped.
    """
    label = descriptor_pb2.DescriptorProto(
        name="Label", field=[_scalar("name", 1, _FIELD.TYPE_STRING), _scalar("value", 2, _FIELD.TYPE_STRING)]
    )
    sample = descriptor_pb2.DescriptorProto(
        name="Sample",
        field=[_scalar("value", 1, _FIELD.TYPE_DOUBLE), _scalar("timestamp", 2, _FIELD.TYPE_INT64)],
    )
    series = _message(
        "TimeSeries",
        ("labels", 1, _FIELD.TYPE_MESSAGE, ".prometheus.Label"),
        ("samples", 2, _FIELD.TYPE_MESSAGE, ".prometheus.Sample"),
        ("histograms", 4, _FIELD.TYPE_MESSAGE, ".prometheus.Histogram"),
    )
    request = _message("WriteRequest", ("timeseries", 1, _FIELD.TYPE_MESSAGE, ".prometheus.TimeSeries"))
    # The same wire format read with each label left as its bytes: they key the series seen before
    # without a message per label.
    raw_series = descriptor_pb2.DescriptorProto(
        name="RawTimeSeries",
        field=[
            _repeated("labels", 1, _FIELD.TYPE_BYTES),
            _repeated("samples", 2, _FIELD.TYPE_MESSAGE, ".prometheus.Sample"),
            _repeated("histograms", 4, _FIELD.TYPE_MESSAGE, ".prometheus.Histogram"),
        ],
    )
    raw_request = _message(
        "RawWriteRequest", ("timeseries", 1, _FIELD.TYPE_MESSAGE, ".prometheus.RawTimeSeries")
    )
    file = descriptor_pb2.FileDescriptorProto(
        name="gateway/prometheus_remote_write.proto",
        package="prometheus",
        syntax="proto3",
        message_type=[
            request,
            series,
            raw_request,
            raw_series,
            label,
            sample,
            _histogram_message(),
            descriptor_pb2.DescriptorProto(
                name="BucketSpan",
                field=[_scalar("offset", 1, _FIELD.TYPE_SINT32), _scalar("length", 2, _FIELD.TYPE_UINT32)],
            ),
        ],
    )
    # A private pool: the generated alerting.v1 code owns the default one, and another library may
    # register its own `prometheus.WriteRequest` there.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return cast(
        tuple[type[Message], type[Message], type[Message], type[Message]],
        tuple(
            message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
            for name in (
                V1_MESSAGE,
                "prometheus.RawWriteRequest",
                "prometheus.RawTimeSeries",
                "prometheus.Label",
            )
        ),
    )


WriteRequest, RawWriteRequest, RawTimeSeries, _Label = _message_classes()


def decode(body: bytes, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> PromWriteRequest:
    """The WriteRequest of a snappy-compressed body; each series' labels left as their bytes."""
    return parse(decompress(body, max_decompressed_bytes))


def decompress(body: bytes, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> bytes:
    """The protobuf bytes of a snappy-compressed body, within the cap."""
    decompressed_size(body, max_decompressed_bytes)
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise RemoteWriteError(400, str(exc)) from None


def parse(raw: bytes) -> PromWriteRequest:
    """The WriteRequest of decompressed protobuf bytes; each series' labels left as their bytes."""
    request = RawWriteRequest()
    try:
        request.ParseFromString(raw)
    except DecodeError as exc:
        raise RemoteWriteError(400, f"malformed protobuf: {exc}") from None
    return cast(PromWriteRequest, request)


def split_labels(labels: bytes) -> EncodedLabels:
    """Each label of a run of a TimeSeries' Label fields as sent (the compiled reader gives a
    series' labels so), as bytes of its own."""
    try:
        return tuple(cast(PromTimeSeries, RawTimeSeries.FromString(labels)).labels)
    except DecodeError as exc:
        raise RemoteWriteError(400, f"malformed protobuf: {exc}") from None


def decompressed_size(body: bytes, max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES) -> int:
    """The size the body says it decompresses to, read from its header: 400 when that does not
    decode, 413 over the cap."""
    try:
        size = int(cramjam.snappy.decompress_raw_len(body))
    except cramjam.DecompressionError as exc:
        raise RemoteWriteError(400, str(exc)) from None
    if size > max_decompressed_bytes:
        raise RemoteWriteError(413, f"decompressed body of {size} bytes exceeds {max_decompressed_bytes}")
    return size


def name_and_labels(index: int, encoded: EncodedLabels) -> tuple[str, dict[str, str]]:
    labels: dict[str, str] = {}
    for raw in encoded:
        try:
            label = cast(PromLabel, _Label.FromString(raw))
        except DecodeError as exc:
            raise RemoteWriteError(400, f"malformed protobuf: timeseries[{index}].labels: {exc}") from None
        if label.name in labels:
            raise RemoteWriteError(400, f"timeseries[{index}]: duplicate label {label.name!r}")
        labels[label.name] = label.value
    name = labels.pop("__name__", "")
    if not name:
        raise RemoteWriteError(400, f"timeseries[{index}]: series without a __name__ label: {labels}")
    # In Prometheus an empty label value is the same as the label being absent.
    return name, {k: v for k, v in labels.items() if v}


def to_native_histogram(h: PromHistogram, path: str) -> metrics_service_pb2.NativeHistogram:
    """A remote-written histogram (integer counts as deltas, or float counts) as the Write call takes
    it; 400 naming the field (`path`.positive_spans) when Prometheus' Validate would refuse it."""
    integer = h.WhichOneof("count") != "count_float"
    positive_spans: list[Span] = [(s.offset, s.length) for s in h.positive_spans]
    negative_spans: list[Span] = [(s.offset, s.length) for s in h.negative_spans]
    if integer:
        if h.positive_counts or h.negative_counts:
            side = "positive" if h.positive_counts else "negative"
            raise RemoteWriteError(
                400, f"{path}.{side}_counts: a histogram of integer counts gives its buckets as deltas"
            )
        positive, positive_field = _cumulated(h.positive_deltas), "positive_deltas"
        negative, negative_field = _cumulated(h.negative_deltas), "negative_deltas"
        count, zero_count = float(h.count_int), float(h.zero_count_int)
    else:
        if h.positive_deltas or h.negative_deltas:
            side = "positive" if h.positive_deltas else "negative"
            raise RemoteWriteError(
                400, f"{path}.{side}_deltas: a histogram of float counts gives its buckets as counts"
            )
        positive, positive_field = list(h.positive_counts), "positive_counts"
        negative, negative_field = list(h.negative_counts), "negative_counts"
        count, zero_count = h.count_float, h.zero_count_float
    problems = check_layout(
        h.schema,
        positive_spans,
        len(positive),
        negative_spans,
        len(negative),
        list(h.custom_values),
        h.zero_threshold,
        zero_count,
    )
    problems += check_counts("positive", positive) + check_counts("negative", negative)
    if zero_count < 0:
        problems.append(("zero_count_float", f"count {zero_count} is negative"))
    if count < 0:
        problems.append(("count_float", f"count {count} is negative"))
    if not problems and integer:
        problems += _check_integer_total(h, sum(positive) + sum(negative) + zero_count, count)
    if problems:
        field, reason = problems[0]
        field = field.replace("positive_buckets", positive_field).replace("negative_buckets", negative_field)
        raise RemoteWriteError(400, f"{path}.{field}: {reason}")
    return metrics_service_pb2.NativeHistogram(
        schema=h.schema,
        count=count,
        sum=h.sum,
        zero_threshold=h.zero_threshold,
        zero_count=zero_count,
        positive_spans=[metrics_service_pb2.BucketSpan(offset=o, length=n) for o, n in positive_spans],
        positive_buckets=positive,
        negative_spans=[metrics_service_pb2.BucketSpan(offset=o, length=n) for o, n in negative_spans],
        negative_buckets=negative,
        custom_values=list(h.custom_values),
        counter_reset_hint=metrics_service_pb2.CounterResetHint.ValueType(
            h.reset_hint if 0 <= h.reset_hint <= 3 else 0
        ),
    )


def _cumulated(deltas: Sequence[int]) -> list[float]:
    out: list[float] = []
    total = 0
    for d in deltas:
        total += d
        out.append(float(total))
    return out


def _check_integer_total(h: PromHistogram, in_buckets: float, count: float) -> list[Problem]:
    """Histogram.Validate's count check: the buckets hold every observation (at most the count when
    the sum is NaN, as NaN observations are counted apart)."""
    if math.isnan(h.sum):
        if in_buckets > count:
            return [
                ("count_int", f"{in_buckets:.0f} observations in buckets, more than the count {count:.0f}")
            ]
    elif in_buckets != count:
        return [("count_int", f"{in_buckets:.0f} observations in buckets, but the count is {count:.0f}")]
    return []
