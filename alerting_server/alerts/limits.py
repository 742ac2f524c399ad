"""How much alert state one server holds at most, so that no caller can exhaust its memory."""

from __future__ import annotations

DEFAULT_MAX_ALERTS = 100_000
DEFAULT_MAX_GROUPS = 10_000
DEFAULT_MAX_WATCHERS = 1_000
