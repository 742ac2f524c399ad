"""Series written before are not checked again, and what is checked stays refused."""

import pytest

from alerting.v1 import metrics_service_pb2 as pb
from alerting_server.api.metrics import KnownSeries, SampleLimits, samples_from_pb
from alerting_server.errors import InvalidArgument
from alerting_server.query.tsdb import Sample


def request(*samples: tuple[str, dict[str, str], float, int | None]) -> pb.WriteRequest:
    out = pb.WriteRequest()
    for name, labels, value, t_ms in samples:
        sample = out.samples.add(name=name, labels=labels, value=value)
        if t_ms is not None:
            sample.timestamp.FromMilliseconds(t_ms)
    return out


def test_a_known_series_gives_the_same_samples_as_a_first_check() -> None:
    known = KnownSeries()
    write = request(("up", {"job": "api", "empty": ""}, 1.0, 5000), ("up", {"job": "db"}, 0.0, None))
    first = samples_from_pb(write, now=7000, known=known)
    again = samples_from_pb(write, now=7000, known=known)
    assert (
        first
        == again
        == [
            Sample((("__name__", "up"), ("job", "api")), 5000, 1.0),
            Sample((("__name__", "up"), ("job", "db")), 7000, 0.0),
        ]
    )
    assert known.get(("up", (("job", "db"),))) == (("__name__", "up"), ("job", "db"))


def test_an_invalid_series_is_not_remembered_and_stays_refused() -> None:
    known = KnownSeries()
    bad = request(("up", {"job": "api", "0bad": "x"}, 1.0, 5000))
    for _ in range(2):
        with pytest.raises(InvalidArgument) as raised:
            samples_from_pb(bad, now=0, known=known)
        assert [v.field for v in raised.value.violations] == ["samples[0].labels.0bad"]
    assert known.get(("up", (("job", "api"), ("0bad", "x")))) is None


def test_a_series_over_the_limits_is_not_remembered() -> None:
    known = KnownSeries()
    long_value = request(("up", {"job": "x" * 20}, 1.0, 5000))
    with pytest.raises(InvalidArgument):
        samples_from_pb(long_value, now=0, limits=SampleLimits(value_length=10), known=known)
    assert known.get(("up", (("job", "x" * 20),))) is None


def test_a_full_cache_starts_over() -> None:
    known = KnownSeries(capacity=2)
    for job in ("a", "b", "c"):
        samples_from_pb(request(("up", {"job": job}, 1.0, 1)), now=0, known=known)
    assert known.get(("up", (("job", "a"),))) is None
    assert known.get(("up", (("job", "c"),))) == (("__name__", "up"), ("job", "c"))
