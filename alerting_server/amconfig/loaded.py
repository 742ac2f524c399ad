"""What an Alertmanager configuration file gives: our objects, and the settings that are none."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from alerting_server.amconfig.nodes import Problem
from alerting_server.model import Channel, InhibitRule, Route

KIND = "alertmanager"
# Alertmanager's global.resolve_timeout default: 5m.
DEFAULT_RESOLVE_TIMEOUT_MS = 5 * 60 * 1000


class ConfigError(ValueError):
    """The file is refused; `problems` names each field, with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class TimeIntervalSpec:
    """A named time interval as the file writes it: Alertmanager's TimeInterval documents."""

    name: str
    intervals: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class LoadedConfig:
    # The file's absolute path (the `source` of what it owns), or an import's name.
    source: str
    channels: tuple[Channel, ...]
    route: Route
    inhibit_rules: tuple[InhibitRule, ...]
    time_intervals: tuple[TimeIntervalSpec, ...]
    # Template file globs, absolute (relative ones are read from the file's directory).
    templates: tuple[str, ...]
    # Every receiver's name, in the file's order, and those with no integration (routed nowhere).
    receivers: tuple[str, ...]
    empty_receivers: tuple[str, ...]
    resolve_timeout_ms: int = DEFAULT_RESOLVE_TIMEOUT_MS
    # Fields Alertmanager has that are accepted but have no effect here, each said once per load.
    warnings: tuple[Problem, ...] = field(default=())
    has_global: bool = False

    def settings(self) -> dict[str, Any]:
        """The JSON kept with the loaded file (config_files.settings)."""
        return {
            "resolve_timeout": self.resolve_timeout_ms,
            "receivers": list(self.receivers),
            "empty_receivers": list(self.empty_receivers),
            "templates": list(self.templates),
        }
