"""Silences as a muter: which active silences select an alert's labels at a given time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alerting_server.matching import Matcher, matches_all, parse_matcher
from alerting_server.model import Alert, Silence, SilenceState


@dataclass(frozen=True)
class _Compiled:
    silence: Silence
    matchers: tuple[Matcher, ...]


class SilenceMuter:
    """Built from the current silences (any state); matchers are parsed once here.

    A silence with no matchers selects nothing, so an empty silence cannot mute everything.
    """

    def __init__(self, silences: Iterable[Silence]) -> None:
        self._silences = tuple(
            _Compiled(s, tuple(parse_matcher(m) for m in s.matchers)) for s in silences if s.matchers
        )

    def mutes(self, labels: Mapping[str, str], now: int) -> list[str]:
        """Ids of the silences active at `now` whose matchers all match, in the order given."""
        return [
            c.silence.id
            for c in self._silences
            if c.silence.state(now) is SilenceState.ACTIVE and matches_all(c.matchers, labels)
        ]

    def muted_by(self, alert: Alert, now: int) -> list[str]:
        return self.mutes(alert.labels, now)

    def next_change(self, now: int) -> int | None:
        """The first time after `now` at which a silence starts or ends, so muting can be re-evaluated."""
        times = [t for c in self._silences for t in (c.silence.starts_at, c.silence.ends_at) if t > now]
        return min(times, default=None)
