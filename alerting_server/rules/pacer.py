"""Keeps the event loop responsive while rules are evaluated in threads.

Evaluation threads and the event loop share one interpreter lock. A saturated rule engine would hold
it nearly all the time, and everything the loop serves (the API, the alert pipeline, notifications)
would slow down with it. The loop's lag is measured on the loop; before each periodic group
evaluation, the evaluation thread steps aside for as long as the loop is behind. The periodic
evaluations then take what the loop leaves (an overrun counts as a missed iteration, as it would
anyway); evaluations triggered by new samples never wait.
"""

from __future__ import annotations

import asyncio
import time

PROBE_S = 0.02
# Lag the loop may have before evaluation steps aside, and the longest single pause.
ALLOWED_LAG_S = 0.01
MAX_PAUSE_S = 0.05


class Pacer:
    def __init__(self, allowed_lag_s: float = ALLOWED_LAG_S) -> None:
        self.allowed_lag_s = allowed_lag_s
        self.lag_s = 0.0

    async def watch(self) -> None:
        """Measures how late the loop runs a timer, continuously (a task on the loop)."""
        while True:
            began = time.monotonic()
            await asyncio.sleep(PROBE_S)
            self.lag_s = max(0.0, time.monotonic() - began - PROBE_S)

    def step_aside(self) -> float:
        """On an evaluation thread: sleeps (without the interpreter lock) while the loop is behind;
        returns how long."""
        lag = self.lag_s
        if lag <= self.allowed_lag_s:
            return 0.0
        pause = min(lag, MAX_PAUSE_S)
        time.sleep(pause)
        return pause
