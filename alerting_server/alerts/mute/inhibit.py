"""Inhibition as a muter, with the edge cases of Alertmanager's inhibit/inhibit.go.

- Only firing alerts inhibit; a resolved source stops inhibiting at once.
- `equal` labels must have the same value on source and target; a label missing on both
  sides, or missing on one and empty on the other, counts as equal (Go reads a missing key
  as "").
- When the target also matches the rule's source side, sources that match the target side
  too are disregarded, so an alert never inhibits itself nor its twins
  (`excludeTwoSidedMatch`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alerting_server.alerts.state import is_firing
from alerting_server.matching import Matcher, matches_all, parse_matcher
from alerting_server.model import Alert, InhibitRule


@dataclass(frozen=True)
class _Source:
    fingerprint: str
    labels: Mapping[str, str]


class _CompiledRule:
    def __init__(self, rule: InhibitRule) -> None:
        self.source: tuple[Matcher, ...] = tuple(parse_matcher(m) for m in rule.source_matchers)
        self.target: tuple[Matcher, ...] = tuple(parse_matcher(m) for m in rule.target_matchers)
        self.equal = tuple(dict.fromkeys(rule.equal))
        self.sources: list[_Source] = []

    def inhibitors(self, labels: Mapping[str, str]) -> list[str]:
        if not matches_all(self.target, labels):
            return []
        exclude_two_sided = matches_all(self.source, labels)
        return [
            s.fingerprint
            for s in self.sources
            if all(s.labels.get(n, "") == labels.get(n, "") for n in self.equal)
            and not (exclude_two_sided and matches_all(self.target, s.labels))
        ]


class Inhibitor:
    """Answers "which alerts inhibit this one" from the rules and the alerts last fed with `update`."""

    def __init__(self, rules: Iterable[InhibitRule]) -> None:
        self._rules = [_CompiledRule(r) for r in rules]

    def update(self, alerts: Iterable[Alert], now: int) -> None:
        """Replace the known alerts; those not firing at `now` are dropped, as they cannot inhibit.

        Of several versions of one alert (same fingerprint) the last one given counts, as in a store.
        """
        for rule in self._rules:
            rule.sources = []
        latest = {a.fingerprint: a for a in alerts}
        for alert in latest.values():
            if not is_firing(alert, now):
                continue
            for rule in self._rules:
                if matches_all(rule.source, alert.labels):
                    rule.sources.append(_Source(alert.fingerprint, alert.labels))

    def inhibited_by(self, labels: Mapping[str, str]) -> list[str]:
        """Fingerprints of the firing alerts inhibiting `labels`, without duplicates, in rule order."""
        found: dict[str, None] = {}
        for rule in self._rules:
            found.update(dict.fromkeys(rule.inhibitors(labels)))
        return list(found)

    def muted_by(self, alert: Alert, now: int) -> list[str]:
        # `now` is fixed by the last `update`; the parameter is there to fit the Muter protocol.
        return self.inhibited_by(alert.labels)
