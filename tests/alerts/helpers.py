"""Alert builders with explicit timestamps."""

from __future__ import annotations

from alerting_server.alerts import fingerprint
from alerting_server.model import Alert, AlertState


def firing(labels: dict[str, str], at: int = 0, **kw: object) -> Alert:
    return Alert(
        fingerprint=fingerprint(labels),
        labels=labels,
        state=AlertState.FIRING,
        started_at=at,
        fired_at=at,
        updated_at=at,
        **kw,  # type: ignore[arg-type]
    )


def resolved(alert: Alert, at: int) -> Alert:
    return Alert(
        fingerprint=alert.fingerprint,
        labels=alert.labels,
        state=AlertState.RESOLVED,
        annotations=alert.annotations,
        started_at=alert.started_at,
        fired_at=alert.fired_at,
        resolved_at=at,
        updated_at=at,
    )
