"""Loading an Alertmanager configuration into the server, as Alertmanager reloads its own: the file
is read and checked whole; a good one replaces what the previous one owned in one transaction, a bad
one changes nothing and is reported (log line, metrics, the error kept beside the last good load)."""

from __future__ import annotations

import asyncio
import glob
import hashlib
import logging
import os
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import Gauge

from alerting_server.amconfig.context import read_text_file
from alerting_server.amconfig.loaded import KIND, ConfigError, LoadedConfig
from alerting_server.amconfig.loader import load
from alerting_server.amconfig.nodes import Problem
from alerting_server.amconfig.redact import redact
from alerting_server.clock import Clock
from alerting_server.errors import FailedPrecondition, InvalidArgument, Violations
from alerting_server.outbound import OutboundPolicy
from alerting_server.store import Store
from alerting_server.store.config_files import Applied, ConfigFile, TemplateFile, TimeIntervalRow
from alerting_server.templating import ALERTMANAGER_FUNCTIONS, TemplateError, parse_template
from alerting_server.validation.channels import check_destinations

log = logging.getLogger(__name__)

RELOAD_SUCCESSFUL = Gauge(
    "alerting_config_last_reload_successful",
    "Whether the last load of the Alertmanager configuration file succeeded (1) or not (0).",
)
RELOAD_SUCCESS_TIME = Gauge(
    "alerting_config_last_reload_success_timestamp_seconds",
    "Time of the last successful load of the Alertmanager configuration file.",
)
IMPORT_PREFIX = "import:"


class ConfigListener(Protocol):
    """The alert pipeline: told after the routing, channels or inhibit rules changed."""

    async def reload(self) -> None: ...


@dataclass(frozen=True)
class Outcome:
    config: LoadedConfig
    applied: Applied


def invalid(problems: list[Problem], field: str = "content") -> InvalidArgument:
    """The problems as the API reports bad input: one violation per problem, each with its line."""
    v = Violations()
    for p in problems:
        v.add(
            f"{field}.{p.field}" if p.field else field, f"line {p.line}: {p.message}" if p.line else p.message
        )
    return InvalidArgument(v.items)


def read_templates(config: LoadedConfig) -> list[TemplateFile]:
    """The template files the globs name, in order, each once; ConfigError for one unreadable."""
    out: dict[str, TemplateFile] = {}
    problems = []
    for i, pattern in enumerate(config.templates):
        for name in sorted(glob.glob(pattern)):
            if name in out or not os.path.isfile(name):
                continue
            try:
                text = read_text_file(name)
            except (OSError, UnicodeDecodeError) as e:
                problems.append(Problem(f"templates[{i}]", 0, f"cannot read {name}: {e}"))
                continue
            try:
                # As Alertmanager parses its template files when it loads them.
                parse_template(text, os.path.basename(name), ALERTMANAGER_FUNCTIONS)
            except TemplateError as e:
                problems.append(Problem(f"templates[{i}]", 0, str(e)))
                continue
            out[name] = TemplateFile(name, text)
    if problems:
        raise ConfigError(problems)
    return list(out.values())


def _stored(config: LoadedConfig, text: str) -> ConfigFile:
    templates = read_templates(config)
    return ConfigFile(
        kind=KIND,
        source=config.source,
        original=redact(text),
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        settings=config.settings(),
        channels=config.channels,
        route=config.route,
        inhibit_rules=config.inhibit_rules,
        time_intervals=[
            TimeIntervalRow(t.name, [dict(i) for i in t.intervals]) for t in config.time_intervals
        ],
        templates=templates,
    )


class AlertmanagerConfigs:
    """The server's Alertmanager configuration: a file it loads (`path`), or one imported over the API."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        listener: ConfigListener,
        path: str = "",
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self._store = store
        # Where channels may deliver: a destination it denies refuses the file, as it refuses the API.
        self._outbound = outbound or OutboundPolicy()
        self._clock = clock
        self._listener = listener
        self.path = os.path.abspath(path) if path else ""
        # One load at a time: a SIGHUP during a POST /-/reload waits for it.
        self._lock = asyncio.Lock()

    async def _apply(self, text: str, path: str, source: str) -> Outcome:
        def parse() -> tuple[LoadedConfig, ConfigFile]:
            config = load(text, path, read_file=read_text_file, source=source)
            denied = Violations()
            for channel in config.channels:
                check_destinations(
                    denied, channel.type, channel.config, self._outbound, f"receivers.{channel.name}"
                )
            if denied.items:
                raise ConfigError([Problem(v.field, 0, v.description) for v in denied.items])
            return config, _stored(config, text)

        # Reading files and parsing a large tree: off the event loop.
        config, stored = await asyncio.to_thread(parse)
        applied = await self._store.config_files.apply(stored, self._clock.now_ms())
        await self._listener.reload()
        for warning in config.warnings:
            log.warning("%s: %s", path, warning)
        return Outcome(config, applied)

    async def reload(self) -> Outcome:
        """Reads the file again and applies it; ConfigError (or FailedPrecondition, a name taken by
        what the API created) when it is refused, which is logged, counted and kept as the error."""
        if not self.path:
            raise FailedPrecondition(
                "this server loads no Alertmanager configuration file (serve --alertmanager-config FILE)"
            )
        async with self._lock:
            try:
                text = await asyncio.to_thread(read_text_file, self.path)
                outcome = await self._apply(text, self.path, self.path)
            except (ConfigError, FailedPrecondition, OSError, UnicodeDecodeError) as e:
                message = _message(e)
                log.error(
                    "loading the Alertmanager configuration %s failed, nothing changed: %s",
                    self.path,
                    message,
                )
                RELOAD_SUCCESSFUL.set(0)
                await self._store.config_files.failed(KIND, self.path, message, self._clock.now_ms())
                raise
            RELOAD_SUCCESSFUL.set(1)
            RELOAD_SUCCESS_TIME.set(self._clock.now_ms() / 1000)
            a = outcome.applied
            log.info(
                "loaded the Alertmanager configuration %s: %d channels (%d new, %d changed, %d removed), "
                "%d inhibit rules, %d time intervals, %d template files",
                self.path,
                len(outcome.config.channels),
                len(a.created),
                len(a.updated),
                len(a.deleted),
                a.inhibit_rules,
                a.time_intervals,
                a.templates,
            )
            return outcome

    async def import_text(self, text: str, name: str) -> Outcome:
        """Applies a configuration sent over the API; its objects are owned by `import:<name>` and a
        later import replaces them. Refused while the server loads a file of its own."""
        if self.path:
            raise FailedPrecondition(
                f"this server loads its Alertmanager configuration from {self.path}; change the file"
                " and reload"
            )
        name = name or "alertmanager.yml"
        async with self._lock:
            try:
                return await self._apply(text, name, IMPORT_PREFIX + name)
            except ConfigError as e:
                raise invalid(e.problems) from None


def check(text: str, path: str = "alertmanager.yml") -> LoadedConfig:
    """Parses and validates without reading secret files nor touching the store; ConfigError."""
    return load(text, path)


def _message(e: Exception) -> str:
    if isinstance(e, OSError):
        return f"cannot read {e.filename}: {e.strerror or e}"
    return str(e)
