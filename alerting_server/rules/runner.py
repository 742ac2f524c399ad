"""One rule group on its own task: periodic evaluations at its aligned slots, and extra ones on writes.

The periodic evaluation runs at Prometheus' slot timestamps (Group.eval_timestamp); when an
evaluation overran and slots went by, they count as missed and the latest slot is evaluated,
as Prometheus does. A write of series the group's rules may read asks for an extra evaluation of
those rules, at the current time. When the group has room it runs at once: detection does
not wait for `min_interval`. Under load it is throttled to one per `min_interval`, writes that come
in the meantime coalesced into that one: load is writes that came while an evaluation of the group
ran (however many, they make one follow-up), or extra evaluations that took more than their share
of the time, kept in a token bucket of evaluation time (BUDGET_SHARE of the wall time, up to
BUDGET_SHARE of `min_interval` saved up): one that takes long, as on a busy engine where it queues
behind others, spends it, and the next waits until it is back, never longer than `min_interval`.

An embedded group is evaluated on the event loop in slices, yielding between them, so that a
large group does not hold up the other groups and the API for its whole duration. A group with
a remote datasource is evaluated in a worker thread, its queries and writes handed back to the
loop, so a slow remote source delays only its own group.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Protocol

from alerting_server.clock import Clock
from alerting_server.model import Rule, RuleType
from alerting_server.model.rule import DEFAULT_DATASOURCE, RuleHealth
from alerting_server.query.analysis import analysed
from alerting_server.query.result import Result
from alerting_server.query.tsdb import Sample, WriteResult
from alerting_server.rules import telemetry
from alerting_server.rules.alerting import AlertingRule
from alerting_server.rules.group import Appendable, Group, GroupEval
from alerting_server.rules.pacer import Pacer
from alerting_server.rules.reads import GroupReads
from alerting_server.rules.vector import QueryFunc, VectorSample, vector_of
from alerting_server.tasks import cancel, wait_set

EMBEDDED_NAMES = ("", DEFAULT_DATASOURCE)
# A group task that died is restarted after this delay, doubled at each death in a row, up to the
# maximum; a task that ran for the maximum since its restart starts over at the first delay.
RESTART_DELAY_S = 1.0
MAX_RESTART_DELAY_S = 60.0
# The share of a group's time its evaluations on writes may take before they wait.
BUDGET_SHARE = 0.1

log = logging.getLogger(__name__)


class QuerySources(Protocol):
    """Datasources: the embedded engine and the named remote ones."""

    async def instant(self, name: str, query: str, t_ms: int) -> Result: ...


@dataclass
class Evaluated:
    """What one evaluation did: the rule positions it ran and the group's result."""

    ts: int
    positions: Sequence[int]
    result: GroupEval = field(default_factory=GroupEval)
    duration_s: float = 0.0


