"""The live alert pipeline: alerts by fingerprint, muting, grouping, and notifications to the outbox.

One task owns the state. Each step (`tick`) expires and drops alerts whose time has come,
recomputes silences and inhibitions, lets the dispatcher flush what is due, and writes in one
transaction the changed alerts, the dispatcher's state and the outbox rows those flushes caused;
only then are the changes published to watchers. A crash before the commit loses nothing that
was promised: the alerts and timers come back as they were and the flush happens again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
from collections.abc import Callable, Iterable

from alerting_server.alerts.codec import alert_to_data
from alerting_server.alerts.fingerprint import fingerprint
from alerting_server.alerts.groups import AlertGroup, Dispatcher, Notification
from alerting_server.alerts.inhibit import Inhibitor
from alerting_server.alerts.nflog import LogEntry
from alerting_server.alerts.routing import RouteNode, compile_routes
from alerting_server.alerts.silences import SilenceMuter
from alerting_server.alerts.state import is_resolved
from alerting_server.alerts.watch import EventType, WatchHub
from alerting_server.clock import Clock
from alerting_server.errors import NotFound
from alerting_server.model import Alert, AlertState, Channel, Delivery, DeliveryStatus, PostedAlert, Route
from alerting_server.store import Store
from alerting_server.store.nflog import NotificationLogRow

log = logging.getLogger(__name__)

DEFAULT_RESOLVE_TIMEOUT = 5 * 60_000
RESOLVED_RETENTION = 15 * 60_000
# A bound on how long the loop sleeps, so that a lost wake-up costs at most this much.
MAX_SLEEP_MS = 10_000
FOREVER = 2**62


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
    ) -> None:
        self._store = store
        self._clock = clock
        self.hub = hub
        self._resolve_timeout = resolve_timeout_ms
        self._retention = resolved_retention_ms
        self._alerts: dict[str, Alert] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()
        self._undispatched: set[str] = set()
        self._events: list[tuple[EventType, Alert]] = []
        self._routes: RouteNode = compile_routes(Route())
        self._dispatcher = Dispatcher(self._routes)
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
            self._next_expiry = FOREVER
            self._dispatcher = Dispatcher(self._routes)
            await self.load()

    def wake(self) -> None:
        self._wake.set()

    # --- configuration ---------------------------------------------------------------------

    async def _load_config(self) -> None:
        self._routes = compile_routes(await self._store.routing.get() or Route())
        # The tree may have changed: keep the notification log and the groups that still exist in it.
        dispatcher = Dispatcher(self._routes)
        dispatcher.restore(self._dispatcher.snapshot())
        self._dispatcher = dispatcher
        self._silences = SilenceMuter(await self._store.silences.all())
        inhibit_rules = await self._store.inhibit_rules.all()
        self._inhibitor = Inhibitor(inhibit_rules)
        self._has_inhibit_rules = bool(inhibit_rules)
        channels = await self._store.channels.all()
        self._channels = {c.id: c for c in channels} | {c.name: c for c in channels}

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
            alert = dataclasses.replace(
                alert, silenced_by=old.silenced_by, inhibited_by=old.inhibited_by, ack=old.ack
            )
        kind = _change(old, alert)
        if kind is not None:
            self._alerts[alert.fingerprint] = alert
            self._removed.discard(alert.fingerprint)
            self._dirty.add(alert.fingerprint)
            self._undispatched.add(alert.fingerprint)
            self._unmuted.add(alert.fingerprint)
            self._events.append((kind, alert))
            deadline = self._expiry(alert)
            if deadline is not None:
                self._next_expiry = min(self._next_expiry, deadline)
        return alert.fingerprint

    def _expiry(self, alert: Alert) -> int | None:
        """When the alert next changes by itself: an external alert resolves, a resolved one goes."""
        if alert.resolved_at is None:
            return None
        if alert.state is AlertState.FIRING:
            return alert.resolved_at
        if alert.state is AlertState.RESOLVED:
            return alert.resolved_at + self._retention
        return None

    # --- the step --------------------------------------------------------------------------

    async def tick(self, now: int) -> int:
        """One step at `now` (tests drive this directly); returns when the next step is due."""
        async with self._lock:
            return await self._tick(now)

    async def _tick(self, now: int) -> int:
        inbox, self._inbox = self._inbox, []
        answers = [[self._upsert(self._from_posted(p, now), now) for p in posted] for posted, _ in inbox]
        try:
            self._expire(now)
            self._mute(now)
            self._ingest(now)
            notifications = self._dispatcher.due(now, (self._silences, self._inhibitor))
            await self._commit(now, notifications)
        except BaseException as exc:
            for _, done in inbox:
                if not done.done():
                    done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("stopped"))
            raise
        for (_, done), fingerprints in zip(inbox, answers, strict=True):
            if not done.done():
                done.set_result(fingerprints)
        return self._next_deadline(now)

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
            deadline = self._expiry(self._alerts[alert.fingerprint])
            if deadline is not None:
                self._next_expiry = min(self._next_expiry, deadline)

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
        for alert in self._alerts.values():
            if alert.resolved_at is None:
                continue
            times.append(
                alert.resolved_at if alert.state is AlertState.FIRING else alert.resolved_at + self._retention
            )
        return max(min(times), now)

    async def _commit(self, now: int, notifications: list[Notification]) -> None:
        deliveries = [d for n in notifications for d in self._deliveries(n, now)]
        dirty = [self._alerts[fp] for fp in sorted(self._dirty) if fp in self._alerts]
        # What was sent and when, in the same transaction as the outbox rows: a restart
        # neither loses a notification nor sends it twice.
        logged, forgotten = self._dispatcher.nflog.take_changes()
        log_rows = [
            NotificationLogRow(group, receiver, tuple(sorted(e.firing)), tuple(sorted(e.resolved)), e.sent_at)
            for (group, receiver), e in logged.items()
        ]
        if dirty or self._removed or deliveries or log_rows or forgotten:
            async with self._store.transaction() as connection:
                await self._store.alerts.upsert_many(dirty, connection=connection)
                await self._store.alerts.delete_many(sorted(self._removed), connection=connection)
                await self._store.deliveries.add_many(deliveries, connection=connection)
                await self._store.nflog.write(log_rows, forgotten, connection=connection)
            if deliveries and self.on_queued is not None:
                self.on_queued()
        self._dirty.clear()
        self._removed.clear()
        events, self._events = self._events, []
        self.hub.publish(events)

    def _deliveries(self, n: Notification, now: int) -> list[tuple[Delivery, dict[str, object]]]:
        if not n.receiver:
            # No routing tree yet: alerts are kept and shown, nobody is notified.
            return []
        channel = self._channels.get(n.receiver)
        if channel is None:
            log.error(
                "receiver %r of group %s is no channel; notification not queued", n.receiver, n.group_key
            )
            return []
        key = hashlib.sha256(f"{n.group_id}\x00{channel.id}\x00{n.at}".encode()).hexdigest()[:32]
        delivery = Delivery(
            id="",
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
        return [(delivery, payload)]
