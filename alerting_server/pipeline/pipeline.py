"""The loop that owns the live alerts and runs the stages over them.

One task owns the state. Each step (`tick`) runs the stages in order: expiry (alerts whose time has
come resolve or go), muting (silences, inhibition), escalation, dispatch (aggregation groups that
are due). It then writes in one transaction the changed alerts, the stages' state, the history and
the outbox rows the step queued; only then are the changes published to watchers. A crash before the
commit loses nothing that was promised: the alerts and timers come back as they were and the step
happens again. An acknowledgement is one such step of its own, committed before the call returns.

Several replicas on one PostgreSQL (`cluster` given): the alerts are divided into partitions by a hash
of the values of the labels every route groups by (`partition`), so that an aggregation group's alerts
are all in one partition. Each replica runs the steps of the partitions whose leases it holds (`own`),
over their alerts only, each commit fenced by those leases, and applies what any replica stored in the
alert inbox for those partitions (posted alerts, rule alerts, acknowledgements) in the step that commits
it; the steps write their changes to the watch log, which every replica follows. Reads, and the source
alerts of inhibition, come from the watch log's view of all alerts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import zlib
from collections.abc import Callable, Collection, Iterable, Sequence

from alerting_server.ack import stage as ack
from alerting_server.ack.links import AckLinks
from alerting_server.alerts import history
from alerting_server.alerts.dispatch.aggregation import AlertGroup
from alerting_server.alerts.dispatch.nflog import LogEntry
from alerting_server.alerts.dispatch.receivers import Receivers
from alerting_server.alerts.dispatch.routing import RouteNode, compile_routes
from alerting_server.alerts.dispatch.stage import DispatchStage
from alerting_server.alerts.fingerprint import fingerprint
from alerting_server.alerts.limits import DEFAULT_MAX_ALERTS, DEFAULT_MAX_GROUPS
from alerting_server.alerts.live import RESOLVED_RETENTION, Expiry, LiveAlerts
from alerting_server.alerts.mute.stage import MuteStage
from alerting_server.alerts.stage import Stage
from alerting_server.alerts.state import is_resolved
from alerting_server.alerts.watch import AlertEvent, EventType, WatchHub
from alerting_server.clock import Clock
from alerting_server.errors import FailedPrecondition, NotFound, ResourceExhausted, Unavailable
from alerting_server.escalation import PolicyFinder, StorePolicies
from alerting_server.escalation.stage import EscalationStage
from alerting_server.escalation.targets import People
from alerting_server.model import Ack, Alert, AlertState, PostedAlert, Route
from alerting_server.model.alert_json import alert_from_json, alert_to_json
from alerting_server.model.fence import Fence, LeaseLost
from alerting_server.model.inbox import InboxItem, InboxKind
from alerting_server.model.step import NotificationLogRow, StepRecord
from alerting_server.pipeline.cluster import INBOX_BATCH, ClusterLink, posted_from_json, posted_to_json
from alerting_server.pipeline.store import AlertStore
from alerting_server.tasks import cancel, wait_set

log = logging.getLogger(__name__)

DEFAULT_RESOLVE_TIMEOUT = 5 * 60_000
# A bound on how long the loop sleeps, so that a lost wake-up costs at most this much.
MAX_SLEEP_MS = 10_000
PRUNE_EVERY = 3_600_000
# How many watch-log events the pipeline's owner keeps (several replicas): resumable within them.
WATCH_LOG_KEEP = 100_000


class AlertPipeline:
    def __init__(
        self,
        store: AlertStore,
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
        cluster: ClusterLink | None = None,
    ) -> None:
        self._store = store
        self._cluster = cluster
        # Several replicas: the pipeline partitions whose leases this replica holds, and whether it
        # holds any (then it runs the steps of those).
        self._partitions: frozenset[int] = frozenset()
        self._leading = False
        # The labels every route groups by (None: every label), whose values give an alert's partition.
        self._partition_labels: frozenset[str] | None = frozenset()
        self._clock = clock
        self.hub = hub
        self._resolve_timeout = self._default_resolve_timeout = resolve_timeout_ms
        self._retention = resolved_retention_ms
        self._history_retention = history_retention_ms
        self._policies = policies or StorePolicies(store)
        self._links = links
        self._fallback = fallback_receiver
        self._max_alerts = max_alerts
        self._max_groups = max_groups
        self._pruned_at: int | None = None
        self._inbox: list[tuple[list[PostedAlert], asyncio.Future[list[str]]]] = []
        self._stale = False
        # Told the channels of the notifications queued, so that delivery starts at once rather than at
        # its next poll.
        self.on_queued: Callable[[Collection[str]], None] | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._fresh()

    def _fresh(self) -> None:
        """Empty state: nothing decided, nothing loaded."""
        self._live = LiveAlerts(resolved_retention_ms=self._retention)
        self._mute = MuteStage(self._other_alerts if self._cluster is not None else None)
        self._escalation = EscalationStage(self._policies, links=self._links)
        self._dispatch = DispatchStage(links=self._links, max_groups=self._max_groups)
        self._stages: Sequence[Stage] = (Expiry(), self._mute, self._escalation, self._dispatch)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Loads the state, then runs the loop (with several replicas: only the configuration, until
        this replica takes pipeline partitions and own() runs the loop over them)."""
        if self._cluster is not None:
            await self._load_config()
            return
        await self.load()
        self._task = asyncio.create_task(self._run(), name="alert-pipeline")

    async def own(self, partitions: Collection[int]) -> None:
        """Several replicas: this replica holds the leases of these pipeline partitions now (more or fewer
        than before). The steps stop, then go on over these partitions' alerts from the committed state,
        as after a restart: a partition taken over continues its timers where its last owner committed
        them."""
        await self.stop()
        async with self._lock:
            self._partitions = frozenset(partitions)
            self._leading = bool(self._partitions)
            self._fresh()
            self._pruned_at = None
            self._stale = False
            try:
                if self._leading:
                    await self.load()
                else:
                    await self._load_config()
            except Exception:
                # The loop reads the committed state again before its first step.
                log.exception("loading the alert pipeline's state failed")
                self._stale = True
        if self._leading:
            self._task = asyncio.create_task(self._run(), name="alert-pipeline")

    @property
    def partitions(self) -> frozenset[int]:
        """Several replicas: the pipeline partitions this replica runs the steps of."""
        return self._partitions

    def partition(self, labels: dict[str, str]) -> int:
        """The pipeline partition of an alert: the same for every alert of an aggregation group of any
        route, as it hashes only labels that every route groups by."""
        count = self._cluster.pipeline_partition_count() if self._cluster is not None else 1
        return alert_partition(labels, self._partition_labels, count)

    def _owns(self, labels: dict[str, str]) -> bool:
        return self._cluster is None or self.partition(labels) in self._partitions

    def _other_alerts(self) -> Iterable[Alert]:
        """Every committed alert (the watch log's view), for inhibition by alerts of other partitions."""
        return self._view().values()

    @property
    def _following(self) -> bool:
        """Several replicas: reads come from the watch log's view (each replica's steps hold only its
        partitions' alerts)."""
        return self._cluster is not None

    def _view(self) -> dict[str, Alert]:
        return self.hub.view if self.hub.view is not None else {}

    async def load(self) -> None:
        """Loads the alerts, the configuration and the dispatcher state."""
        # As Alertmanager after a restart: groups are rebuilt from the alerts (group_wait counts
        # again, or not at all for alerts already older) and the notification log stops resends.
        state = await self._store.pipeline_state()
        # The partitions follow the routing tree: configuration first.
        await self._load_config()
        for alert in state.alerts:
            if self._owns(alert.labels):
                self._live.load(alert)
        self._escalation.load(e for e in state.escalations if e.fingerprint in self._live.by_fingerprint)
        self._dispatch.restore_log(
            [
                (r.group_id, r.receiver, LogEntry(frozenset(r.firing), frozenset(r.resolved), r.sent_at))
                for r in state.sent
            ]
        )
        # Several replicas: the groups were another owner's a moment ago (a partition taken over), so
        # their group_wait goes on where it stood rather than again from zero.
        self._dispatch.resume_timers = self._cluster is not None

    async def stop(self) -> None:
        """Stops the loop after its current step; everything it decided is already committed."""
        await cancel(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = self._clock.now_ms()
            try:
                if self._stale:
                    # Cleared first: what is heard meanwhile asks for another reload (a failed one is
                    # asked again below).
                    self._stale = False
                    await self.reload_state()
                deadline = await self.tick(now)
            except (LeaseLost, Unavailable) as exc:
                # Said once a second without a trace: the cause is outside, and said in full.
                log.warning("alert pipeline step not committed: %s", exc)
                self._stale = True
                deadline = now + 1000
            except Exception:
                # Back to the committed state before the next step, so that nothing decided
                # but not committed (a notification marked sent, say) is lost.
                log.exception("alert pipeline step failed; reloading the committed state in 1s")
                self._stale = True
                deadline = now + 1000
            sleep_ms = min(max(deadline - self._clock.now_ms(), 0), MAX_SLEEP_MS)
            await wait_set(self._wake, sleep_ms / 1000)

    async def reload_state(self) -> None:
        """Forgets what was decided but not committed (sent marks included) and reloads the store's state,
        so that a failed commit is redone, not lost."""
        async with self._lock:
            self._fresh()
            await self.load()

    def wake(self) -> None:
        self._wake.set()

    def heard(self, events: Sequence[AlertEvent]) -> None:
        """Several replicas: events of the watch log, this replica's commits among them. An alert of a
        partition whose steps run here, but which they do not hold, was committed by another replica
        (one that routed it by a configuration this one had not read yet, say): the committed state is
        read again before the next step, or the alert would have no owner (no escalation, no
        acknowledgement applied)."""
        if not self._leading or self._stale:
            return
        held = self._live.by_fingerprint
        latest = {event.alert.fingerprint: event for event in events}
        for fp, event in latest.items():
            if event.type is not EventType.REMOVED and fp not in held and self._owns(event.alert.labels):
                log.info("alert %s of this replica's partitions was committed elsewhere: adopting it", fp)
                self._stale = True
                self.wake()
                return

    def _give_away(self, labels: Iterable[dict[str, str]]) -> None:
        """Alerts an inbox item brought that are not of this replica's partitions (the replica that
        stored it routed them by a configuration other than this one's): they are committed with this
        step, then the state is read again without them, and their owner adopts them (heard())."""
        if not all(self._owns(lab) for lab in labels):
            self._stale = True
            self.wake()

    async def catch_up_to(self, revision: int) -> None:
        """Several replicas: a watcher resumes from a revision this replica has not read yet."""
        if self._cluster is not None and revision > self.hub.revision:
            await self._cluster.catch_up()

    # --- configuration ---------------------------------------------------------------------

    async def _load_config(self) -> None:
        config = await self._store.pipeline_config(self._clock.now_ms())
        routes = compile_routes(config.route or Route())
        self._partition_labels = _grouped_by_all(routes)
        receivers = Receivers(config.channels, self._fallback, config.empty_receivers)
        self._resolve_timeout = config.resolve_timeout_ms or self._default_resolve_timeout
        self._mute.configure(config.silences, config.inhibit_rules)
        self._dispatch.configure(routes, receivers, self._mute.muters, config.time_intervals)
        self._escalation.configure(
            routes,
            receivers,
            People(config.users, config.schedules, config.overrides),
            config.time_intervals,
        )

    async def reload(self) -> None:
        """Re-reads routing, silences, inhibit rules, time intervals and channels after one of them
        changed."""
        async with self._lock:
            before = self._partition_labels
            await self._load_config()
            if self._leading and self._partition_labels != before:
                # The partitions of alerts changed with the tree: the partitions' alerts again, from
                # the committed state, before the next step.
                self._stale = True
            # Regroup every alert under the current tree; the notification log stops resends.
            self._live.undispatched.update(self._live.by_fingerprint)
            if self._leading:
                # Muting is decided again too: a silence made on another replica mutes from now.
                self._live.unmuted.update(self._live.by_fingerprint)
        self.wake()

    # --- reading ---------------------------------------------------------------------------

    def _current(self) -> dict[str, Alert]:
        return self._view() if self._following else self._live.by_fingerprint

    def alerts(self) -> list[Alert]:
        return sorted(self._current().values(), key=lambda a: (a.started_at, a.fingerprint))

    def room(self) -> int:
        """How many more alerts the server takes (limits.max_alerts); rule evaluation keeps no new alert
        past it, and a post is refused what does not fit."""
        return max(self._max_alerts - len(self._current()), 0)

    def get(self, fp: str) -> Alert:
        alert = self._current().get(fp)
        if alert is None:
            raise NotFound(f"alert {fp!r} not found")
        return alert

    def latest(self, alert: Alert) -> Alert:
        """The current version of an alert a group holds (the group keeps what it last saw)."""
        return self._current().get(alert.fingerprint) or alert

    def receivers(self, alert: Alert) -> list[str]:
        """Names of the receivers the alert's routes reach, as Alertmanager lists them."""
        names = []
        for match in self._dispatch.routes.match(alert.labels):
            name = self._dispatch.receivers.name(match.opts.receiver)
            if name and name not in names:
                names.append(name)
        return names

    def groups(self) -> list[AlertGroup]:
        if not self._following:
            return self._dispatch.groups()
        # Grouped here as the owner groups them (same tree, same alerts), without its timers.
        live = LiveAlerts(resolved_retention_ms=self._retention)
        for alert in self._view().values():
            live.load(alert)
        dispatch = DispatchStage(links=self._links, max_groups=self._max_groups)
        dispatch.configure(self._dispatch.routes, self._dispatch.receivers, self._mute.muters)
        dispatch.ingest(live, self._clock.now_ms())
        groups = dispatch.groups()
        for group in groups:
            # The owner's groups are not here, but its alerts are: a name that every alert of the
            # group shows and that the route names mutes the group.
            opts = group.route.opts
            named = (*opts.active_time_intervals, *opts.mute_time_intervals)
            shown = [set(a.muted_by) for a in group.alerts.values()]
            group.muted_by = tuple(n for n in dict.fromkeys(named) if all(n in s for s in shown))
        return groups

    def receiver_name(self, receiver: str) -> str:
        return self._dispatch.receivers.name(receiver)

    # --- writing ---------------------------------------------------------------------------

    async def post(self, posted: Iterable[PostedAlert]) -> list[str]:
        """Alerts from outside (Prometheus, amtool): the same labels update the same alert.

        Returns once they are committed: a 200 to Prometheus means the alerts are durable. Posts
        that arrive together are applied and committed together, in the next step.
        """
        if self._cluster is not None:
            return await self._post_to_inbox(list(posted), self._cluster)
        done: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._inbox.append((list(posted), done))
        if self._task is None:
            await self.tick(self._clock.now_ms())
        else:
            self.wake()
        return await done

    async def _post_to_inbox(self, posted: list[PostedAlert], cluster: ClusterLink) -> list[str]:
        """Several replicas: stored in the inbox before the answer, applied by the pipeline's owner; the
        answer waits (bounded) until it is, so that this replica reads its own write."""
        now = self._clock.now_ms()
        current = self._current()
        room = self._max_alerts - len(current)
        taken: list[PostedAlert] = []
        fingerprints: list[str] = []
        for p in posted:
            fp = fingerprint(p.labels)
            if fp in current or fp in fingerprints or room > 0:
                if fp not in current and fp not in fingerprints:
                    room -= 1
                taken.append(p)
                fingerprints.append(fp)
        if taken:
            shares: dict[int, list[dict[str, object]]] = {}
            for p in taken:
                shares.setdefault(self.partition(p.labels), []).append(posted_to_json(p))
            ids = await cluster.add_to_inbox(
                InboxKind.POSTED, [(k, {"now": now, "alerts": a}) for k, a in sorted(shares.items())], now
            )
            self.wake()
            await cluster.wait_applied(ids, _answer_wait_s(cluster))
        refused = len(posted) - len(taken)
        if refused:
            raise ResourceExhausted(
                f"{refused} of {len(posted)} alerts refused: the server holds {self._max_alerts} "
                "alerts, the most it takes (limits.max_alerts); alerts it holds still update"
            )
        return fingerprints

    def _from_posted(self, p: PostedAlert, now: int) -> Alert:
        fp = fingerprint(p.labels)
        starts = p.starts_at if p.starts_at is not None else now
        ends = p.ends_at if p.ends_at is not None else now + self._resolve_timeout
        old = self._live.get(fp)
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
            muted_by=old.muted_by if old is not None else (),
            escalation_level=old.escalation_level if old is not None else 0,
        )

    async def apply_rule_alerts(self, changes: Sequence[tuple[str, Alert]]) -> None:
        """New versions of rule alerts, each with its rule group. Several replicas: stored in the inbox
        under the leases of the groups' partitions, so that a replica that lost a partition cannot
        change its alerts any more (the database refuses the write)."""
        if self._cluster is None:
            await self.apply(alert for _, alert in changes)
            return
        cluster = self._cluster
        groups = {group for group, _ in changes}
        held = {g for g in groups if cluster.rule_fence([g]) is not None}
        if held != groups:
            log.info(
                "rule alerts of %d groups whose partition is not this replica's dropped", len(groups - held)
            )
        fence = cluster.rule_fence(held)
        if not held or fence is None:
            return
        now = self._clock.now_ms()
        shares: dict[int, list[dict[str, object]]] = {}
        for group, a in changes:
            if group in held:
                shares.setdefault(self.partition(a.labels), []).append(alert_to_json(a))
        try:
            await cluster.add_to_inbox(
                InboxKind.RULE, [(k, {"alerts": a}) for k, a in sorted(shares.items())], now, fence
            )
        except LeaseLost as exc:
            log.warning("rule alerts dropped: %s", exc)
            return
        self.wake()

    async def apply(self, alerts: Iterable[Alert]) -> None:
        """New versions of alerts decided elsewhere (rule evaluation); pending ones are kept, not routed.

        In memory at once (GET /alerts shows them); committed with the next step.
        """
        async with self._lock:
            now = self._clock.now_ms()
            for alert in alerts:
                self._live.upsert(alert, now)
            self._dispatch.ingest(self._live, now)
        self.wake()

    async def acknowledge(self, fp: str, by: str, comment: str = "") -> Alert:
        """Stops the alert's escalation and tells its PagerDuty incidents; durable when it returns."""
        if self._cluster is not None:
            alert = ack.check_ackable(self._current(), fp, "acknowledged")
            now = self._clock.now_ms()
            await self._to_inbox_and_wait(
                InboxKind.ACK,
                self.partition(alert.labels),
                {"fingerprint": fp, "by": by, "comment": comment, "at": now},
                self._cluster,
            )
            return self.get(fp)
        async with self._lock:
            now = self._clock.now_ms()
            acked = self._acknowledge(fp, Ack(by=by, comment=comment, at=now))
            await self._commit_alone(now)
        self.wake()
        return acked

    def _acknowledge(self, fp: str, acked: Ack) -> Alert:
        """The acknowledgement in the live state (its caller commits it): the climb stops, PagerDuty
        incidents are told."""
        return ack.acknowledge(
            self._live,
            fp,
            acked,
            groups=self._dispatch.groups(),
            escalation=self._escalation.escalations.get(fp),
            receivers=self._dispatch.receivers,
        )

    async def unacknowledge(self, fp: str, by: str) -> Alert:
        """The escalation resumes where it stopped (at the next step)."""
        if self._cluster is not None:
            alert = ack.check_ackable(self._current(), fp, "unacknowledged")
            if alert.ack is None:
                return alert
            now = self._clock.now_ms()
            await self._to_inbox_and_wait(
                InboxKind.UNACK,
                self.partition(alert.labels),
                {"fingerprint": fp, "by": by, "at": now},
                self._cluster,
            )
            return self.get(fp)
        async with self._lock:
            now = self._clock.now_ms()
            unacked = ack.unacknowledge(self._live, fp, by, now)
            if unacked is None:
                return self.get(fp)
            await self._commit_alone(now)
        self.wake()
        return unacked

    async def _to_inbox_and_wait(
        self, kind: InboxKind, partition: int, payload: dict[str, object], cluster: ClusterLink
    ) -> None:
        ids = await cluster.add_to_inbox(kind, [(partition, payload)], self._clock.now_ms())
        self.wake()
        await cluster.wait_applied(ids, _answer_wait_s(cluster))

    async def _commit_alone(self, now: int) -> None:
        try:
            await self._commit(now)
        except BaseException:
            # Memory is ahead of the store now: the loop reloads the committed state first.
            self._stale = True
            self.wake()
            raise

    async def _prune(self, now: int) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        gone = await self._store.prune_history(now - self._history_retention)
        if gone:
            log.info("dropped %d history events older than the retention", gone)
        if 0 in self._partitions and self._cluster is not None:
            # One replica prunes the log: the owner of partition 0.
            await self._cluster.prune_watch_log(WATCH_LOG_KEEP)

    # --- the step --------------------------------------------------------------------------

    async def tick(self, now: int) -> int:
        """One step at `now` (tests drive this directly); returns when the next step is due."""
        async with self._lock:
            return await self._tick(now)

    async def _tick(self, now: int) -> int:
        inbox, self._inbox = self._inbox, []
        answers = [self._take_posted(posted, now) for posted, _ in inbox]
        try:
            consumed: list[int] = []
            if self._leading:
                items = (
                    await self._cluster.take_inbox(self._partitions, INBOX_BATCH)
                    if self._cluster is not None
                    else []
                )
                for item in items:
                    try:
                        self._apply_item(item, now)
                    except (KeyError, TypeError, ValueError):
                        # Written by this code, so never expected; one that cannot be read must not
                        # stop every step after it: it is logged and consumed.
                        log.exception(
                            "inbox item %d (%s) cannot be applied; dropped", item.id, item.kind.value
                        )
                consumed = [item.id for item in items]
                if items:
                    self._dispatch.ingest(self._live, now)
            for stage in self._stages:
                await stage.run(self._live, now)
            await self._commit(now, consumed)
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
        times = [now + MAX_SLEEP_MS]
        times.extend(t for stage in self._stages if (t := stage.next_wakeup(self._live, now)) is not None)
        return max(min(times), now)

    def _apply_item(self, item: InboxItem, now: int) -> None:
        """One inbox item, as the call that stored it would have applied it on this replica."""
        payload = item.payload
        if item.kind is InboxKind.POSTED:
            posted = [posted_from_json(p) for p in payload["alerts"]]
            self._take_posted(posted, int(payload["now"]))
            self._give_away([p.labels for p in posted])
        elif item.kind is InboxKind.RULE:
            alerts = [alert_from_json(doc) for doc in payload["alerts"]]
            for alert in alerts:
                self._live.upsert(alert, now)
            self._give_away([a.labels for a in alerts])
        else:
            fp, by = str(payload["fingerprint"]), str(payload["by"])
            try:
                if item.kind is InboxKind.ACK:
                    self._acknowledge(fp, Ack(by=by, comment=str(payload["comment"]), at=int(payload["at"])))
                else:
                    ack.unacknowledge(self._live, fp, by, now)
            except (NotFound, FailedPrecondition) as exc:
                # Checked where it was taken; the alert went or resolved since.
                log.info("acknowledgement of %s not applied: %s", fp, exc)

    def _take_posted(self, posted: list[PostedAlert], now: int) -> list[str]:
        """The fingerprints of the posted alerts taken: all but the new ones past limits.max_alerts."""
        taken = []
        for p in posted:
            alert = self._from_posted(p, now)
            if alert.fingerprint in self._live.by_fingerprint or len(self._live) < self._max_alerts:
                taken.append(self._live.upsert(alert, now))
        return taken

    async def _commit(self, now: int, consumed: Sequence[int] = ()) -> None:
        live = self._live
        deliveries, live.outbox = live.outbox, []
        for delivery, payload in deliveries:
            for fp in delivery.fingerprints:
                live.history.append(
                    history.notification(
                        fp, payload.receiver, delivery.id, now, payload.escalation_level or 0
                    )
                )
        escalated, gone = self._escalation.take_changes()
        # What was sent and when, in the same transaction as the outbox rows: a restart
        # neither loses a notification nor sends it twice.
        nflog = self._dispatch.dispatcher.nflog
        logged, forgotten = nflog.take_changes()
        step = StepRecord(
            alerts=[live.by_fingerprint[fp] for fp in sorted(live.dirty) if fp in live.by_fingerprint],
            removed_alerts=sorted(live.removed),
            outbox=deliveries,
            sent=[
                NotificationLogRow(
                    group, receiver, tuple(sorted(e.firing)), tuple(sorted(e.resolved)), e.sent_at
                )
                for (group, receiver), e in logged.items()
            ],
            forgotten=list(forgotten),
            # Several replicas: the log holds other partitions' entries as they were when it was read;
            # one of those forgotten here goes only if its owner has not logged it since.
            forgotten_sent_before=now - nflog.retention if self._cluster is not None else None,
            escalations=escalated,
            removed_escalations=gone,
            history=live.history,
            consumed=consumed,
        )
        if self._cluster is not None:
            step = self._fenced(step, live.events, now)
        live.history = []
        if step:
            await self._store.record_step(step)
            if deliveries and self.on_queued is not None:
                self.on_queued({delivery.channel_id for delivery, _ in deliveries})
        live.dirty.clear()
        live.removed.clear()
        events, live.events = live.events, []
        if self._cluster is None:
            self.hub.publish(events)
        elif step:
            # Every replica (this one too) hands the changes to its watchers from the watch log.
            self._cluster.published()
            if consumed:
                self._cluster.pulse_consumed()

    def _fenced(self, step: StepRecord, events: Sequence[tuple[EventType, Alert]], now: int) -> StepRecord:
        assert self._cluster is not None
        fence: Fence | None = self._cluster.pipeline_fence(self._partitions)
        if fence is None:
            raise LeaseLost(
                "this replica no longer holds the leases of its pipeline partitions; "
                "the step is not committed"
            )
        return dataclasses.replace(
            step, events=[(kind.value, alert) for kind, alert in events], fence=fence, at=now
        )


def alert_partition(labels: dict[str, str], partition_labels: frozenset[str] | None, count: int) -> int:
    """crc32 of the values of `partition_labels` (None: of every label) mod `count`."""
    names = sorted(labels) if partition_labels is None else sorted(partition_labels)
    key = "\x00".join(f"{n}\x01{labels.get(n, '')}" for n in names)
    return zlib.crc32(key.encode()) % count


def _grouped_by_all(routes: RouteNode) -> frozenset[str] | None:
    """The labels that every route of the tree groups by (None: every route groups by every label). Two
    alerts of one aggregation group share the values of these, so they hash to one partition; when no
    label is common to all routes, every alert is in one partition."""
    common: frozenset[str] | None = None
    for node in routes.walk():
        if node.opts.group_by_all:
            continue
        common = node.opts.group_by if common is None else common & node.opts.group_by
    return common


def _answer_wait_s(cluster: ClusterLink) -> float:
    """How long a call waits for the pipeline's owner to apply what it stored: past a takeover (the
    lease TTL and a round), after which it answers anyway, its write stored and applied later."""
    return cluster.ttl_ms * 2 / 1000 + 1
