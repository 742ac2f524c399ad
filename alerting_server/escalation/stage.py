"""The escalation stage: starts an escalation when an alert fires, climbs it while nobody acknowledges,
and ends it when the alert resolves; each level's notifications go to the outbox."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from alerting_server.ack.links import AckLinks
from alerting_server.alerts import history
from alerting_server.alerts.dispatch.aggregation import time_muted
from alerting_server.alerts.dispatch.receivers import Receivers
from alerting_server.alerts.dispatch.routing import RouteNode, compile_routes
from alerting_server.alerts.live import LiveAlerts
from alerting_server.alerts.outbox import idempotency_key, pending_delivery
from alerting_server.alerts.watch import EventType
from alerting_server.escalation.plan import Step, step
from alerting_server.escalation.policies import PolicyFinder
from alerting_server.escalation.state import (
    ack_expired,
    advance,
    fall_through,
    next_wakeup,
    restart,
    start,
)
from alerting_server.escalation.targets import People
from alerting_server.model import Alert, AlertState, Escalation, NotificationPayload, Route
from alerting_server.timeintervals import TimeInterval, UnknownTimeInterval

ACK_TIMEOUT_MESSAGE = "acknowledgement timed out: escalation starts again from level 0"


class EscalationStage:
    def __init__(self, policies: PolicyFinder, *, links: AckLinks | None = None) -> None:
        self._policies = policies
        self._links = links
        self._routes: RouteNode = compile_routes(Route())
        self._receivers = Receivers()
        self._time_intervals: dict[str, TimeInterval] = {}
        self._people = People()
        self.escalations: dict[str, Escalation] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()

    def load(self, escalations: Iterable[Escalation]) -> None:
        self.escalations = {e.fingerprint: e for e in escalations}

    def configure(
        self,
        routes: RouteNode,
        receivers: Receivers,
        people: People | None = None,
        time_intervals: Iterable[TimeInterval] = (),
    ) -> None:
        self._routes = routes
        self._receivers = receivers
        self._people = people or People()
        self._time_intervals = {interval.name: interval for interval in time_intervals}

    def _time_muted(self, alert: Alert, now: int) -> bool:
        """Every route the alert takes is muted by its time intervals now: its escalation waits too
        (a name no interval has mutes, as it holds the route's notifications)."""
        matches = self._routes.match(alert.labels)
        if not matches:
            return False
        for m in matches:
            try:
                if not time_muted(m.opts, self._time_intervals, now):
                    return False
            except UnknownTimeInterval:
                continue
        return True

    def take_changes(self) -> tuple[list[Escalation], list[str]]:
        """The escalations changed and removed since the last call, for the step's commit."""
        changed = [self.escalations[fp] for fp in sorted(self._dirty) if fp in self.escalations]
        removed = sorted(self._removed)
        self._dirty.clear()
        self._removed.clear()
        return changed, removed

    async def run(self, live: LiveAlerts, now: int) -> None:
        fired, live.fired = live.fired, set()
        for fp in sorted(fired):
            alert = live.get(fp)
            if alert is None or alert.state is not AlertState.FIRING:
                continue
            fired_at = alert.fired_at if alert.fired_at is not None else alert.started_at
            old = self.escalations.get(fp)
            if old is not None and old.fired_at == fired_at:
                continue
            routes = [m.opts.escalation_policy_id for m in self._routes.match(alert.labels)]
            policy = await self._policies.for_alert(alert, routes)
            if policy is not None:
                self.escalations[fp] = start(fp, policy, fired_at, now)
                self._dirty.add(fp)
            elif old is not None:
                self._end(fp)
        for fp, esc in list(self.escalations.items()):
            alert = live.get(fp)
            if alert is None or alert.state is not AlertState.FIRING:
                # Resolve ends it (and a resolved alert that fires again starts a new one).
                self._end(fp)
                continue
            if ack_expired(esc, alert.ack, now):
                alert = live.replace(alert, ack=None, escalation_level=0)
                live.events.append((EventType.UNACKNOWLEDGED, alert))
                live.history.append(history.unacknowledged(fp, "", now, ACK_TIMEOUT_MESSAGE))
                esc = restart(esc, now)
            # A pause by time ends unannounced: the pipeline steps at least every MAX_SLEEP_MS.
            paused = (
                alert.ack is not None
                or bool(alert.silenced_by)
                or bool(alert.inhibited_by)
                or self._time_muted(alert, now)
            )
            new, steps = advance(esc, paused=paused, now=now)
            if new != esc or esc is not self.escalations[fp]:
                self.escalations[fp] = new
                self._dirty.add(fp)
            if steps:
                alert = live.replace(alert, escalation_level=steps[-1].level, updated_at=now)
                while steps:
                    s = steps.pop(0)
                    paged = self._send(live, alert, new, s, now)
                    if paged is None and not steps:
                        new, following = fall_through(new, now)
                        if following is not None:
                            steps.append(following)
                            alert = live.replace(alert, escalation_level=following.level, updated_at=now)
                    elif paged:
                        new = dataclasses.replace(new, paged=(*new.paged, *paged))
                self.escalations[fp] = new
                live.events.append((EventType.UPDATED, alert))

    def next_wakeup(self, live: LiveAlerts, now: int) -> int | None:
        times = []
        for fp, esc in self.escalations.items():
            alert = live.get(fp)
            wakeup = next_wakeup(esc, alert.ack if alert is not None else None)
            if wakeup is not None:
                times.append(wakeup)
        return min(times, default=None)

    def _end(self, fp: str) -> None:
        del self.escalations[fp]
        self._dirty.discard(fp)
        self._removed.add(fp)

    def _send(
        self, live: LiveAlerts, alert: Alert, esc: Escalation, s: Step, now: int
    ) -> tuple[str, ...] | None:
        """Pages whom step `s` names, resolved now (whoever is on call now): the channels of the people
        it paged not paged before, or None when it paged nobody at all."""
        policy = esc.policy
        where = f"level {s.level} of escalation policy {policy.name!r}"
        if s.repeat:
            where += f", repeat {s.repeat} of {policy.repeat}"
        found = self._people.resolve(s.channels, s.users, s.schedules, self._receivers, where, now)
        for recipient in found.recipients:
            channel = recipient.channel
            key = idempotency_key("esc", alert.fingerprint, esc.fired_at, esc.run, s.index, channel.id)
            delivery = pending_delivery(channel, esc.group_key, (alert.fingerprint,), key, now)
            payload = NotificationPayload(
                receiver=channel.receiver or channel.name,
                group_key=esc.group_key,
                group_labels=dict(alert.labels),
                escalation_policy_id=policy.id,
                escalation_level=s.level,
                escalation_repeat=s.repeat,
                reason="escalation",
                firing=(alert,),
                ack_url=""
                if self._links is None
                else self._links.url(alert.fingerprint, alert.started_at, now, recipient.person),
            )
            live.outbox.append((delivery, payload))
        notes = [where, *found.notes]
        if not found.recipients:
            following = step(policy, esc.base, s.index + 1)
            notes.append(
                "nobody was paged: no level is left"
                if following is None
                else f"nobody was paged: falls through to level {following.level}"
            )
        targets = [*s.channels, *s.users, *s.schedules]
        live.history.append(history.escalation(alert.fingerprint, s.level, targets, "; ".join(notes), now))
        if not found.recipients:
            return None
        people = (r.channel.id for r in found.recipients if r.person)
        return tuple(dict.fromkeys(c for c in people if c not in esc.paged))
