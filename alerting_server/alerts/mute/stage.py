"""The mute stage: which silences and inhibitions mute each alert now."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from alerting_server.alerts import history
from alerting_server.alerts.dispatch.aggregation import Muter
from alerting_server.alerts.live import LiveAlerts
from alerting_server.alerts.mute.inhibit import Inhibitor
from alerting_server.alerts.mute.silences import SilenceMuter
from alerting_server.alerts.watch import EventType
from alerting_server.model import Alert, InhibitRule, Silence


class MuteStage:
    def __init__(self, others: Callable[[], Iterable[Alert]] | None = None) -> None:
        # Alerts outside the live set that may inhibit it (several replicas: other partitions' alerts).
        self._others = others
        self._silences = SilenceMuter(())
        self._inhibitor = Inhibitor(())
        self._has_inhibit_rules = False
        self._all = True
        self._muted_at = 0

    def configure(self, silences: Sequence[Silence], inhibit_rules: Sequence[InhibitRule]) -> None:
        self._silences = SilenceMuter(silences)
        self._inhibitor = Inhibitor(inhibit_rules)
        self._has_inhibit_rules = bool(inhibit_rules)
        self._all = True

    @property
    def muters(self) -> Sequence[Muter]:
        return (self._silences, self._inhibitor)

    async def run(self, live: LiveAlerts, now: int) -> None:
        """Silences and inhibitions of the alerts that may have changed: all of them when the
        configuration changed, a silence started or ended, or inhibit rules relate alerts to each
        other; otherwise only the alerts that changed since the last step."""
        change = self._silences.next_change(self._muted_at)
        if self._all or self._has_inhibit_rules or (change is not None and change <= now):
            sources: Iterable[Alert] = live.by_fingerprint.values()
            if self._others is not None:
                # The live versions last: of one alert's versions the last one counts.
                sources = [*self._others(), *sources]
            self._inhibitor.update(sources, now)
            candidates = list(live.by_fingerprint.values())
        else:
            candidates = [a for fp in live.unmuted if (a := live.get(fp)) is not None]
        self._all = False
        live.unmuted.clear()
        self._muted_at = now
        for alert in candidates:
            silenced = tuple(self._silences.mutes(alert.labels, now))
            inhibited = tuple(self._inhibitor.inhibited_by(alert.labels))
            if (silenced, inhibited) != (alert.silenced_by, alert.inhibited_by):
                muted = live.replace(alert, silenced_by=silenced, inhibited_by=inhibited)
                live.history.extend(history.muting(alert, muted, now))
                live.events.append((EventType.UPDATED, muted))

    def next_wakeup(self, live: LiveAlerts, now: int) -> int | None:
        return self._silences.next_change(now)
