"""Keeps the event loop responsive while rules are evaluated in threads.

Evaluation threads and the event loop share one interpreter lock. A saturated rule engine would hold
it nearly all the time, and everything the loop serves (the API, the alert pipeline, notifications)
would slow down with it. Before each periodic group evaluation, the evaluation thread steps aside for
as long as the loop is behind. The periodic evaluations then take what the loop leaves (an overrun
counts as a missed iteration, as it would anyway); evaluations triggered by new samples never wait.

The loop's lag is measured by probes the evaluations send: a callback handed to the loop, and how
long the loop took to run it. A probe goes out at most every PROBE_S, and only while evaluations
ask: a server whose rules are idle wakes its loop for nothing.
"""

from __future__ import annotations

import asyncio
import threading
import time

PROBE_S = 0.02
# Lag the loop may have before evaluation steps aside, and the longest single pause.
ALLOWED_LAG_S = 0.01
MAX_PAUSE_S = 0.05
# A measurement older than this says nothing about the loop now.
FRESH_S = 1.0


class Pacer:
    def __init__(self, allowed_lag_s: float = ALLOWED_LAG_S) -> None:
        self.allowed_lag_s = allowed_lag_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        # The last probe's lag and when it came back; when the probe in flight was sent (None: none).
        self._lag_s = 0.0
        self._measured = 0.0
        self._sent: float | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop to keep responsive (until detach)."""
        self._loop = loop

    def detach(self) -> None:
        self._loop = None

    def lag_s(self) -> float:
        """How far behind the loop is: the last probe's lag while fresh, or longer while a probe has
        been waiting for longer; sends a probe when none is in flight and the last is PROBE_S old."""
        now = time.monotonic()
        with self._lock:
            sent = self._sent
            if sent is not None:
                return max(now - sent, self._lag_s if now - self._measured < FRESH_S else 0.0)
            lag = self._lag_s if now - self._measured < FRESH_S else 0.0
            if now - self._measured >= PROBE_S:
                self._probe(now)
            return lag

    def _probe(self, now: float) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._back, now)
        except RuntimeError:  # the loop is closed
            return
        self._sent = now

    def _back(self, sent: float) -> None:
        now = time.monotonic()
        with self._lock:
            self._lag_s = now - sent
            self._measured = now
            self._sent = None

    def step_aside(self) -> float:
        """On an evaluation thread: sleeps (without the interpreter lock) while the loop is behind;
        returns how long."""
        lag = self.lag_s()
        if lag <= self.allowed_lag_s:
            return 0.0
        pause = min(lag, MAX_PAUSE_S)
        time.sleep(pause)
        return pause
