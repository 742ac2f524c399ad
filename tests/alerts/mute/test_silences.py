from __future__ import annotations

import pytest

from alerting_server.alerts import SilenceMuter
from alerting_server.model import Silence, SilenceState
from tests.alerts.helpers import firing

T0 = 1_700_000_000_000
HOUR = 3_600_000


def silence(id: str, matchers: tuple[str, ...], starts: int = T0, ends: int = T0 + HOUR) -> Silence:
    return Silence(matchers=matchers, starts_at=starts, ends_at=ends, created_by="me", comment="c", id=id)


@pytest.mark.parametrize(
    ("now", "state", "muted"),
    [
        (T0 - 1, SilenceState.PENDING, []),
        (T0, SilenceState.ACTIVE, ["s"]),
        (T0 + HOUR - 1, SilenceState.ACTIVE, ["s"]),
        (T0 + HOUR, SilenceState.EXPIRED, []),
    ],
)
def test_only_active_silences_mute(now: int, state: SilenceState, muted: list[str]) -> None:
    s = silence("s", ('job="api"',))
    assert s.state(now) is state
    assert SilenceMuter([s]).mutes({"job": "api", "alertname": "X"}, now) == muted


@pytest.mark.parametrize(
    ("matchers", "labels", "muted"),
    [
        (('job="api"', 'env=~"prod|stage"'), {"job": "api", "env": "prod"}, True),
        (('job="api"', 'env=~"prod|stage"'), {"job": "api", "env": "dev"}, False),
        (('job="api"', 'env=~"prod|stage"'), {"job": "api"}, False),
        (('job!="api"',), {"alertname": "X"}, True),
        (('env=~"prod|"',), {"alertname": "X"}, True),  # a missing label matches the empty string
        (('instance!~"web.*"',), {"instance": "web01"}, False),
        ((), {"alertname": "X"}, False),  # an empty silence must not mute everything
    ],
)
def test_matchers(matchers: tuple[str, ...], labels: dict[str, str], muted: bool) -> None:
    assert bool(SilenceMuter([silence("s", matchers)]).mutes(labels, T0)) is muted


def test_every_matching_silence_is_reported_and_next_change() -> None:
    silences = [
        silence("a", ('job="api"',)),
        silence("b", ('alertname="X"',), starts=T0 + 10, ends=T0 + 20),
        silence("c", ('job="db"',)),
    ]
    muter = SilenceMuter(silences)
    alert = firing({"job": "api", "alertname": "X"})
    assert muter.muted_by(alert, T0) == ["a"]
    assert muter.muted_by(alert, T0 + 10) == ["a", "b"]
    assert muter.next_change(T0) == T0 + 10
    assert muter.next_change(T0 + 10) == T0 + 20
    assert muter.next_change(T0 + HOUR) is None
