"""The seam between the pipeline's loop and its stages (Alertmanager's notify.Stage)."""

from __future__ import annotations

from typing import Protocol

from alerting_server.alerts.live import LiveAlerts


class Stage(Protocol):
    async def run(self, live: LiveAlerts, now: int) -> None:
        """Moves the alerts on to `now`; what it changes or sends is recorded in `live`."""
        ...

    def next_wakeup(self, live: LiveAlerts, now: int) -> int | None:
        """When this stage next has work of its own (None: only when something changes)."""
        ...