class GroupRunner:
    def __init__(
        self,
        group: Group,
        rules: Sequence[Rule],
        *,
        local_query: QueryFunc,
        sources: QuerySources,
        storage: Appendable,
        clock: Clock,
        min_interval_ms: int,
        on_evaluated: Callable[[GroupRunner, Evaluated], None],
        executor: Executor | None = None,
        urgent_executor: Executor | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.group = group
        # Embedded groups evaluate here, off the event loop, so that however many rules there are
        # the API keeps being served; the engine shares one thread between all its groups.
        self._executor = executor
        # Evaluations triggered by new samples get their own thread, so that detection does not
        # wait behind the periodic evaluation of large groups.
        self._urgent_executor = urgent_executor or executor
        # Periodic evaluations in the thread give way to a lagging event loop.
        self._pacer = pacer
        self._inflight: concurrent.futures.Future[GroupEval] | None = None
        self.rules = list(rules)
        self.reads = GroupReads(rules)
        self._local_query = local_query
        self._sources = sources
        self._storage = storage
        self._clock = clock
        self._min_interval = min_interval_ms
        self._on_evaluated = on_evaluated
        self._datasource_of: Mapping[str, str] = {r.query: r.datasource for r in rules}
        self.remote = any(r.datasource not in EMBEDDED_NAMES for r in rules)
        self._invariant = [
            r.type is RuleType.ALERTING
            and r.datasource in EMBEDDED_NAMES
            and (analysis := analysed(r.query)) is not None
            and analysis.time_invariant
            for r in rules
        ]
        # The rules (positions) whose inputs were written since their last evaluation: what the
        # next periodic evaluation cannot skip.
        self._touched: set[int] = set()
        # The newest timestamp of the samples written (ms): an evaluation at an earlier time does not
        # see them, so it leaves them touched.
        self._newest_written = -(1 << 62)
        self.skipped = 0
        self.last_ts: int | None = None
        self.next_slot = group.eval_timestamp(clock.now_ms()) + group.interval_ms
        # The rules written to since the last evaluation on writes: what the next one runs.
        self._written: set[int] = set()
        self._full_requested = False
        # When the last extra evaluation started, and how long it took (ms, by the clock's measure).
        self._last_extra: int | None = None
        # The token bucket of extra evaluations' time (ms), as of `_budget_at` (clock ms).
        self._budget_ms = self._budget_cap
        self._budget_at = 0
        # An evaluation is running; writes came in while one ran (the group is under load).
        self._evaluating = False
        self._written_busy = False
        self._wake = asyncio.Event()
        # One evaluation of the group at a time, whoever asks: two at once would each move the same
        # alerts on, in two threads.
        self._one_at_a_time = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.group.name

    # --- requests ------------------------------------------------------------------------

    def written(self, names: Iterable[str], newest_ms: int) -> None:
        """New samples of `names`, the newest at `newest_ms`: the rules reading them evaluate soon."""
        self.written_to(self.reads.affected(names), newest_ms)

    def written_to(self, positions: Iterable[int], newest_ms: int) -> None:
        """New samples, the newest at `newest_ms`, of series the rules at `positions` may read: they
        evaluate soon."""
        positions = set(positions)
        if not positions:
            return
        self._written |= positions
        self._touched |= positions
        self._newest_written = max(self._newest_written, newest_ms)
        if self._evaluating:
            self._written_busy = True
        self._wake.set()

    def request_full(self) -> None:
        """Evaluate every rule soon (the group's rules just changed)."""
        self._full_requested = True
        self._wake.set()

    # --- the schedule --------------------------------------------------------------------

    def _extra_due(self) -> int | None:
        if not self._written and not self._full_requested:
            return None
        if self._last_extra is None:
            return 0
        throttled = self._last_extra + self._min_interval
        if self._written_busy:
            # Writes came while an evaluation ran: one follow-up, at the min_interval pace.
            return throttled
        if self._budget_ms >= 0:
            return self._last_extra
        # Spent beyond the budget: it is back once refilled to nothing owed.
        return min(throttled, self._budget_at + math.ceil(-self._budget_ms / BUDGET_SHARE))

    @property
    def _budget_cap(self) -> float:
        return BUDGET_SHARE * self._min_interval

    def _spend(self, began: int, ended: int) -> None:
        refilled = self._budget_ms + max(began - self._budget_at, 0) * BUDGET_SHARE
        self._budget_ms = min(self._budget_cap, refilled) - max(ended - began, 0)
        self._budget_at = ended

    async def step(self, now: int) -> int:
        """Runs what is due at `now`; returns when the next thing is due (tests drive this directly)."""
        extra = self._extra_due()
        if now >= self.next_slot:
            ts = self.next_slot
            missed = (now - ts) // self.group.interval_ms
            if missed > 0:
                telemetry.MISSED.labels(self.name).inc(missed)
                ts += missed * self.group.interval_ms
            self.next_slot = ts + self.group.interval_ms
            # A full evaluation covers whatever was written before it started.
            self._written.clear()
            self._written_busy = False
            self._full_requested = False
            if self.last_ts is None or ts > self.last_ts:
                await self.evaluate(ts, self._periodic_positions(ts))
        elif extra is not None and now >= extra:
            self._last_extra = now
            self._written_busy = False
            written, self._written = self._written, set()
            full, self._full_requested = self._full_requested, False
            positions = None if full else self.reads.closure(written)
            ts = now if self.last_ts is None else max(now, self.last_ts + 1)
            # Every rule written to evaluates now, after the writes: for those writes the next
            # periodic evaluation has nothing to run again (writes from here on touch them anew),
            # unless a sample is ahead of this evaluation, which does not see it yet. Should the
            # evaluation fail, they are the periodic evaluation's again.
            evaluated = set(range(len(self.group.rules))) if positions is None else set(positions)
            covered = self._touched & evaluated if ts >= self._newest_written else set()
            self._touched -= covered
            if positions is None or positions:
                began = self._clock.now_ms()
                try:
                    await self.evaluate(ts, positions, urgent=True)
                except BaseException:
                    self._touched |= covered
                    raise
                self._spend(began, self._clock.now_ms())
                telemetry.TRIGGERED.labels(self.name).inc()
        extra = self._extra_due()
        return self.next_slot if extra is None else min(self.next_slot, extra)

    async def run(self) -> None:
        while True:
            self._wake.clear()
            due = await self.step(self._clock.now_ms())
            delay = max(due - self._clock.now_ms(), 0) / 1000
            if delay > 0:
                await wait_set(self._wake, delay)

    async def supervise(self) -> None:
        """Runs the group, restarting it with a log line and a growing delay whenever it dies."""
        delay = RESTART_DELAY_S
        while True:
            started = time.monotonic()
            try:
                await self.run()
            except Exception:
                if time.monotonic() - started >= MAX_RESTART_DELAY_S:
                    delay = RESTART_DELAY_S
                log.exception("rule group %r stopped on an error; restarting in %.0f s", self.name, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RESTART_DELAY_S)

    def start(self) -> None:
        self._task = asyncio.create_task(self.supervise(), name=f"rule-group:{self.name}")

    @property
    def running(self) -> bool:
        """Whether it evaluates on its own (start() was called, stop() not since)."""
        return self._task is not None

    async def stop(self) -> None:
        await cancel(self._task)
        self._task = None
        inflight, self._inflight = self._inflight, None
        if inflight is not None and not inflight.cancel():
            # An evaluation already running in the thread cannot be interrupted: let it end before
            # anyone reads or copies this group's state.
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(inflight)

    def _periodic_positions(self, ts: int) -> list[int] | None:
        """The rules a periodic evaluation at `ts` must run: a time-invariant rule that returned
        nothing, is healthy, and read no metric written since, would return nothing again and is
        skipped. Written samples ahead of `ts` keep their names touched for the next one."""
        touched = self._touched
        if ts >= self._newest_written:
            self._touched = set()
        skip = set()
        for i, rule in enumerate(self.group.rules):
            if (
                self._invariant[i]
                and isinstance(rule, AlertingRule)
                and not rule.has_alerts()
                and self.group.status[i].health is RuleHealth.OK
            ):
                skip.add(i)
        if not skip:
            return None
        must = {i for i in range(len(self.group.rules)) if i not in skip}
        must.update(touched)
        chosen = self.reads.closure(must)
        self.skipped += len(self.group.rules) - len(chosen)
        telemetry.SKIPPED.labels(self.name).inc(len(self.group.rules) - len(chosen))
        return chosen

    # --- evaluating ----------------------------------------------------------------------

    async def evaluate(
        self, ts: int, positions: Collection[int] | None, *, urgent: bool = False
    ) -> Evaluated:
        """Evaluates the rules at `positions` (all when None) at `ts`, in group order, after any
        evaluation of the group still running."""
        async with self._one_at_a_time:
            chosen = sorted(positions) if positions is not None else list(range(len(self.group.rules)))
            out = Evaluated(ts, chosen)
            started = time.perf_counter()
            self._evaluating = True
            try:
                job = self._start_eval(ts, chosen, urgent)
                try:
                    out.result = await asyncio.shield(job)
                except asyncio.CancelledError:
                    # Stopped (the group rebuilt, its partition given up) while the evaluation ran in
                    # its thread: the rules' alerts moved on there, so what changed is still handed
                    # on, or an alert it created would never reach the alert stage (the next
                    # evaluation, finding it already firing, reports no change).
                    if await self._finish_anyway(job, out):
                        self._evaluated(out, started)
                    raise
            finally:
                self._evaluating = False
            self._evaluated(out, started)
            return out

    def _start_eval(self, ts: int, chosen: list[int], urgent: bool) -> asyncio.Future[GroupEval]:
        if self.remote:
            return asyncio.ensure_future(self._eval_in_thread(ts, chosen))
        executor = self._urgent_executor if urgent else self._executor
        only = set(chosen)
        if executor is None:
            done: asyncio.Future[GroupEval] = asyncio.get_running_loop().create_future()
            try:
                done.set_result(self.group.eval(ts, self._local_query, self._storage, only))
            except Exception as exc:
                done.set_exception(exc)
            return done
        if urgent or self._pacer is None:
            self._inflight = executor.submit(self.group.eval, ts, self._local_query, self._storage, only)
        else:
            self._inflight = executor.submit(self._paced_eval, self._pacer, ts, only)
        return asyncio.wrap_future(self._inflight)

    async def _finish_anyway(self, job: asyncio.Future[GroupEval], out: Evaluated) -> bool:
        """After a cancellation: waits for an evaluation that already started, its result into `out`;
        False when it had not started yet (withdrawn then) or failed."""
        inflight = self._inflight
        if not self.remote and inflight is not None and inflight.cancel():
            return False
        try:
            out.result = await job
        except Exception:
            return False
        return True

    def _evaluated(self, out: Evaluated, started: float) -> None:
        out.duration_s = time.perf_counter() - started
        self.last_ts = out.ts if self.last_ts is None else max(self.last_ts, out.ts)
        telemetry.GROUP_DURATION.labels(self.name).observe(out.duration_s)
        self._on_evaluated(self, out)

    def _paced_eval(self, pacer: Pacer, ts: int, chosen: set[int]) -> GroupEval:
        pacer.step_aside()
        return self.group.eval(ts, self._local_query, self._storage, chosen)

    async def _eval_in_thread(self, ts: int, chosen: list[int]) -> GroupEval:
        loop = asyncio.get_running_loop()
        sources = self._sources
        local_query = self._local_query
        storage = self._storage

        async def on_loop_query(expr: str, t_ms: int) -> list[VectorSample]:
            name = self._datasource_of.get(expr, DEFAULT_DATASOURCE)
            if name in EMBEDDED_NAMES:
                return local_query(expr, t_ms)
            return vector_of(await sources.instant(name, expr, t_ms))

        async def on_loop_append(batch: Sequence[Sample]) -> WriteResult:
            return storage.append(batch)

        def query(expr: str, t_ms: int) -> list[VectorSample]:
            return asyncio.run_coroutine_threadsafe(on_loop_query(expr, t_ms), loop).result()

        class _LoopStorage:
            def append(self, batch: Sequence[Sample]) -> WriteResult:
                return asyncio.run_coroutine_threadsafe(on_loop_append(batch), loop).result()

        return await asyncio.to_thread(self.group.eval, ts, query, _LoopStorage(), set(chosen))
