"""MetricsService: writes into the embedded time-series store and PromQL queries over it."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import promql_parser as pp

from alerting.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from alerting_server.api.convert import ts_from_pb
from alerting_server.api.histograms import histogram_from_pb, histogram_to_pb
from alerting_server.api.remote_write import RemoteSeries, SeriesCheck, remote_write_samples
from alerting_server.api.seen import SeenSeries
from alerting_server.clock import Clock
from alerting_server.errors import InvalidArgument, Violations
from alerting_server.query.ast import selector_matchers
from alerting_server.query.datasources import Datasources
from alerting_server.query.engine import parse
from alerting_server.query.histogram import FloatHistogram
from alerting_server.query.labels import Labels, Matcher, format_series, from_mapping
from alerting_server.query.result import Result, ValueKind
from alerting_server.query.tsdb import HistogramSample, Sample, SampleColumns, WriteResult
from alerting_server.validation.limits import MAX_LABEL_NAME_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_LABELS
from alerting_server.validation.names import check_label_name, check_metric_name

_RESULT_TYPE = {
    ValueKind.VECTOR: metrics_service_pb2.RESULT_TYPE_VECTOR,
    ValueKind.MATRIX: metrics_service_pb2.RESULT_TYPE_MATRIX,
    ValueKind.SCALAR: metrics_service_pb2.RESULT_TYPE_SCALAR,
    ValueKind.STRING: metrics_service_pb2.RESULT_TYPE_STRING,
}
# Prometheus' cap on the points of one range query.
MAX_RANGE_POINTS = 11_000
# How much of a refused series an error shows.
_SHOWN_LENGTH = 64
_SHOWN_LABELS = 8

# Prometheus' warning beside a listing cut short by its `limit`; Grafana looks for these words.
TRUNCATED = "results truncated due to limit"
_UNBOUNDED = 2**62


def _series(result: Result) -> list[metrics_service_pb2.Series]:
    return [
        metrics_service_pb2.Series(labels=s.labels_dict, points=_points(s.points(), s.histograms))
        for s in result.series
    ]


def _points(
    points: list[tuple[int, float]], histograms: list[FloatHistogram | None] | None
) -> list[metrics_service_pb2.Point]:
    if histograms is None:
        return [metrics_service_pb2.Point(timestamp_ms=t, value=v) for t, v in points]
    return [
        metrics_service_pb2.Point(timestamp_ms=t, value=v)
        if h is None
        else metrics_service_pb2.Point(timestamp_ms=t, histogram=histogram_to_pb(h))
        for (t, v), h in zip(points, histograms, strict=True)
    ]


@dataclass(frozen=True)
class SampleLimits:
    """What one written series may carry, as Prometheus' remote-write receivers limit it
    (label_limit, label_name_length_limit, label_value_length_limit); the count includes the name."""

    labels: int = MAX_LABELS
    name_length: int = MAX_LABEL_NAME_LENGTH
    value_length: int = MAX_LABEL_VALUE_LENGTH


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH] + "…"


def _series_name(name: str, labels: Mapping[str, str]) -> str:
    """The series in PromQL notation, long names and values cut short and at most a few labels:
    an error names the series without echoing what was too large."""
    shown = {_shown(k): _shown(v) for k, v in itertools.islice(labels.items(), _SHOWN_LABELS)}
    text = format_series(from_mapping({**shown, "__name__": _shown(name)}))
    return text[:-1] + ", …}" if len(labels) > _SHOWN_LABELS else text


def _check_limits(
    violations: Violations, field: str, sample: metrics_service_pb2.Sample, limits: SampleLimits
) -> bool:
    """Adds a violation naming the series when it is over a limit; True when it is within them."""
    count = len(sample.labels) + 1
    if count > limits.labels:
        problem = f"{count} labels (the name included), more than the limit of {limits.labels}"
    elif len(sample.name) > limits.value_length:
        problem = f"a name of {len(sample.name)} characters, more than the limit of {limits.value_length}"
    else:
        long_name = next((k for k in sample.labels if len(k) > limits.name_length), None)
        long_value = next((k for k, v in sample.labels.items() if len(v) > limits.value_length), None)
        if long_name is not None:
            problem = (
                f"label name {_shown(long_name)!r} of {len(long_name)} characters, "
                f"more than the limit of {limits.name_length}"
            )
        elif long_value is not None:
            length = len(sample.labels[long_value])
            problem = (
                f"label {long_value} has a value of {length} characters, "
                f"more than the limit of {limits.value_length}"
            )
        else:
            return True
    violations.add(field, f"series {_series_name(sample.name, sample.labels)}: {problem}")
    return False


# The label sets of series already written and found valid, by name and labels as written.
KnownSeries = SeenSeries[tuple[str, tuple[tuple[str, str], ...]], Labels]


def series_labels(
    violations: Violations, field: str, sample: metrics_service_pb2.Sample, limits: SampleLimits
) -> Labels | None:
    """The label set of the sample's series, with a violation for each way it cannot be stored
    (`field` names the sample); None when it is over a limit, which is not looked into further."""
    if not _check_limits(violations, f"{field}.labels", sample, limits):
        return None
    check_metric_name(violations, f"{field}.name", sample.name)
    for name in sample.labels:
        check_label_name(violations, f"{field}.labels.{name}", name, max_length=limits.name_length)
    if "__name__" in sample.labels:
        violations.add(f"{field}.labels.__name__", "set the metric name in `name`")
    return from_mapping({**sample.labels, "__name__": sample.name})


def samples_from_pb(
    request: metrics_service_pb2.WriteRequest,
    now: int,
    limits: SampleLimits = SampleLimits(),
    known: KnownSeries | None = None,
) -> list[Sample]:
    """Validated samples; every bad one is named (samples[3].name) and none is written then.

    `known` holds series found valid before under the same limits; they are not checked again."""
    violations = Violations()
    samples: list[Sample] = []
    for i, s in enumerate(request.samples):
        if known is not None and not s.HasField("histogram"):
            key = (s.name, tuple(s.labels.items()))
            found = known.get(key)
            if found is not None:
                t = ts_from_pb(s, "timestamp")
                samples.append(Sample(found, now if t is None else t, s.value))
                continue
        else:
            key = None
        before = len(violations.items)
        labels = series_labels(violations, f"samples[{i}]", s, limits)
        if labels is None:
            continue
        t = ts_from_pb(s, "timestamp")
        if key is not None and known is not None and len(violations.items) == before:
            known.add(key, labels)
        if s.HasField("histogram"):
            if s.value != 0:
                violations.add(f"samples[{i}].value", "a histogram sample has no float value: leave it 0")
            h = histogram_from_pb(violations, f"samples[{i}].histogram", s.histogram)
            if h is not None:
                samples.append(HistogramSample(labels, now if t is None else t, math.nan, h))
            continue
        samples.append(Sample(labels, now if t is None else t, s.value))
    violations.raise_if_any()
    return samples


class Store(Protocol):
    """The embedded time-series store, as this service writes and lists it."""

    def append(
        self, batch: Sequence[Sample] | SampleColumns, *, all_or_nothing: bool = False
    ) -> WriteResult: ...

    def series_matching(
        self, matcher_sets: Sequence[Sequence[Matcher]], mint_ms: int, maxt_ms: int
    ) -> list[Labels]: ...


def _selector(text: str, field: str) -> list[list[Matcher]]:
    try:
        expr = parse(text)
    except InvalidArgument as exc:
        raise InvalidArgument.field(field, exc.violations[0].description) from None
    if not isinstance(expr, pp.VectorSelector):
        raise InvalidArgument.field(field, f'{text!r} is not a series selector such as up{{job="api"}}')
    return selector_matchers(expr)


def _selected(
    store: Store,
    selection: metrics_service_pb2.SeriesSelection,
    violations: Violations,
    *,
    match_required: bool = False,
) -> list[Labels]:
    """The series the selection picks; raises InvalidArgument with every violation, those of the
    request's other fields already in `violations` too."""
    if match_required and not selection.match:
        violations.add("selection.match", "at least one series selector is required")
    if selection.limit < 0:
        violations.add("selection.limit", "limit must be non-negative")
    matcher_sets: list[list[Matcher]] = []
    for i, text in enumerate(selection.match):
        try:
            matcher_sets.extend(_selector(text, f"selection.match[{i}]"))
        except InvalidArgument as exc:
            violations.extend(exc)
    start, end = ts_from_pb(selection, "start"), ts_from_pb(selection, "end")
    if start is not None and end is not None and end < start:
        violations.add("selection.end", "end timestamp must not be before start time")
    violations.raise_if_any()
    return store.series_matching(
        matcher_sets, -_UNBOUNDED if start is None else start, _UNBOUNDED if end is None else end
    )


