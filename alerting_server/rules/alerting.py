"""An alerting rule and its alerts: the state machine of Prometheus' rules/alerting.go.

One alert per label set moves inactive -> pending -> firing with the evaluation timestamp as
its only clock: pending on the first evaluation that returns its series, firing once it has
been active for `for` (at `ts - active_at >= for`, so `for: 0` fires at once), resolved when the
series is gone and `keep_firing_for` has run out. A resolved alert is kept for 15 minutes so
that its resolution keeps being reported, then dropped; a pending alert that vanishes is
dropped at once, as Prometheus does.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from alerting_server.alerts.fingerprint import fingerprint
from alerting_server.model import Rule
from alerting_server.model.alert import Alert, AlertState
from alerting_server.query.errors import QueryError
from alerting_server.query.labels import METRIC_NAME, Labels
from alerting_server.query.tsdb import Sample
from alerting_server.rules.vector import QueryFunc, VectorSample
from alerting_server.templating import QuerySample, StrMap, TemplateHistogram, render_alert_template
from alerting_server.templating import Sample as TemplateSample

RESOLVED_RETENTION_MS = 15 * 60 * 1000
ALERT_METRIC = "ALERTS"
ALERT_FOR_STATE_METRIC = "ALERTS_FOR_STATE"
ALERT_STATE_LABEL = "alertstate"
ALERT_NAME_LABEL = "alertname"
SEVERITY_LABEL = "severity"

_STATE_NAMES = {AlertState.INACTIVE: "inactive", AlertState.PENDING: "pending", AlertState.FIRING: "firing"}
_STATES_BY_NAME = {v: k for k, v in _STATE_NAMES.items()}


class ChangeKind(enum.Enum):
    CREATED = "created"
    STATE_CHANGED = "state_changed"
    VALUE_CHANGED = "value_changed"
    RESOLVED = "resolved"
    # A firing alert's series went away (or came back) within keep_firing_for: nothing anyone is
    # told about, but the new keep_firing_since must be persisted so that a restart keeps it.
    KEEP_FIRING = "keep_firing"


@dataclass(frozen=True)
class AlertChange:
    """What one evaluation did to one alert; `alert` is its state after the evaluation."""

    kind: ChangeKind
    alert: Alert
    previous: AlertState | None = None


@dataclass
class _Instance:
    """One alert of the rule; `state` is INACTIVE (with `resolved_at`) once resolved, as in Prometheus."""

    labels: Labels
    fingerprint: str
    annotations: dict[str, str]
    state: AlertState
    value: float
    active_at: int
    fired_at: int | None = None
    resolved_at: int | None = None
    keep_firing_since: int | None = None
    updated_at: int = 0

    @property
    def public_state(self) -> AlertState:
        return AlertState.RESOLVED if self.state is AlertState.INACTIVE else self.state


@dataclass(frozen=True)
class AlertInstanceState:
    """An alert's state as plain data, to persist and restore across restarts."""

    labels: dict[str, str]
    annotations: dict[str, str]
    state: str
    value: float
    active_at: int
    fired_at: int | None = None
    resolved_at: int | None = None
    keep_firing_since: int | None = None
    updated_at: int = 0


@dataclass
class AlertingEval:
    """The outcome of one evaluation: series to write (ALERTS, ALERTS_FOR_STATE) and alert changes."""

    samples: list[Sample] = field(default_factory=list)
    changes: list[AlertChange] = field(default_factory=list)
    # New alerts kept, and new alerts not kept for want of room (limits.max_alerts).
    admitted: int = 0
    refused: int = 0


