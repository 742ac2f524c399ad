"""The live alert pipeline: alerts by fingerprint, muting, grouping, and notifications to the outbox.

One task owns the state. Each step (`tick`) expires and drops alerts whose time has come,
recomputes silences and inhibitions, lets the dispatcher flush what is due, and writes in one
transaction the changed alerts, the dispatcher's state and the outbox rows those flushes caused;
only then are the changes published to watchers. A crash before the commit loses nothing that
was promised: the alerts and timers come back as they were and the flush happens again.

The same step climbs the escalations (alerting_server.escalation) and commits their state with
the outbox rows of their levels, and appends every change to the alerts' history; an
acknowledgement is one such step of its own, committed before the call returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterable

from sqlalchemy.engine import Connection

from alerting_server.alerts import history
from alerting_server.alerts.codec import alert_to_data
from alerting_server.alerts.fingerprint import fingerprint
from alerting_server.alerts.groups import AlertGroup, Dispatcher, Notification
from alerting_server.alerts.inhibit import Inhibitor
from alerting_server.alerts.limits import DEFAULT_MAX_ALERTS, DEFAULT_MAX_GROUPS
from alerting_server.alerts.nflog import LogEntry
from alerting_server.alerts.routing import RouteNode, compile_routes
from alerting_server.alerts.silences import SilenceMuter
from alerting_server.alerts.state import is_resolved
from alerting_server.alerts.telemetry import UNROUTABLE
from alerting_server.alerts.watch import EventType, WatchHub
from alerting_server.clock import Clock
from alerting_server.errors import FailedPrecondition, NotFound, ResourceExhausted
from alerting_server.escalation import (
    Escalation,
    EscalationRepository,
    PolicyFinder,
    Step,
    StorePolicies,
    ack_expired,
    advance,
    next_wakeup,
    restart,
    start,
)
from alerting_server.escalation.links import AckLinks
from alerting_server.model import (
    Ack,
    Alert,
    AlertHistoryEvent,
    AlertState,
    Channel,
    ChannelType,
    Delivery,
    DeliveryStatus,
    PostedAlert,
    Route,
)
from alerting_server.store import Store
from alerting_server.store.database import new_id
from alerting_server.store.nflog import NotificationLogRow

log = logging.getLogger(__name__)

DEFAULT_RESOLVE_TIMEOUT = 5 * 60_000
RESOLVED_RETENTION = 15 * 60_000
# A bound on how long the loop sleeps, so that a lost wake-up costs at most this much.
MAX_SLEEP_MS = 10_000
FOREVER = 2**62
PRUNE_EVERY = 3_600_000
ACK_TIMEOUT_MESSAGE = "acknowledgement timed out: escalation starts again from level 0"
ACKNOWLEDGE_ACTION = {"action": "acknowledge"}  # notify/render.py's seam: PagerDuty's `acknowledge`


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def _change(old: Alert | None, new: Alert) -> EventType | None:
    if old is None:
        return EventType.CREATED
    if old.state is not new.state:
        return EventType.RESOLVED if new.state is AlertState.RESOLVED else EventType.STATE_CHANGED
    if old.value != new.value and not (old.value != old.value and new.value != new.value):
        return EventType.VALUE_CHANGED
    if old != new:
        return EventType.UPDATED
    return None


class AlertManager:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        hub: WatchHub,
        *,
        resolve_timeout_ms: int = DEFAULT_RESOLVE_TIMEOUT,
        resolved_retention_ms: int = RESOLVED_RETENTION,
        history_retention_ms: int = history.DEFAULT_RETENTION,
        policies: PolicyFinder | None = None,
        links: AckLinks | None = None,
        fallback_receiver: str = "",
        max_alerts: int = DEFAULT_MAX_ALERTS,
        max_groups: int = DEFAULT_MAX_GROUPS,
    ) -> None:
        self._store = store
        self._clock = clock
        self.hub = hub
        self._resolve_timeout = resolve_timeout_ms
        self._retention = resolved_retention_ms
        self._history_retention = history_retention_ms
        self._policies = policies or StorePolicies(store)
        self._links = links
        # The channel (name or id) that gets what a receiver that is no channel would have got.
        self._fallback = fallback_receiver
        # Receivers found to be no channel since the configuration last changed: each is logged once.
        self._reported: set[str] = set()
        self._escalation_store = EscalationRepository(store.engine)
        self._escalations: dict[str, Escalation] = {}
        self._escalations_dirty: set[str] = set()
        self._escalations_removed: set[str] = set()
        # Alerts that started firing since the last step: each may start an escalation.
        self._fired: set[str] = set()
        self._history: list[AlertHistoryEvent] = []
        self._queued: list[tuple[Delivery, dict[str, object]]] = []
        self._pruned_at: int | None = None
        self._alerts: dict[str, Alert] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()
        self._undispatched: set[str] = set()
        self._events: list[tuple[EventType, Alert]] = []
        self._max_alerts = max_alerts
        self._max_groups = max_groups
        self._routes: RouteNode = compile_routes(Route())
        self._dispatcher = Dispatcher(self._routes, max_groups=max_groups)
        self._silences = SilenceMuter(())
        self._inhibitor = Inhibitor(())
        self._channels: dict[str, Channel] = {}
        self._unmuted: set[str] = set()
        self._mute_all = True
        self._muted_at = 0
        self._has_inhibit_rules = False
        self._next_expiry = FOREVER
        self._inbox: list[tuple[list[PostedAlert], asyncio.Future[list[str]]]] = []
        self._stale = False
        # Told when notifications were queued, so that delivery starts at once rather than at its next poll.
        self.on_queued: Callable[[], None] | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Loads the state, then runs the loop."""
        await self.load()
        self._task = asyncio.create_task(self._run(), name="alert-manager")

    async def load(self) -> None:
        """Loads the alerts, the configuration and the dispatcher state."""
        for alert in await self._store.alerts.all():
            self._alerts[alert.fingerprint] = alert
            self._track_expiry(alert)
        self._escalations = {e.fingerprint: e for e in await self._escalation_store.all()}
        await self._load_config()
        for row in await self._store.nflog.all():
            entry = LogEntry(frozenset(row.firing), frozenset(row.resolved), row.sent_at)
            self._dispatcher.nflog.log(row.group_id, row.receiver, entry)
        self._dispatcher.nflog.take_changes()
        # As Alertmanager after a restart: groups are rebuilt from the alerts (group_wait counts
        # again, or not at all for alerts already older) and the notification log stops resends.
        self._undispatched.update(self._alerts)
        self._mute_all = True

    async def stop(self) -> None:
        """Stops the loop after its current step; everything it decided is already committed."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self._clock.now_ms()
            try:
                if self._stale:
                    await self.reload_state()
                    self._stale = False
                deadline = await self.tick(now)
            except Exception:
                # Back to the committed state before the next step, so that nothing decided
                # but not committed (a notification marked sent, say) is lost.
                log.exception("alert pipeline step failed; reloading the committed state in 1s")
                self._stale = True
                deadline = now + 1000
            sleep_ms = min(max(deadline - self._clock.now_ms(), 0), MAX_SLEEP_MS)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), sleep_ms / 1000)

    async def reload_state(self) -> None:
        """Forgets what was decided but not committed (sent marks included) and reloads the store's state,
        so that a failed commit is redone, not lost."""
        async with self._lock:
            self._alerts = {}
            self._dirty.clear()
            self._removed.clear()
            self._undispatched.clear()
            self._unmuted.clear()
            self._events = []
            self._escalations_dirty.clear()
            self._escalations_removed.clear()
            self._fired.clear()
            self._history = []
            self._queued = []
            self._next_expiry = FOREVER
            self._dispatcher = Dispatcher(self._routes, max_groups=self._max_groups)
            await self.load()

    def wake(self) -> None:
        self._wake.set()

    # --- configuration ---------------------------------------------------------------------

    async def _load_config(self) -> None:
        self._routes = compile_routes(await self._store.routing.get() or Route())
        # The tree may have changed: keep the notification log and the groups that still exist in it.
        dispatcher = Dispatcher(self._routes, max_groups=self._max_groups)
        dispatcher.restore(self._dispatcher.snapshot())
        self._dispatcher = dispatcher
        self._silences = SilenceMuter(await self._store.silences.all())
        inhibit_rules = await self._store.inhibit_rules.all()
        self._inhibitor = Inhibitor(inhibit_rules)
        self._has_inhibit_rules = bool(inhibit_rules)
        channels = await self._store.channels.all()
        self._channels = {c.id: c for c in channels} | {c.name: c for c in channels}
        self._reported.clear()
        if self._fallback and self._fallback not in self._channels:
            log.error(
                "fallback_receiver %r is no channel; create it, or notifications may be lost", self._fallback
            )

    async def reload(self) -> None:
        """Re-reads routing, silences, inhibit rules and channels after one of them changed."""
        async with self._lock:
            await self._load_config()
            # Regroup every alert under the current tree; the notification log stops resends.
            self._undispatched.update(self._alerts)
            self._mute_all = True
        self.wake()

    # --- reading ---------------------------------------------------------------------------

    def alerts(self) -> list[Alert]:
        return sorted(self._alerts.values(), key=lambda a: (a.started_at, a.fingerprint))

    def room(self) -> int:
        """How many more alerts the server takes (limits.max_alerts); rule evaluation keeps no new alert
        past it, and a post is refused what does not fit."""
        return max(self._max_alerts - len(self._alerts), 0)

    def get(self, fp: str) -> Alert:
        alert = self._alerts.get(fp)
        if alert is None:
            raise NotFound(f"alert {fp!r} not found")
        return alert

    def latest(self, alert: Alert) -> Alert:
        """The current version of an alert a group holds (the group keeps what it last saw)."""
        return self._alerts.get(alert.fingerprint, alert)

    def receivers(self, alert: Alert) -> list[str]:
        """Names of the receivers the alert's routes reach, as Alertmanager lists them."""
        names = []
        for match in self._routes.match(alert.labels):
            channel = self._channels.get(match.opts.receiver)
            name = channel.name if channel is not None else match.opts.receiver
            if name and name not in names:
                names.append(name)
        return names

    def groups(self) -> list[AlertGroup]:
        return self._dispatcher.groups()

    def receiver_name(self, receiver: str) -> str:
        channel = self._channels.get(receiver)
        return channel.name if channel is not None else receiver

    # --- writing ---------------------------------------------------------------------------

    async def post(self, posted: Iterable[PostedAlert]) -> list[str]:
        """Alerts from outside (Prometheus, amtool): the same labels update the same alert.

        Returns once they are committed: a 200 to Prometheus means the alerts are durable. Posts
        that arrive together are applied and committed together, in the next step.
        """
        done: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._inbox.append((list(posted), done))
        if self._task is None:
            await self.tick(self._clock.now_ms())
        else:
            self.wake()
        return await done

    def _from_posted(self, p: PostedAlert, now: int) -> Alert:
        fp = fingerprint(p.labels)
        starts = p.starts_at if p.starts_at is not None else now
        ends = p.ends_at if p.ends_at is not None else now + self._resolve_timeout
        old = self._alerts.get(fp)
        # Alertmanager merges an update into a still-current alert: the earlier start wins.
        if old is not None and not is_resolved(old, starts):
            starts = min(starts, old.started_at)
        resolved = ends <= now
        return Alert(
            fingerprint=fp,
            labels=dict(p.labels),
            state=AlertState.RESOLVED if resolved else AlertState.FIRING,
            annotations=dict(p.annotations),
            started_at=starts,
            fired_at=starts,
            resolved_at=ends,
            updated_at=now,
            generator_url=p.generator_url,
            ack=old.ack if old is not None else None,
            silenced_by=old.silenced_by if old is not None else (),
            inhibited_by=old.inhibited_by if old is not None else (),
            escalation_level=old.escalation_level if old is not None else 0,
        )

    async def apply(self, alerts: Iterable[Alert]) -> None:
        """New versions of alerts decided elsewhere (rule evaluation); pending ones are kept, not routed.

        In memory at once (GET /alerts shows them); committed with the next step.
        """
        async with self._lock:
            now = self._clock.now_ms()
            for alert in alerts:
                self._upsert(alert, now)
            self._ingest(now)
        self.wake()

    def _upsert(self, alert: Alert, now: int) -> str:
        old = self._alerts.get(alert.fingerprint)
        if old is not None:
            # An alert that fires again after it resolved is a new incident: its ack is history.
            again = old.state is AlertState.RESOLVED and alert.state is not AlertState.RESOLVED
            alert = dataclasses.replace(
                alert,
                silenced_by=old.silenced_by,
                inhibited_by=old.inhibited_by,
                ack=None if again else old.ack,
                escalation_level=0 if again else old.escalation_level,
            )
        kind = _change(old, alert)
        if kind is not None:
            if kind in (EventType.CREATED, EventType.STATE_CHANGED, EventType.RESOLVED):
                self._history.append(history.state_change(alert, now))
            if alert.state is AlertState.FIRING and (old is None or old.state is not AlertState.FIRING):
                self._fired.add(alert.fingerprint)
            self._alerts[alert.fingerprint] = alert
            self._removed.discard(alert.fingerprint)
            self._dirty.add(alert.fingerprint)
            self._undispatched.add(alert.fingerprint)
            self._unmuted.add(alert.fingerprint)
            self._events.append((kind, alert))
            self._track_expiry(alert)
        return alert.fingerprint

    def _track_expiry(self, alert: Alert) -> None:
        """Keeps _next_expiry at or before the alert's next change by itself."""
        deadline = self._expiry(alert)
        if deadline is not None:
            self._next_expiry = min(self._next_expiry, deadline)

    def _expiry(self, alert: Alert) -> int | None:
        """When the alert next changes by itself: an external alert resolves, a resolved one goes."""
        if alert.resolved_at is None:
            return None
        if alert.state is AlertState.FIRING:
            return alert.resolved_at
        if alert.state is AlertState.RESOLVED:
            return alert.resolved_at + self._retention
        return None

    # --- acknowledgement -------------------------------------------------------------------

    async def acknowledge(self, fp: str, by: str, comment: str = "") -> Alert:
        """Stops the alert's escalation and tells its PagerDuty incidents; durable when it returns."""
        async with self._lock:
            now = self._clock.now_ms()
            alert = self._open_alert(fp, "acknowledged")
            ack = Ack(by=by, comment=comment, at=now)
            acked = self._replace(alert, ack=ack)
            self._events.append((EventType.ACKNOWLEDGED, acked))
            self._history.append(history.acknowledged(fp, ack))
            if alert.ack is None:
                self._queued.extend(self._acknowledgements(acked, now))
            await self._commit_alone(now)
        self.wake()
        return acked

    async def unacknowledge(self, fp: str, by: str) -> Alert:
        """The escalation resumes where it stopped (at the next step)."""
        async with self._lock:
            now = self._clock.now_ms()
            alert = self._open_alert(fp, "unacknowledged")
            if alert.ack is None:
                return alert
            unacked = self._replace(alert, ack=None)
            self._events.append((EventType.UNACKNOWLEDGED, unacked))
            self._history.append(history.unacknowledged(fp, by, now))
            await self._commit_alone(now)
        self.wake()
        return unacked

    def _open_alert(self, fp: str, verb: str) -> Alert:
        alert = self.get(fp)
        if alert.state is AlertState.RESOLVED:
            raise FailedPrecondition(f"alert {fp!r} is resolved and cannot be {verb}")
        return alert

    def _replace(self, alert: Alert, **changes: object) -> Alert:
        new = dataclasses.replace(alert, **changes)  # type: ignore[arg-type]
        self._alerts[alert.fingerprint] = new
        self._dirty.add(alert.fingerprint)
        return new

    async def _commit_alone(self, now: int) -> None:
        try:
            await self._commit(now, [])
        except BaseException:
            # Memory is ahead of the store now: the loop reloads the committed state first.
            self._stale = True
            self.wake()
            raise

    def _acknowledgements(self, alert: Alert, now: int) -> list[tuple[Delivery, dict[str, object]]]:
        """An `acknowledge` to each PagerDuty channel that has an incident for the alert: those of its
        aggregation groups' receivers, and those of the escalation levels it reached."""
        targets: list[tuple[str, Channel]] = []
        for group in self._dispatcher.groups():
            channel = self._channels.get(group.receiver)
            if alert.fingerprint in group.alerts and channel is not None:
                targets.append((group.key, channel))
        esc = self._escalations.get(alert.fingerprint)
        if esc is not None:
            levels = esc.policy.levels[: esc.next_step]  # a repeat reaches no level the first pass missed
            for name in sorted({name for level in levels for name in level.channels}):
                channel = self._channels.get(name)
                if channel is not None:
                    targets.append((esc.group_key, channel))
        rows: list[tuple[Delivery, dict[str, object]]] = []
        seen = set()
        for group_key, channel in targets:
            if channel.type is not ChannelType.PAGERDUTY or (group_key, channel.id) in seen:
                continue
            seen.add((group_key, channel.id))
            key = hashlib.sha256(f"ack\x00{group_key}\x00{channel.id}\x00{now}".encode()).hexdigest()[:32]
            delivery = self._delivery(channel, group_key, (alert.fingerprint,), key, now)
            rows.append((delivery, {**ACKNOWLEDGE_ACTION, "receiver": channel.name, "group_key": group_key}))
        return rows

    # --- escalation ------------------------------------------------------------------------

    async def _escalate(self, now: int) -> None:
        fired, self._fired = self._fired, set()
        for fp in sorted(fired):
            alert = self._alerts.get(fp)
            if alert is None or alert.state is not AlertState.FIRING:
                continue
            fired_at = alert.fired_at if alert.fired_at is not None else alert.started_at
            old = self._escalations.get(fp)
            if old is not None and old.fired_at == fired_at:
                continue
            routes = [m.opts.escalation_policy_id for m in self._routes.match(alert.labels)]
            policy = await self._policies.for_alert(alert, routes)
            if policy is not None:
                self._escalations[fp] = start(fp, policy, fired_at, now)
                self._escalations_dirty.add(fp)
            elif old is not None:
                self._end_escalation(fp)
        for fp, esc in list(self._escalations.items()):
            alert = self._alerts.get(fp)
            if alert is None or alert.state is not AlertState.FIRING:
                # Resolve ends it (and a resolved alert that fires again starts a new one).
                self._end_escalation(fp)
                continue
            if ack_expired(esc, alert.ack, now):
                alert = self._replace(alert, ack=None, escalation_level=0)
                self._events.append((EventType.UNACKNOWLEDGED, alert))
                self._history.append(history.unacknowledged(fp, "", now, ACK_TIMEOUT_MESSAGE))
                esc = restart(esc, now)
            paused = alert.ack is not None or bool(alert.silenced_by) or bool(alert.inhibited_by)
            new, steps = advance(esc, paused=paused, now=now)
            if new != esc or esc is not self._escalations[fp]:
                self._escalations[fp] = new
                self._escalations_dirty.add(fp)
            if steps:
                alert = self._replace(alert, escalation_level=steps[-1].level, updated_at=now)
                self._events.append((EventType.UPDATED, alert))
                for s in steps:
                    self._queued.extend(self._escalation_deliveries(alert, new, s, now))

    def _end_escalation(self, fp: str) -> None:
        del self._escalations[fp]
        self._escalations_dirty.discard(fp)
        self._escalations_removed.add(fp)

    def _escalation_deliveries(
        self, alert: Alert, esc: Escalation, s: Step, now: int
    ) -> list[tuple[Delivery, dict[str, object]]]:
        policy = esc.policy
        where = f"level {s.level} of escalation policy {policy.name!r}"
        if s.repeat:
            where += f", repeat {s.repeat} of {policy.repeat}"
        rows = []
        missing = [name for name in s.channels if name not in self._channels]
        targets = [self._channels[name] for name in s.channels if name in self._channels]
        for name in missing:
            fallback = self._instead_of(name, where)
            if fallback is not None and fallback not in targets:
                targets.append(fallback)
        for channel in targets:
            # Stable across a crash and retry of this step, distinct between steps and runs.
            key = hashlib.sha256(
                f"esc\x00{alert.fingerprint}\x00{esc.fired_at}\x00{esc.run}\x00{s.index}\x00{channel.id}".encode()
            ).hexdigest()[:32]
            delivery = self._delivery(channel, esc.group_key, (alert.fingerprint,), key, now)
            payload: dict[str, object] = {
                "receiver": channel.name,
                "group_key": esc.group_key,
                "group_labels": dict(alert.labels),
                "route_key": "",
                "escalation_policy_id": policy.id,
                "escalation_level": s.level,
                "escalation_repeat": s.repeat,
                "reason": "escalation",
                "firing": [alert_to_data(alert)],
                "resolved": [],
            }
            if self._links is not None:
                payload["ack_url"] = self._links.url(alert.fingerprint, alert.started_at, now)
            rows.append((delivery, payload))
        message = where if not missing else f"{where}; no such channel: {', '.join(missing)}"
        self._history.append(history.escalation(alert.fingerprint, s.level, s.channels, message, now))
        return rows

    def _instead_of(self, receiver: str, where: str) -> Channel | None:
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

    @staticmethod
    def _delivery(
        channel: Channel, group_key: str, fingerprints: tuple[str, ...], key: str, now: int
    ) -> Delivery:
        return Delivery(
            id=new_id(),
            channel_id=channel.id,
            status=DeliveryStatus.PENDING,
            group_key=group_key,
            fingerprints=fingerprints,
            idempotency_key=key,
            created_at=now,
            updated_at=now,
            next_attempt_at=now,
        )

    async def _prune(self, now: int) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        gone = await history.prune(self._store, now - self._history_retention)
        if gone:
            log.info("dropped %d history events older than the retention", gone)

    # --- the step --------------------------------------------------------------------------

    async def tick(self, now: int) -> int:
        """One step at `now` (tests drive this directly); returns when the next step is due."""
        async with self._lock:
            return await self._tick(now)

    async def _tick(self, now: int) -> int:
        inbox, self._inbox = self._inbox, []
        answers = [self._take_posted(posted, now) for posted, _ in inbox]
        try:
            self._expire(now)
            self._mute(now)
            await self._escalate(now)
            self._ingest(now)
            notifications = self._dispatcher.due(now, (self._silences, self._inhibitor))
            await self._commit(now, notifications)
            await self._prune(now)
        except BaseException as exc:
            for _, done in inbox:
                if not done.done():
                    done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("stopped"))
            raise
        for (posted, done), fingerprints in zip(inbox, answers, strict=True):
            if done.done():
                continue
            refused = len(posted) - len(fingerprints)
            if refused:
                # What fitted is committed; the caller learns the rest was not.
                done.set_exception(
                    ResourceExhausted(
                        f"{refused} of {len(posted)} alerts refused: the server holds {self._max_alerts} "
                        "alerts, the most it takes (limits.max_alerts); alerts it holds still update"
                    )
                )
            else:
                done.set_result(fingerprints)
        return self._next_deadline(now)

    def _take_posted(self, posted: list[PostedAlert], now: int) -> list[str]:
        """The fingerprints of the posted alerts taken: all but the new ones past limits.max_alerts."""
        taken = []
        for p in posted:
            alert = self._from_posted(p, now)
            if alert.fingerprint in self._alerts or len(self._alerts) < self._max_alerts:
                taken.append(self._upsert(alert, now))
        return taken

    def _ingest(self, now: int) -> None:
        self._dispatcher.ingest(
            (self._alerts[fp] for fp in sorted(self._undispatched) if fp in self._alerts), now
        )
        self._undispatched.clear()

    def _expire(self, now: int) -> None:
        if now < self._next_expiry:
            return
        self._next_expiry = FOREVER
        for alert in list(self._alerts.values()):
            if (
                alert.state is AlertState.FIRING
                and alert.resolved_at is not None
                and alert.resolved_at <= now
            ):
                # An external alert that was not posted again before its end.
                self._upsert(dataclasses.replace(alert, state=AlertState.RESOLVED, updated_at=now), now)
            elif (
                alert.state is AlertState.RESOLVED
                and alert.resolved_at is not None
                and alert.resolved_at + self._retention <= now
            ):
                del self._alerts[alert.fingerprint]
                self._dirty.discard(alert.fingerprint)
                self._removed.add(alert.fingerprint)
                self._events.append((EventType.REMOVED, alert))
                continue
            self._track_expiry(self._alerts[alert.fingerprint])

    def _mute(self, now: int) -> None:
        """Silences and inhibitions of the alerts that may have changed: all of them when the
        configuration changed, a silence started or ended, or inhibit rules relate alerts to each
        other; otherwise only the alerts that changed since the last step."""
        change = self._silences.next_change(self._muted_at)
        if self._mute_all or self._has_inhibit_rules or (change is not None and change <= now):
            self._inhibitor.update(self._alerts.values(), now)
            candidates = list(self._alerts.values())
        else:
            candidates = [self._alerts[fp] for fp in self._unmuted if fp in self._alerts]
        self._mute_all = False
        self._unmuted.clear()
        self._muted_at = now
        for alert in candidates:
            silenced = tuple(self._silences.mutes(alert.labels, now))
            inhibited = tuple(self._inhibitor.inhibited_by(alert.labels))
            if (silenced, inhibited) != (alert.silenced_by, alert.inhibited_by):
                muted = dataclasses.replace(alert, silenced_by=silenced, inhibited_by=inhibited)
                self._history.extend(history.muting(alert, muted, now))
                self._alerts[alert.fingerprint] = muted
                self._dirty.add(alert.fingerprint)
                self._events.append((EventType.UPDATED, muted))

    def _next_deadline(self, now: int) -> int:
        times = [now + MAX_SLEEP_MS]
        wakeup = self._dispatcher.next_wakeup()
        if wakeup is not None:
            times.append(wakeup)
        change = self._silences.next_change(now)
        if change is not None:
            times.append(change)
        for fp, esc in self._escalations.items():
            alert = self._alerts.get(fp)
            wakeup = next_wakeup(esc, alert.ack if alert is not None else None)
            if wakeup is not None:
                times.append(wakeup)
        # The earliest time an alert resolves or goes by itself (kept by _upsert and _expire), rather
        # than a walk over every alert at every step.
        times.append(self._next_expiry)
        return max(min(times), now)

    async def _commit(self, now: int, notifications: list[Notification]) -> None:
        queued, self._queued = self._queued, []
        deliveries = queued + [d for n in notifications for d in self._deliveries(n, now)]
        for delivery, payload in deliveries:
            for fp in delivery.fingerprints:
                self._history.append(
                    history.notification(
                        fp, str(payload["receiver"]), delivery.id, now, _int(payload.get("escalation_level"))
                    )
                )
        events_to_log, self._history = self._history, []
        escalated = [
            self._escalations[fp] for fp in sorted(self._escalations_dirty) if fp in self._escalations
        ]
        dirty = [self._alerts[fp] for fp in sorted(self._dirty) if fp in self._alerts]
        # What was sent and when, in the same transaction as the outbox rows: a restart
        # neither loses a notification nor sends it twice.
        logged, forgotten = self._dispatcher.nflog.take_changes()
        log_rows = [
            NotificationLogRow(group, receiver, tuple(sorted(e.firing)), tuple(sorted(e.resolved)), e.sent_at)
            for (group, receiver), e in logged.items()
        ]
        if (
            dirty
            or self._removed
            or deliveries
            or log_rows
            or forgotten
            or events_to_log
            or escalated
            or self._escalations_removed
        ):
            store, removed, gone = self._store, sorted(self._removed), sorted(self._escalations_removed)

            def write(connection: Connection) -> None:
                store.alerts.upsert_many_in(connection, dirty)
                store.alerts.delete_many_in(connection, removed)
                store.deliveries.add_many_in(connection, deliveries)
                store.nflog.write_in(connection, log_rows, forgotten)
                EscalationRepository.write_in(connection, escalated, gone)
                store.history.append_in(connection, events_to_log)

            await store.write(write)
            if deliveries and self.on_queued is not None:
                self.on_queued()
        self._dirty.clear()
        self._removed.clear()
        self._escalations_dirty.clear()
        self._escalations_removed.clear()
        events, self._events = self._events, []
        self.hub.publish(events)

    def _deliveries(self, n: Notification, now: int) -> list[tuple[Delivery, dict[str, object]]]:
        if not n.receiver:
            # No routing tree yet: alerts are kept and shown, nobody is notified.
            return []
        channel = self._channels.get(n.receiver) or self._instead_of(n.receiver, f"route {n.route_key}")
        if channel is None:
            return []
        key = hashlib.sha256(f"{n.group_id}\x00{channel.id}\x00{n.at}".encode()).hexdigest()[:32]
        delivery = Delivery(
            # Assigned here so that the history rows of this notification can name it.
            id=new_id(),
            channel_id=channel.id,
            status=DeliveryStatus.PENDING,
            group_key=n.group_key,
            fingerprints=tuple(a.fingerprint for a in (*n.firing, *n.resolved)),
            idempotency_key=key,
            created_at=now,
            updated_at=now,
            next_attempt_at=now,
        )
        payload: dict[str, object] = {
            "receiver": channel.name,
            "group_key": n.group_key,
            "group_labels": dict(n.group_labels),
            "route_key": n.route_key,
            "escalation_policy_id": n.escalation_policy_id,
            "reason": n.reason.value,
            "firing": [alert_to_data(a) for a in n.firing],
            "resolved": [alert_to_data(a) for a in n.resolved],
        }
        if self._links is not None:
            # One link per firing alert: a token acknowledges exactly one alert.
            urls = {a.fingerprint: self._links.url(a.fingerprint, a.started_at, now) for a in n.firing}
            payload["ack_urls"] = urls
            if len(urls) == 1:
                [payload["ack_url"]] = urls.values()
        return [(delivery, payload)]
