"""The rule manager: every stored rule evaluated, periodically and when its inputs are written.

One GroupRunner per rule group, each on its own task. Alert changes go to the alert stage
(AlertPipeline.apply), which holds and persists them; on start the manager puts each alerting
rule's state back from the alerts the stage kept for its rule id, so a restart neither resets a
`for` clock nor notifies again. Rule health is written back to the store in batches.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from alerting_server.clock import Clock
from alerting_server.model import Alert, AlertState, Rule, RuleType
from alerting_server.model.rule import RuleHealth, RuleHealthRow, definition
from alerting_server.query.labels import METRIC_NAME, Labels, get
from alerting_server.query.storage import STALE_NAN
from alerting_server.query.tsdb import Sample
from alerting_server.rules import telemetry
from alerting_server.rules.alerting import AlertingRule, AlertInstanceState
from alerting_server.rules.group import DEFAULT_INTERVAL_MS, Appendable, Group
from alerting_server.rules.pacer import Pacer
from alerting_server.rules.reads import SeriesReaders
from alerting_server.rules.runner import Evaluated, GroupRunner, QuerySources
from alerting_server.rules.vector import QueryFunc
from alerting_server.tasks import cancel

log = logging.getLogger(__name__)

DEFAULT_MIN_INTERVAL_MS = 1000
DEFAULT_HEALTH_FLUSH_MS = 1000
HEALTH_REFRESH_MS = 5 * 60 * 1000
# The group name resolutions of alerts of deleted rules are fenced under (several replicas): the
# replica holding its partition resolves them.
ORPHANS = ""
_STATE_NAMES = {AlertState.PENDING: "pending", AlertState.FIRING: "firing", AlertState.RESOLVED: "inactive"}


class RuleStore(Protocol):
    async def all(self) -> list[Rule]: ...

    async def in_groups(self, groups: Iterable[str]) -> list[Rule]: ...

    async def set_health_many(self, rows: Iterable[RuleHealthRow]) -> None: ...


class AlertSink(Protocol):
    """The alert stage: takes new versions of rule alerts, and holds the ones it persisted."""

    async def apply_rule_alerts(self, changes: Sequence[tuple[str, Alert]]) -> None:
        """New versions of rule alerts, each with the name of its rule group."""
        ...

    def alerts(self) -> list[Alert]: ...

    def room(self) -> int:
        """How many more alerts it takes."""
        ...


def _same_source(before: Rule, after: Rule) -> bool:
    """Whether a rebuilt rule produces the same alerts, which it then keeps with their `for` clocks:
    annotations, `for` and keep_firing_for may change, what selects and labels the alerts may not. A
    recording rule always keeps its series, which its next evaluation marks stale when it no longer
    writes them."""
    if after.type is RuleType.RECORDING:
        return before.type is RuleType.RECORDING
    return (before.type, before.name, before.query, before.datasource, before.severity, before.labels) == (
        after.type,
        after.name,
        after.query,
        after.datasource,
        after.severity,
        after.labels,
    )


# A rule's health as its last evaluation left it: RuleHealthRow's fields after the rule's id, kept
# as a tuple (made for every rule at every evaluation, where a frozen dataclass costs a microsecond).
_LiveHealth = tuple[RuleHealth, int | None, str, int | None]


def _worth_storing(stored: RuleHealthRow | None, live: _LiveHealth) -> bool:
    """Health is stored when it changes, and otherwise now and then: every evaluation of every rule
    would be a steady stream of writes, and reads take the latest from the engine (status)."""
    health, last_evaluation, last_error, _ = live
    if stored is None or stored.health is not health or stored.last_error != last_error:
        return True
    return (last_evaluation or 0) - (stored.last_evaluation or 0) >= HEALTH_REFRESH_MS


def instance_state(alert: Alert) -> AlertInstanceState:
    """A persisted rule alert as the state its AlertingRule restores."""
    return AlertInstanceState(
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        state=_STATE_NAMES.get(alert.state, "inactive"),
        value=alert.value,
        active_at=alert.started_at,
        fired_at=alert.fired_at,
        resolved_at=alert.resolved_at,
        keep_firing_since=alert.keep_firing_since,
        updated_at=alert.updated_at,
    )


def resolved(alert: Alert, now: int) -> Alert:
    return dataclasses.replace(alert, state=AlertState.RESOLVED, resolved_at=now, updated_at=now)


class RuleManager:
    def __init__(
        self,
        rules: RuleStore,
        local_query: QueryFunc,
        sources: QuerySources,
        storage: Appendable,
        alerts: AlertSink,
        clock: Clock,
        *,
        min_interval_ms: int = DEFAULT_MIN_INTERVAL_MS,
        default_interval_ms: int = DEFAULT_INTERVAL_MS,
        health_flush_ms: int = DEFAULT_HEALTH_FLUSH_MS,
        external_labels: Mapping[str, str] | None = None,
        external_url: str = "",
        partition_of: Callable[[str], int] | None = None,
    ) -> None:
        self._rules = rules
        # Several replicas: a group is evaluated here only while its partition is one this replica
        # holds the lease of (own()); None: one process, every group is evaluated here.
        self._partition_of = partition_of
        self._owned: set[int] | None = None if partition_of is None else set()
        self._local_query = local_query
        self._sources = sources
        self._storage = storage
        self._alerts = alerts
        self._clock = clock
        self._min_interval = min_interval_ms
        self._default_interval = default_interval_ms
        self._health_flush = health_flush_ms
        self._external_labels = dict(external_labels or {})
        self._external_url = external_url
        self.runners: dict[str, GroupRunner] = {}
        self._definitions: dict[str, list[Rule]] = {}
        self._readers: dict[str, set[str]] = {}
        self._patterned: set[str] = set()
        # The groups' rules by what a written series must have for them to read it.
        self._series_readers = SeriesReaders({})
        # Health of the latest evaluation of each rule; what of it is to be stored; what was stored.
        self._live: dict[str, _LiveHealth] = {}
        self._health: dict[str, RuleHealthRow] = {}
        self._stored: dict[str, RuleHealthRow] = {}
        self._outbox: list[tuple[str, Alert]] = []
        # Hand-overs one after another: two at once could reach the alert stage out of order.
        self._handing_over = asyncio.Lock()
        self._running = False
        self._lock = asyncio.Lock()
        # One thread evaluates every embedded group, off the event loop (the store is thread-safe).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rule-eval")
        self._urgent_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rule-eval-triggered")
        self._flusher: asyncio.Task[None] | None = None
        self._pacer = Pacer()

    # --- lifecycle -------------------------------------------------------------------------

    async def load(self) -> None:
        """Builds the groups from the stored rules and restores their alert state; starts nothing."""
        persisted: dict[str, list[Alert]] = {}
        for alert in self._alerts.alerts():
            if alert.rule_id:
                persisted.setdefault(alert.rule_id, []).append(alert)
        stored = await self._rules.all()
        await self._sync(stored, persisted, initial=True)
        if self._owned is None:
            await self._resolve_orphans(persisted, stored)

    async def _resolve_orphans(self, persisted: Mapping[str, list[Alert]], stored: Iterable[Rule]) -> None:
        """Alerts of rules deleted while the server was down (or, with several replicas, while the
        partition was nobody's) resolve now. `stored` are the store's rules, read after those alerts:
        a rule this replica's groups do not have yet (created on another replica a moment ago) may
        have alerts already, and they are not its to resolve."""
        known = {r.id for r in stored}
        now = self._clock.now_ms()
        orphans = [
            (ORPHANS, resolved(a, now))
            for rule_id, alerts in persisted.items()
            if rule_id not in known
            for a in alerts
            if a.state in (AlertState.PENDING, AlertState.FIRING)
        ]
        if orphans:
            await self._alerts.apply_rule_alerts(orphans)

    def _ours(self, group: str) -> bool:
        return self._owned is None or (
            self._partition_of is not None and self._partition_of(group) in self._owned
        )

    async def own(self, partitions: Collection[int]) -> None:
        """Several replicas: the rule partitions this replica holds now. A group of a partition lost
        stops at once; a group of a partition gained starts from the alerts its rules left (their
        `for` clocks included), as after a restart, and evaluates now."""
        async with self._lock:
            before = self._owned or set()
            self._owned = set(partitions)
            persisted: dict[str, list[Alert]] = {}
            for alert in self._alerts.alerts():
                if alert.rule_id:
                    persisted.setdefault(alert.rule_id, []).append(alert)
            for name, runner in list(self.runners.items()):
                ours = self._ours(name)
                assert self._partition_of is not None
                was_ours = self._partition_of(name) in before
                if was_ours and not ours:
                    await runner.stop()
                elif ours and not was_ours:
                    await runner.stop()
                    fresh = await asyncio.to_thread(self._runner, name, runner.rules)
                    self._carry_over([fresh], [], persisted)
                    self.runners[name] = fresh
                    if self._running:
                        fresh.start()
                        fresh.request_full()
            self._index()
            orphans_ours = self._ours(ORPHANS)
        if orphans_ours:
            await self._resolve_orphans(persisted, await self._rules.all())

    async def start(self) -> None:
        await self.load()
        self._running = True
        for name, runner in self.runners.items():
            if self._ours(name):
                runner.start()
        self._flusher = asyncio.create_task(self._flush_loop(), name="rule-health")
        self._pacer.attach(asyncio.get_running_loop())

    async def stop(self) -> None:
        self._running = False
        for runner in self.runners.values():
            await runner.stop()
        self._pacer.detach()
        await cancel(self._flusher)
        self._flusher = None
        await self.flush()

    async def reload(self, groups: Collection[str] | None = None) -> None:
        """Re-reads the rules after an API change (of the named groups only, when given): changed groups
        are rebuilt and evaluated at once, a deleted rule's alerts resolve."""
        if groups is None:
            await self._sync(await self._rules.all(), {}, initial=False)
        else:
            await self._sync(await self._rules.in_groups(groups), {}, initial=False, scope=set(groups))

    # --- writes ----------------------------------------------------------------------------

    def written(self, names: Iterable[str], newest_ms: int, *, exclude: str | None = None) -> None:
        """Samples of these metric names were written, the newest at `newest_ms`: the groups reading
        them evaluate soon."""
        hit: dict[str, set[str]] = {}
        for name in names:
            for key in self._readers.get(name, ()):
                hit.setdefault(key, set()).add(name)
            for key in self._patterned:
                hit.setdefault(key, set()).add(name)
        for key, group_names in hit.items():
            runner = self.runners.get(key)
            if key != exclude and runner is not None and self._ours(key):
                runner.written(group_names, newest_ms)

    def written_series(self, series: Iterable[Labels], newest_ms: int) -> None:
        """Samples of these series were written, the newest at `newest_ms`: the rules a selector of
        which may take one of them evaluate soon, and only those (SeriesReaders)."""
        for key, positions in self._series_readers.hits(series).items():
            runner = self.runners.get(key)
            if runner is not None and self._ours(key):
                runner.written_to(positions, newest_ms)

    # --- evaluation results ----------------------------------------------------------------

    async def evaluate(self, group: str, ts: int) -> Evaluated:
        """A full evaluation of `group` at `ts`, its alerts handed on (tests drive this directly)."""
        out = await self.runners[group].evaluate(ts, None)
        await self.deliver()
        return out

    def _on_evaluated(self, runner: GroupRunner, out: Evaluated) -> None:
        telemetry.EVALUATIONS.labels(runner.name).inc(len(out.positions))
        recorded: set[str] = set()
        failures = 0
        for i in out.positions:
            rule = runner.rules[i]
            status = runner.group.status[i]
            if status.health is RuleHealth.ERR:
                failures += 1
            elif rule.type is RuleType.RECORDING:
                recorded.add(rule.name)
            duration = status.last_evaluation_duration_s
            live = (
                status.health,
                status.last_evaluation,
                status.last_error,
                None if duration is None else round(duration * 1000),
            )
            self._live[rule.id] = live
            if _worth_storing(self._stored.get(rule.id), live):
                self._health[rule.id] = RuleHealthRow(rule.id, *live)
        if failures:
            telemetry.FAILURES.labels(runner.name).inc(failures)
        if out.result.changes:
            self._outbox.extend((runner.name, c.alert) for c in out.result.changes)
            if self._running:
                asyncio.get_running_loop().create_task(self._deliver_soon())
        if recorded:
            self.written(recorded, out.ts, exclude=runner.name)

    async def deliver(self) -> None:
        """Hands the alert changes gathered so far to the alert stage, in the order they happened;
        after a hand-over still under way, so that what was gathered before the call is there when it
        returns."""
        async with self._handing_over:
            changes, self._outbox = self._outbox, []
            if changes:
                try:
                    await self._alerts.apply_rule_alerts(changes)
                except Exception:
                    # Stored elsewhere (several replicas: the database) and that failed: kept, in
                    # order, for the next hand-over (the next evaluation or the flush loop), since an
                    # alert's change of state is handed over once.
                    self._outbox[:0] = changes
                    raise

    async def _deliver_soon(self) -> None:
        try:
            await self.deliver()
        except Exception as exc:  # kept; the flush loop tries again
            log.warning("handing rule alerts to the alert pipeline failed: %s; trying again", exc)

    def status(self, rule_id: str) -> RuleHealthRow | None:
        """The rule's health as of its latest evaluation (the store has it only when it changed)."""
        live = self._live.get(rule_id)
        return None if live is None else RuleHealthRow(rule_id, *live)

    async def flush(self) -> None:
        """Writes the rule health gathered since the last flush, in one transaction; when that fails, the
        rows are written with the next flush."""
        rows, self._health = self._health, {}
        if not rows:
            return
        try:
            await self._rules.set_health_many(rows.values())
        except BaseException:
            self._health = {**rows, **self._health}
            raise
        self._stored.update(rows)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._health_flush / 1000)
            try:
                await self.flush()
            except Exception:
                log.exception("writing rule health failed; retrying with the next batch")
            try:
                await self.deliver()
            except Exception as exc:  # kept and tried again at the next round
                log.warning("handing rule alerts to the alert pipeline failed: %s; trying again", exc)

    # --- building groups -------------------------------------------------------------------

    def _alert_room(self) -> int:
        # Changes handed over but not yet applied may each be a new alert; read from the evaluating thread.
        return max(self._alerts.room() - len(self._outbox), 0)

    def _group_interval(self, rules: Sequence[Rule]) -> int:
        for rule in rules:
            if rule.interval:
                return rule.interval
        return self._default_interval

    def _runner(self, name: str, rules: list[Rule]) -> GroupRunner:
        group = Group(
            name,
            rules,
            self._group_interval(rules),
            external_labels=self._external_labels,
            external_url=self._external_url,
            alert_room=self._alert_room,
        )
        return GroupRunner(
            group,
            rules,
            local_query=self._local_query,
            sources=self._sources,
            storage=self._storage,
            clock=self._clock,
            min_interval_ms=self._min_interval,
            on_evaluated=self._on_evaluated,
            executor=self._executor,
            urgent_executor=self._urgent_executor,
            pacer=self._pacer,
        )

    async def _sync(
        self,
        stored: list[Rule],
        persisted: Mapping[str, list[Alert]],
        *,
        initial: bool,
        scope: Collection[str] | None = None,
    ) -> None:
        """Rebuilds the groups whose rules changed; `stored` holds every rule, or (with `scope`) the rules
        of the groups named there, the others left as they are."""
        async with self._lock:
            wanted: dict[str, list[Rule]] = {}
            for rule in stored:
                wanted.setdefault(rule.group, []).append(rule)
            now = self._clock.now_ms()
            replaced: list[GroupRunner] = []
            for name in [n for n in self.runners if n not in wanted and (scope is None or n in scope)]:
                replaced.append(self.runners.pop(name))
                del self._definitions[name]
            built: list[GroupRunner] = []
            for name, rules in wanted.items():
                defined = [definition(r) for r in rules]
                if self._definitions.get(name) == defined:
                    continue
                old = self.runners.get(name)
                if old is not None:
                    replaced.append(old)
                # Building a group parses its queries and templates: off the event loop.
                self.runners[name] = runner = await asyncio.to_thread(self._runner, name, rules)
                self._definitions[name] = defined
                built.append(runner)
            # An evaluation still running in an old group ends before its state is read.
            for old in replaced:
                await old.stop()
            for runner in [*replaced, *built]:
                # A rebuilt rule's health starts over, as the store's does.
                for r in runner.rules:
                    self._live.pop(r.id, None)
                    self._stored.pop(r.id, None)
            adopted = self._carry_over(built, replaced, persisted)
            gone, stale = self._leftovers(replaced, adopted, now)
            for runner in built:
                if not self._ours(runner.name):
                    continue
                if self._running:
                    runner.start()
                if not initial:
                    runner.request_full()
            self._index()
            telemetry.RULES.set(sum(len(rules) for rules in self._definitions.values()))
        if stale:
            self._mark_stale(stale)
        if gone:
            await self._alerts.apply_rule_alerts(gone)

    @staticmethod
    def _carry_over(
        built: Sequence[GroupRunner], replaced: Sequence[GroupRunner], persisted: Mapping[str, list[Alert]]
    ) -> set[str]:
        """A rule keeps its alerts and its series across a rebuild, also into another group (as
        Prometheus' CopyState), and its alerts across a restart. Returns the ids of the rules kept.

        An alerting rule whose query or labels changed is another alert source: its alerts resolve, as
        a deleted rule's do, and the new definition starts its own."""
        previous = {
            rule.rule.id: (runner.group, i)
            for runner in replaced
            for i, rule in enumerate(runner.group.rules)
        }
        kept: set[str] = set()
        for runner in built:
            for i, rule in enumerate(runner.group.rules):
                found = previous.get(rule.rule.id)
                if found is not None and _same_source(found[0].rules[found[1]].rule, rule.rule):
                    runner.group.adopt(i, *found)
                    kept.add(rule.rule.id)
                elif isinstance(rule, AlertingRule) and rule.rule.id in persisted:
                    rule.restore_state([instance_state(a) for a in persisted[rule.rule.id]])
        return kept

    @staticmethod
    def _leftovers(
        replaced: Sequence[GroupRunner], kept: set[str], now: int
    ) -> tuple[list[tuple[str, Alert]], list[Sample]]:
        """What the rules that no longer exist leave behind: their alerts, resolved, and a stale marker
        for every series they wrote last, so that queries stop seeing them at once."""
        gone: list[tuple[str, Alert]] = []
        stale: list[Sample] = []
        for runner in replaced:
            ts = now if runner.last_ts is None else max(now, runner.last_ts + 1)
            for i, rule in enumerate(runner.group.rules):
                if rule.rule.id in kept:
                    continue
                if isinstance(rule, AlertingRule):
                    gone.extend((runner.name, resolved(a, now)) for a in rule.active_alerts())
                stale.extend(Sample(labels, ts, STALE_NAN) for labels in runner.group.previous_series(i))
        return gone, stale

    def _mark_stale(self, stale: Sequence[Sample]) -> None:
        self._storage.append(stale)
        self.written({get(s.labels, METRIC_NAME) for s in stale}, max(s.t_ms for s in stale))

    def _index(self) -> None:
        self._readers = {}
        self._patterned = set()
        self._series_readers = SeriesReaders({key: runner.reads for key, runner in self.runners.items()})
        for key, runner in self.runners.items():
            for name in runner.reads.metric_names:
                self._readers.setdefault(name, set()).add(key)
            if runner.reads.has_patterns:
                self._patterned.add(key)
