"""Receivers as channels: a route's or an escalation level's receiver names a channel (by name or
id) or an Alertmanager receiver, the channels that are its integrations (`Channel.receiver`); one that
names neither goes to the fallback receiver, or nowhere. A receiver known to have no integration
(Alertmanager's usual "null" receiver) drops what it gets on purpose."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from alerting_server.alerts.telemetry import UNROUTABLE
from alerting_server.model import Channel

log = logging.getLogger(__name__)


class Receivers:
    def __init__(
        self, channels: Iterable[Channel] = (), fallback: str = "", empty: Iterable[str] = ()
    ) -> None:
        channels = list(channels)
        self._channels = {c.id: c for c in channels} | {c.name: c for c in channels}
        self._integrations: dict[str, list[Channel]] = {}
        for c in sorted(channels, key=lambda c: c.name):
            if c.receiver:
                self._integrations.setdefault(c.receiver, []).append(c)
        self._empty = frozenset(empty) - self._integrations.keys()
        # The channel (name or id) that gets what a receiver that is no channel would have got.
        self._fallback = fallback
        # Receivers found to be no channel since the configuration last changed: each is logged once.
        self._reported: set[str] = set()
        if fallback and fallback not in self._channels:
            log.error("fallback_receiver %r is no channel; create it, or notifications may be lost", fallback)

    def get(self, receiver: str) -> Channel | None:
        """The channel `receiver` names by its id or name."""
        return self._channels.get(receiver)

    def channels(self, receiver: str) -> list[Channel] | None:
        """What `receiver` sends to: the channel it names, or its integrations ([] for a receiver
        known to have none); None when it names nothing known."""
        channel = self._channels.get(receiver)
        if channel is not None:
            return [channel]
        if receiver in self._integrations:
            return list(self._integrations[receiver])
        return [] if receiver in self._empty else None

    def name(self, receiver: str) -> str:
        channel = self._channels.get(receiver)
        return channel.name if channel is not None else receiver

    def instead_of(self, receiver: str, where: str) -> Channel | None:
        """The fallback channel for a receiver that is no channel (None without one); counted every
        time, logged once per receiver until the configuration changes."""
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

    def resolve(self, receiver: str, where: str) -> list[Channel]:
        """The channels to send to for `receiver`: its own, else the fallback's (see instead_of)."""
        found = self.channels(receiver)
        if found is not None:
            return found
        fallback = self.instead_of(receiver, where)
        return [] if fallback is None else [fallback]
