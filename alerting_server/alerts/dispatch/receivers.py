"""Receivers as channels: a route's or an escalation level's receiver names a channel (by name or
id); one that names none goes to the fallback receiver, or nowhere. A receiver known to have no
integration (Alertmanager's common "null" receiver, from a loaded configuration file) routes
nowhere on purpose: it is not reported as missing."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable

from alerting_server.alerts.telemetry import UNROUTABLE
from alerting_server.model import Channel

log = logging.getLogger(__name__)


class Receivers:
    def __init__(
        self, channels: Iterable[Channel] = (), fallback: str = "", empty: Collection[str] = ()
    ) -> None:
        channels = list(channels)
        # Receivers with no integration: their notifications go nowhere, as in Alertmanager.
        self._empty = frozenset(empty)
        self._channels = {c.id: c for c in channels} | {c.name: c for c in channels}
        # The channel (name or id) that gets what a receiver that is no channel would have got.
        self._fallback = fallback
        # Receivers found to be no channel since the configuration last changed: each is logged once.
        self._reported: set[str] = set()
        if fallback and fallback not in self._channels:
            log.error("fallback_receiver %r is no channel; create it, or notifications may be lost", fallback)

    def get(self, receiver: str) -> Channel | None:
        return self._channels.get(receiver)

    def name(self, receiver: str) -> str:
        channel = self._channels.get(receiver)
        return channel.name if channel is not None else receiver

    def is_empty(self, receiver: str) -> bool:
        """A receiver with no integration: nothing to deliver to, and nothing missing."""
        return receiver in self._empty and receiver not in self._channels

    def instead_of(self, receiver: str, where: str) -> Channel | None:
        """The fallback channel for a receiver that is no channel (None without one); counted every
        time, logged once per receiver until the configuration changes. None, and nothing said, for a
        receiver with no integration."""
        if self.is_empty(receiver):
            return None
        fallback = self._channels.get(self._fallback) if self._fallback else None
        UNROUTABLE.labels(receiver=receiver, outcome="dropped" if fallback is None else "fallback").inc()
        if receiver not in self._reported:
            self._reported.add(receiver)
            if fallback is None:
                log.error(
                    "receiver %r (%s) is no channel: its notifications are dropped until it is fixed "
                    "(GET /routing lists the routing tree's problems) or a fallback_receiver is configured",
                    receiver,
                    where,
                )
            else:
                log.warning(
                    "receiver %r (%s) is no channel: its notifications go to the fallback receiver %r",
                    receiver,
                    where,
                    fallback.name,
                )
        return fallback
