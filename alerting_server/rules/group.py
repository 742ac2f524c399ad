"""A rule group evaluated at one timestamp, as Prometheus' rules/group.go does it.

Rules run in file order and each one's output is written before the next runs, so a recording
rule feeds the rules after it. A series a rule produced on its previous evaluation and not on
this one gets a stale marker at this timestamp, so queries stop seeing it at once instead of
after the 5-minute lookback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from alerting_server.errors import AlertingError
from alerting_server.model import Rule, RuleType
from alerting_server.model.alert import Alert
from alerting_server.model.rule import RuleHealth
from alerting_server.query.labels import Labels
from alerting_server.query.storage import STALE_NAN
from alerting_server.query.tsdb import Sample, WriteResult
from alerting_server.query.xxhash import labels_hash
from alerting_server.rules.alerting import ALERT_FOR_STATE_METRIC, ALERT_METRIC, AlertChange, AlertingRule
from alerting_server.rules.reads import known_reads
from alerting_server.rules.recording import RecordingRule
from alerting_server.rules.vector import EngineQuery, Prefetched, QueryFunc

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 15_000


def _shareable(rules: Sequence[AlertingRule | RecordingRule]) -> list[bool]:
    """Which rules' queries may be evaluated ahead of the group: those that read nothing the group's
    own rules write (recorded metrics, ALERTS), which would otherwise change under them."""
    written = {r.name for r in rules if isinstance(r, RecordingRule)}
    if any(isinstance(r, AlertingRule) for r in rules):
        written |= {ALERT_METRIC, ALERT_FOR_STATE_METRIC}
    out = []
    for rule in rules:
        info = known_reads(rule.rule.query)
        # A selector naming no single metric could read anything: never ahead.
        out.append(info is not None and not info.name_matchers and not info.metric_names & written)
    return out


class Appendable(Protocol):
    def append(self, batch: Sequence[Sample]) -> WriteResult: ...


@dataclass
class RuleStatus:
    health: RuleHealth = RuleHealth.UNKNOWN
    last_error: str = ""
    last_evaluation: int | None = None
    last_evaluation_duration_s: float | None = None


@dataclass
class GroupEval:
    changes: list[AlertChange] = field(default_factory=list)


class Group:
    def __init__(
        self,
        name: str,
        rules: Sequence[Rule],
        interval_ms: int = DEFAULT_INTERVAL_MS,
        *,
        file: str = "",
        external_labels: Mapping[str, str] | None = None,
        external_url: str = "",
        alert_room: Callable[[], int | None] = lambda: None,
    ) -> None:
        self.name = name
        # How many more alerts the alert stage takes (None: no bound), read once per evaluation.
        self._alert_room = alert_room
        self.file = file
        self.interval_ms = interval_ms
        self.rules: list[AlertingRule | RecordingRule] = [
            RecordingRule(r)
            if r.type is RuleType.RECORDING
            else AlertingRule(r, external_labels, external_url)
            for r in rules
        ]
        self.status = [RuleStatus() for _ in self.rules]
        self._previous: list[dict[Labels, None]] = [{} for _ in self.rules]
        self._shareable = _shareable(self.rules)

    def eval(
        self, ts: int, query: QueryFunc, storage: Appendable, only: Collection[int] | None = None
    ) -> GroupEval:
        """Evaluates the rules in order; `only` limits it to those positions (their inputs changed, or an
        evaluation in slices), which is the same as evaluating the others to the same result."""
        out = GroupEval()
        query = self._prefetch(ts, query, only)
        room = self._alert_room()
        for i, rule in enumerate(self.rules):
            if only is not None and i not in only:
                continue
            status = self.status[i]
            started = time.perf_counter()
            status.last_evaluation = ts
            try:
                if isinstance(rule, AlertingRule):
                    result = rule.eval(ts, query, room)
                    samples = result.samples
                    out.changes.extend(result.changes)
                    if room is not None:
                        room -= result.admitted
                else:
                    samples = rule.eval(ts, query)
            except AlertingError as err:
                status.health = RuleHealth.ERR
                status.last_error = err.message
                status.last_evaluation_duration_s = time.perf_counter() - started
                continue
            except Exception as err:
                # A bug or a limit hit by this rule is its own health error; the rules after it run.
                log.exception("rule %r of group %r failed", rule.rule.name, self.name)
                status.health = RuleHealth.ERR
                status.last_error = f"evaluation failed: {type(err).__name__}: {err}"
                status.last_evaluation_duration_s = time.perf_counter() - started
                continue
            status.health = RuleHealth.OK
            status.last_error = ""
            if isinstance(rule, AlertingRule) and result.refused:
                status.health = RuleHealth.ERR
                status.last_error = (
                    f"{result.refused} new alerts not kept: the server holds the most alerts it takes "
                    "(limits.max_alerts); they are tried again at the next evaluation"
                )
            if samples or self._previous[i]:
                self._write(i, ts, samples, status, storage)
            status.last_evaluation_duration_s = time.perf_counter() - started
        return out

    def _write(self, i: int, ts: int, samples: list[Sample], status: RuleStatus, storage: Appendable) -> None:
        """Rule `i`'s output, and stale markers for the series it wrote last time and not now (a rule
        that wrote nothing then and returns nothing now has nothing to write)."""
        written = storage.append(samples)
        failed = dict(written.errors)
        if failed:
            status.health = RuleHealth.ERR
            status.last_error = next(iter(failed.values()))
        returned = {s.labels: None for n, s in enumerate(samples) if n not in failed}
        stale = [Sample(labels, ts, STALE_NAN) for labels in self._previous[i] if labels not in returned]
        if stale:
            storage.append(stale)
        self._previous[i] = returned

    def previous_series(self, i: int) -> list[Labels]:
        """The series rule `i` wrote at its last evaluation."""
        return list(self._previous[i])

    def adopt(self, i: int, old: Group, j: int) -> None:
        """Rule `i` is rule `j` of `old`, rebuilt: it takes over that one's alerts and written series."""
        self._previous[i] = old._previous[j]
        new, before = self.rules[i], old.rules[j]
        if isinstance(new, AlertingRule) and isinstance(before, AlertingRule):
            new.restore_state(before.export_state())

    def _prefetch(self, ts: int, query: QueryFunc, only: Collection[int] | None) -> QueryFunc:
        """The rules' queries that the embedded engine can evaluate together, evaluated ahead."""
        if not isinstance(query, EngineQuery):
            return query
        exprs = [
            rule.rule.query
            for i, rule in enumerate(self.rules)
            if self._shareable[i] and (only is None or i in only)
        ]
        if len(exprs) < 2:
            return query
        try:
            results = query.many(exprs, ts)
        except AlertingError:
            # Each rule then runs its own query and reports its own error.
            return query
        return Prefetched(query, ts, results) if results else query

    def alerts(self) -> list[Alert]:
        return [a for r in self.rules if isinstance(r, AlertingRule) for a in r.alerts()]

    def eval_timestamp(self, now_ms: int) -> int:
        """The latest evaluation slot at or before `now_ms`: groups are spread over their interval by a hash
        of name and file, so they do not all evaluate in the same millisecond (Group.EvalTimestamp)."""
        offset = labels_hash((("file", self.file), ("name", self.name))) % self.interval_ms
        adjusted = now_ms - offset
        return adjusted - adjusted % self.interval_ms + offset
