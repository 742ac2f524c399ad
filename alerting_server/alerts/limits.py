"""How much alert state one server holds at most, so that no caller can exhaust its memory."""

from __future__ import annotations

DEFAULT_MAX_ALERTS = 100_000
# Every group holds at least one alert, so by default the alert limit is what bounds the groups too: a
# lower group limit would leave alerts that the server holds unnotified, which only an operator who
# chose it should get.
DEFAULT_MAX_GROUPS = DEFAULT_MAX_ALERTS
DEFAULT_MAX_WATCHERS = 1_000
