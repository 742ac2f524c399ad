"""When an alert counts as firing or resolved, the one definition every stage here uses."""

from __future__ import annotations

from alerting_server.model import Alert, AlertState


def is_resolved(alert: Alert, now: int) -> bool:
    """Resolved once `resolved_at` has passed (an external alert's `endsAt` may lie ahead), or by state.

    As Alertmanager's `ResolvedAt`, an alert whose end time equals `now` is resolved.
    """
    if alert.resolved_at is not None:
        return alert.resolved_at <= now
    return alert.state is AlertState.RESOLVED


def is_firing(alert: Alert, now: int) -> bool:
    """Firing and not resolved at `now`; pending and inactive alerts never reach Alertmanager."""
    return alert.state in (AlertState.FIRING, AlertState.RESOLVED) and not is_resolved(alert, now)