def _limited(items: list[str], limit: int) -> tuple[list[str], list[str]]:
    if 0 < limit < len(items):
        return items[:limit], [TRUNCATED]
    return items, []


class WriteListener(Protocol):
    """The rule engine: told which series got samples, and the newest of their timestamps, so that
    the rules reading them evaluate now."""

    def written_series(self, series: Iterable[Labels], newest_ms: int) -> None: ...


class MetricsServicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(
        self,
        tsdb: Store,
        datasources: Datasources,
        clock: Clock,
        listener: WriteListener | None = None,
        limits: SampleLimits = SampleLimits(),
    ) -> None:
        self._tsdb = tsdb
        self._limits = limits
        self._datasources = datasources
        self._clock = clock
        self._listener = listener
        self._known = KnownSeries()
        self._remote = RemoteSeries()
        self._check_series: SeriesCheck = functools.partial(series_labels, limits=limits)

    async def Write(
        self, request: metrics_service_pb2.WriteRequest, context: object
    ) -> metrics_service_pb2.WriteResponse:
        samples = SampleColumns.of(samples_from_pb(request, self._clock.now_ms(), self._limits, self._known))
        series = list(samples.labels)
        if request.prometheus_remote_write:
            remote, remote_series = remote_write_samples(
                request.prometheus_remote_write, self._remote, self._check_series
            )
            samples = samples.joined(remote) if samples.ts else remote
            series += remote_series
        if not samples.ts:
            return metrics_service_pb2.WriteResponse()
        result = self._tsdb.append(samples, all_or_nothing=request.all_or_nothing)
        if self._listener is not None and result.accepted:
            self._listener.written_series(series, max(samples.ts))
        return metrics_service_pb2.WriteResponse(
            accepted=result.accepted,
            rejected=result.rejected,
            errors=[metrics_service_pb2.SampleError(index=i, reason=reason) for i, reason in result.errors],
        )

    async def Query(
        self, request: metrics_service_pb2.QueryRequest, context: object
    ) -> metrics_service_pb2.QueryResponse:
        if not request.query:
            raise InvalidArgument.field("query", "required")
        t = ts_from_pb(request, "time")
        result = await self._datasources.instant(
            request.datasource, request.query, self._clock.now_ms() if t is None else t
        )
        response = metrics_service_pb2.QueryResponse(
            result_type=_RESULT_TYPE[result.kind], series=_series(result), warnings=result.warnings
        )
        if result.kind is ValueKind.SCALAR:
            response.scalar.CopyFrom(metrics_service_pb2.Point(timestamp_ms=result.t_ms, value=result.scalar))
        elif result.kind is ValueKind.STRING:
            response.scalar.timestamp_ms = result.t_ms
            response.string_value = result.string
        return response

    async def QueryRange(
        self, request: metrics_service_pb2.QueryRangeRequest, context: object
    ) -> metrics_service_pb2.QueryRangeResponse:
        violations = Violations()
        if not request.query:
            violations.add("query", "required")
        start, end = ts_from_pb(request, "start"), ts_from_pb(request, "end")
        step = request.step.ToMilliseconds() if request.HasField("step") else 0
        if start is None:
            violations.add("start", "required")
        if end is None:
            violations.add("end", "required")
        if step <= 0:
            violations.add("step", "zero or negative query resolution step widths are not accepted")
        violations.raise_if_any()
        assert start is not None
        assert end is not None
        if end < start:
            raise InvalidArgument.field("end", "end timestamp must not be before start time")
        if math.floor((end - start) / step) > MAX_RANGE_POINTS:
            raise InvalidArgument.field(
                "step",
                "exceeded maximum resolution of 11,000 points per timeseries; "
                "try decreasing the query resolution",
            )
        result = await self._datasources.range(request.datasource, request.query, start, end, step)
        return metrics_service_pb2.QueryRangeResponse(
            result_type=_RESULT_TYPE[result.kind], series=_series(result), warnings=result.warnings
        )

    async def ListLabelNames(
        self, request: metrics_service_pb2.ListLabelNamesRequest, context: object
    ) -> metrics_service_pb2.ListLabelNamesResponse:
        series = _selected(self._tsdb, request.selection, Violations())
        names, warnings = _limited(
            sorted({name for labels in series for name, _ in labels}), request.selection.limit
        )
        return metrics_service_pb2.ListLabelNamesResponse(names=names, warnings=warnings)

    async def ListLabelValues(
        self, request: metrics_service_pb2.ListLabelValuesRequest, context: object
    ) -> metrics_service_pb2.ListLabelValuesResponse:
        violations = Violations()
        check_label_name(violations, "name", request.name)
        series = _selected(self._tsdb, request.selection, violations)
        found = {value for labels in series for name, value in labels if name == request.name}
        values, warnings = _limited(sorted(found), request.selection.limit)
        return metrics_service_pb2.ListLabelValuesResponse(values=values, warnings=warnings)

    async def ListSeries(
        self, request: metrics_service_pb2.ListSeriesRequest, context: object
    ) -> metrics_service_pb2.ListSeriesResponse:
        series = _selected(self._tsdb, request.selection, Violations(), match_required=True)
        limit = request.selection.limit
        warnings = [TRUNCATED] if 0 < limit < len(series) else []
        return metrics_service_pb2.ListSeriesResponse(
            series=[metrics_service_pb2.LabelSet(labels=dict(labels)) for labels in series[: limit or None]],
            warnings=warnings,
        )
