"""MetricsService.Write's `prometheus_remote_write`: the server decodes a remote-write body itself, and
stores and refuses its samples as it does those of `samples`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import cramjam
import pytest

from alerting.v1 import metrics_service_pb2 as pb
from alerting_common.remote_write import WriteRequest
from alerting_server.api.metrics import MetricsServicer, SampleLimits
from alerting_server.api.remote_write import FIELD, RemoteSeries, remote_write_samples
from alerting_server.clock import SystemClock
from alerting_server.errors import InvalidArgument
from alerting_server.query.datasources import Datasources
from alerting_server.query.labels import Labels
from alerting_server.query.tsdb import Sample
from tests.recording import RecordingStore, as_samples

T0 = 1_700_000_000_000


def body(*series: tuple[dict[str, str], Sequence[tuple[float, int]]]) -> bytes:
    request: Any = WriteRequest()
    for labels, samples in series:
        ts = request.timeseries.add()
        for name, value in labels.items():
            ts.labels.add(name=name, value=value)
        for sample_value, t in samples:
            ts.samples.add(value=sample_value, timestamp=t)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


@dataclass
class Heard:
    calls: list[tuple[list[Labels], int]] = field(default_factory=list)

    def written_series(self, series: Iterable[Labels], newest_ms: int) -> None:
        self.calls.append((list(series), newest_ms))


def servicer(limits: SampleLimits | None = None) -> tuple[MetricsServicer, RecordingStore, Heard]:
    store, heard = RecordingStore(), Heard()
    return (
        MetricsServicer(store, cast(Datasources, None), SystemClock(), heard, limits or SampleLimits()),
        store,
        heard,
    )


async def test_its_samples_come_after_those_of_samples_and_reach_the_listener() -> None:
    metrics, store, heard = servicer()
    request = pb.WriteRequest(
        samples=[pb.Sample(name="up", labels={"job": "a"}, value=1.0)],
        prometheus_remote_write=body(
            ({"__name__": "cpu", "host": "h1", "zone": ""}, [(0.5, T0), (0.75, T0 + 5000)]),
            ({"job": "a", "__name__": "up"}, [(0.0, T0 + 1)]),
        ),
    )
    request.samples[0].timestamp.FromMilliseconds(T0)

    response = await metrics.Write(request, None)

    assert (response.accepted, response.rejected) == (4, 0)
    assert store.batches == [
        [
            Sample((("__name__", "up"), ("job", "a")), T0, 1.0),
            Sample((("__name__", "cpu"), ("host", "h1")), T0, 0.5),
            Sample((("__name__", "cpu"), ("host", "h1")), T0 + 5000, 0.75),
            Sample((("__name__", "up"), ("job", "a")), T0 + 1, 0.0),
        ]
    ]
    up, cpu = (("__name__", "up"), ("job", "a")), (("__name__", "cpu"), ("host", "h1"))
    # Each series written, for the rules reading it.
    assert heard.calls == [([up, cpu, up], T0 + 5000)]


async def test_a_refused_sample_is_counted_on_from_the_samples_field() -> None:
    metrics, store, _ = servicer()
    request = pb.WriteRequest(
        samples=[pb.Sample(name="up", value=1.0)],
        prometheus_remote_write=body(({"__name__": "up"}, [(2.0, T0 - 1)])),
        all_or_nothing=True,
    )
    request.samples[0].timestamp.FromMilliseconds(T0)

    response = await metrics.Write(request, None)

    assert (response.accepted, response.rejected) == (0, 2)
    assert [e.index for e in response.errors] == [1]
    assert store.select([], T0 - 10, T0 + 10) == []


@pytest.mark.parametrize(
    ("labels", "description"),
    [
        ({"job": "a"}, "timeseries[1]: series without a __name__ label"),
        ({"__name__": "0up"}, "timeseries[1].name: "),
        ({"__name__": "up", "0job": "a"}, "timeseries[1].labels.0job: "),
        ({"__name__": "up", "job": "x" * 11}, "timeseries[1].labels: series up{job="),
    ],
    ids=["no-name", "bad-name", "bad-label", "over-a-limit"],
)
async def test_a_series_that_cannot_be_stored_refuses_the_request_naming_it(
    labels: dict[str, str], description: str
) -> None:
    metrics, store, heard = servicer(SampleLimits(value_length=10))
    request = pb.WriteRequest(
        prometheus_remote_write=body(({"__name__": "ok"}, [(1.0, T0)]), (labels, [(1.0, T0)]))
    )

    with pytest.raises(InvalidArgument) as raised:
        await metrics.Write(request, None)

    [violation] = raised.value.violations
    assert violation.field == FIELD
    assert violation.description.startswith(description)
    assert (store.batches, heard.calls) == ([], [])


async def test_a_body_that_does_not_decode_is_refused() -> None:
    metrics, store, _ = servicer()
    for bad in (b"\xff\xff\xff\xff\xff", bytes(cramjam.snappy.compress_raw(b"\x0a\xff"))):
        with pytest.raises(InvalidArgument) as raised:
            await metrics.Write(pb.WriteRequest(prometheus_remote_write=bad), None)
        assert raised.value.violations[0].field == FIELD
    assert store.batches == []


def test_a_series_is_checked_once_and_a_refused_one_every_time() -> None:
    checked: list[str] = []

    def check(violations: Any, field: str, sample: pb.Sample) -> Any:
        checked.append(sample.name)
        if sample.name == "bad":
            violations.add(f"{field}.name", "refused")
            return None
        return (("__name__", sample.name),)

    known = RemoteSeries()
    good = body(({"__name__": "up"}, [(1.0, T0)]))
    for n in range(2):
        samples, series = remote_write_samples(good, known, check)
        assert (as_samples(samples), series) == (
            [Sample((("__name__", "up"),), T0, 1.0)],
            [(("__name__", "up"),)],
        )
        assert checked == ["up"], n
    for _ in range(2):
        with pytest.raises(InvalidArgument):
            remote_write_samples(body(({"__name__": "bad"}, [(1.0, T0)])), known, check)
    assert checked == ["up", "bad", "bad"]