class AlertingRule:
    def __init__(
        self, rule: Rule, external_labels: Mapping[str, str] | None = None, external_url: str = ""
    ) -> None:
        self.rule = rule
        self.external_labels = dict(external_labels or {})
        self.external_url = external_url
        # The rule's labels as the file has them: severity is one of them.
        labels = dict(rule.labels)
        if rule.severity:
            labels[SEVERITY_LABEL] = rule.severity
        self._label_templates = labels
        self._active: dict[Labels, _Instance] = {}

    @property
    def name(self) -> str:
        return self.rule.name

    def _expand(
        self, text: str, series: Mapping[str, str], sample: VectorSample, ts: int, query: QueryFunc
    ) -> str:
        if "{{" not in text:
            return text

        def template_query(expr: str) -> list[QuerySample]:
            return [TemplateSample(StrMap(dict(s.labels)), s.value) for s in query(expr, ts)]

        return render_alert_template(
            text,
            self.name,
            series,
            # As template.AlertTemplateData: $value is the histogram of a histogram sample.
            sample.value if sample.histogram is None else TemplateHistogram(sample.histogram),
            self.external_labels,
            self.external_url,
            query=template_query,
            now_ms=ts,
        )

    def _alert_labels(self, sample: VectorSample, ts: int, query: QueryFunc) -> tuple[Labels, dict[str, str]]:
        series = dict(sample.labels)
        labels = {k: v for k, v in series.items() if k != METRIC_NAME}
        for name, text in self._label_templates.items():
            value = self._expand(text, series, sample, ts, query)
            if value:
                labels[name] = value
            else:
                labels.pop(name, None)
        labels[ALERT_NAME_LABEL] = self.name
        annotations = {
            name: self._expand(text, series, sample, ts, query)
            for name, text in self.rule.annotations.items()
        }
        return tuple(sorted(labels.items())), annotations

    def eval(self, ts: int, query: QueryFunc, room: int | None = None) -> AlertingEval:
        """Evaluate at `ts` (epoch ms). A query error, or two series with the same alert labels, raises
        QueryError and leaves every alert as it was. At most `room` new alerts are kept (None: any
        number); the others are left out, to be tried again at the next evaluation."""
        results = query(self.rule.query, ts)
        if not results and not self._active:
            # Nothing returned and nothing held: nothing to write or report (most rules, most times).
            return AlertingEval()
        fresh: dict[Labels, _Instance] = {}
        for sample in results:
            labels, annotations = self._alert_labels(sample, ts, query)
            if labels in fresh:
                raise QueryError("vector contains metrics with the same labelset after applying alert labels")
            fresh[labels] = _Instance(
                labels, "", annotations, AlertState.PENDING, sample.value, active_at=ts, updated_at=ts
            )

        out = AlertingEval()
        before = {labels: self._snapshot(a) for labels, a in self._active.items()}
        for labels, new in fresh.items():
            current = self._active.get(labels)
            if current is not None and current.state is not AlertState.INACTIVE:
                current.value = new.value
                current.annotations = new.annotations
                continue
            if current is None:
                if room is not None and out.admitted >= room:
                    out.refused += 1
                    continue
                out.admitted += 1
            new.fingerprint = fingerprint(dict(labels))
            self._active[labels] = new

        hold = self.rule.duration
        keep_for = self.rule.keep_firing_for
        for labels, a in list(self._active.items()):
            if labels not in fresh:
                keep_firing = False
                if a.state is AlertState.FIRING and keep_for > 0:
                    if a.keep_firing_since is None:
                        a.keep_firing_since = ts
                    keep_firing = ts - a.keep_firing_since < keep_for
                if a.state is AlertState.PENDING or (
                    a.resolved_at is not None and ts - a.resolved_at > RESOLVED_RETENTION_MS
                ):
                    del self._active[labels]
                if a.state is not AlertState.INACTIVE and not keep_firing:
                    a.state = AlertState.INACTIVE
                    a.resolved_at = ts
                if not keep_firing:
                    continue
            else:
                a.keep_firing_since = None
            if a.state is AlertState.PENDING and ts - a.active_at >= hold:
                a.state = AlertState.FIRING
                a.fired_at = ts
            out.samples.append(self._alerts_sample(a, ts))
            out.samples.append(self._for_state_sample(a, ts))

        # Changes are reported for every alert touched, including pending ones dropped just now.
        touched = dict(self._active)
        touched.update(self._dropped(before, ts))
        for labels, a in touched.items():
            change = self._change(before.get(labels), a, ts)
            if change is not None:
                out.changes.append(change)
        return out

    def _dropped(self, before: Mapping[Labels, _Instance], ts: int) -> list[tuple[Labels, _Instance]]:
        """Pending alerts deleted by this evaluation, as resolved at `ts` (they never fired)."""
        gone = []
        for labels, old in before.items():
            if labels not in self._active and old.state is AlertState.PENDING:
                gone.append((labels, replace(old, state=AlertState.INACTIVE, resolved_at=ts)))
        return gone

    @staticmethod
    def _snapshot(a: _Instance) -> _Instance:
        return replace(a, annotations=dict(a.annotations))

    def _change(self, old: _Instance | None, new: _Instance, ts: int) -> AlertChange | None:
        if old is None or (old.state is AlertState.INACTIVE and new.state is not AlertState.INACTIVE):
            new.updated_at = ts
            return AlertChange(ChangeKind.CREATED, self._alert(new))
        if old.state is not new.state:
            new.updated_at = ts
            kind = ChangeKind.RESOLVED if new.state is AlertState.INACTIVE else ChangeKind.STATE_CHANGED
            return AlertChange(kind, self._alert(new), old.public_state)
        same_value = old.value == new.value or (old.value != old.value and new.value != new.value)
        if new.state is not AlertState.INACTIVE and (not same_value or old.annotations != new.annotations):
            new.updated_at = ts
            return AlertChange(ChangeKind.VALUE_CHANGED, self._alert(new), old.public_state)
        if old.keep_firing_since != new.keep_firing_since:
            # updated_at stays: nothing visible changed.
            return AlertChange(ChangeKind.KEEP_FIRING, self._alert(new), old.public_state)
        return None

    def _alerts_sample(self, a: _Instance, ts: int) -> Sample:
        labels = dict(a.labels)
        labels[METRIC_NAME] = ALERT_METRIC
        labels[ALERT_STATE_LABEL] = _STATE_NAMES[a.state]
        return Sample(tuple(sorted(labels.items())), ts, 1.0)

    def _for_state_sample(self, a: _Instance, ts: int) -> Sample:
        labels = dict(a.labels)
        labels[METRIC_NAME] = ALERT_FOR_STATE_METRIC
        return Sample(tuple(sorted(labels.items())), ts, float(a.active_at // 1000))

    def _alert(self, a: _Instance) -> Alert:
        return Alert(
            fingerprint=a.fingerprint or fingerprint(dict(a.labels)),
            labels=dict(a.labels),
            state=a.public_state,
            annotations=dict(a.annotations),
            rule=self.name,
            rule_id=self.rule.id,
            value=a.value,
            started_at=a.active_at,
            fired_at=a.fired_at,
            resolved_at=a.resolved_at if a.state is AlertState.INACTIVE else None,
            updated_at=a.updated_at,
            keep_firing_since=a.keep_firing_since,
        )

    def alerts(self) -> list[Alert]:
        """Pending, firing and (for 15 minutes) resolved alerts, sorted by labels."""
        return [self._alert(self._active[k]) for k in sorted(self._active)]

    def has_alerts(self) -> bool:
        """Whether any alert is held, resolved ones included (cheaper than alerts())."""
        return bool(self._active)

    def active_alerts(self) -> list[Alert]:
        """Prometheus' ActiveAlerts: pending and firing only."""
        return [a for a in self.alerts() if a.state in (AlertState.PENDING, AlertState.FIRING)]

    def export_state(self) -> list[AlertInstanceState]:
        return [
            AlertInstanceState(
                labels=dict(a.labels),
                annotations=dict(a.annotations),
                state=_STATE_NAMES[a.state],
                value=a.value,
                active_at=a.active_at,
                fired_at=a.fired_at,
                resolved_at=a.resolved_at,
                keep_firing_since=a.keep_firing_since,
                updated_at=a.updated_at,
            )
            for _, a in sorted(self._active.items())
        ]

    def restore_state(self, states: list[AlertInstanceState]) -> None:
        """Put exported alerts back: a pending alert keeps its active_at, so its `for` clock runs on."""
        self._active = {}
        for s in states:
            if s.state not in _STATES_BY_NAME:
                raise ValueError(f"unknown alert state {s.state!r}")
            labels = tuple(sorted(s.labels.items()))
            self._active[labels] = _Instance(
                labels=labels,
                fingerprint=fingerprint(s.labels),
                annotations=dict(s.annotations),
                state=_STATES_BY_NAME[s.state],
                value=s.value,
                active_at=s.active_at,
                fired_at=s.fired_at,
                resolved_at=s.resolved_at,
                keep_firing_since=s.keep_firing_since,
                updated_at=s.updated_at,
            )
