"""The delivery service: claims due outbox rows and hands them to per-channel workers.

One claimer loop leases rows in batches (never more than each channel's queue has room for, so a
backlog stays in the outbox) and renews the leases it holds; a lease that runs out, because the
process died, makes the row due again: at-least-once. The alert pipeline may call wake() after
it commits new rows; without that, short polling bounds the delay.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import httpx

from alerting_server.clock import Clock
from alerting_server.errors import Unavailable
from alerting_server.model import Channel, ChannelType, Delivery, DeliveryStatus
from alerting_server.model.outbox import Claimed, Outcome
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.factory import notifier_for
from alerting_server.notify.http import HTTPClients
from alerting_server.notify.integrations import DEFAULT_LIMITS
from alerting_server.notify.limits import ChannelLimits
from alerting_server.notify.notifier import Notifier
from alerting_server.notify.outcome import RetryPolicy
from alerting_server.notify.render import synthetic_payload
from alerting_server.notify.sender import Sender
from alerting_server.notify.worker import ChannelWorker
from alerting_server.outbound import GuardedTransport, OutboundPolicy
from alerting_server.store import Store
from alerting_server.tasks import cancel, wait_set

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryOptions:
    external_url: str = ""
    limits: Mapping[ChannelType, ChannelLimits] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    # The alert pipeline wakes the service when it queues rows; the poll finds retries that came due
    # (and rows other replicas queued) without holding SQLite's write lock ten times a second.
    poll_ms: int = 1000
    lease_ms: int = 60_000
    batch: int = 500
    # How stale the cached channel configs and template files may get before they are read again:
    # a safety net. A write in this process reads them again before its answer (reload_channels),
    # another replica's by NOTIFY (config_changed); on PostgreSQL the server makes this 2 s, since
    # a pooler may keep NOTIFY from arriving.
    channels_refresh_ms: int = 60_000
    # Where channels may deliver; applies to the service's own HTTP client and to SMTP.
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)


class DeliveryService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        options: DeliveryOptions | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        tls_context: ssl.SSLContext | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._clock = clock
        self.options = options or DeliveryOptions()
        self._own_client = http_client is None
        self._client = http_client or httpx.AsyncClient(
            transport=GuardedTransport(
                self.options.outbound,
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            )
        )
        self._tls = tls_context
        self._http_clients = HTTPClients(self.options.outbound)
        self.token = uuid.uuid4().hex
        self._sender = Sender(
            store.deliveries, clock, self.token, self.options.external_url, self.options.policy, rand
        )
        self._channels: dict[str, Channel] = {}
        # The notification template files as last read, and the set built from them.
        self._template_files: tuple[tuple[str, str], ...] = ()
        self._templates = TemplateSet()
        self._channels_read_at: int | None = None
        self._refresh_lock = asyncio.Lock()
        self._workers: dict[str, ChannelWorker] = {}
        # Deleted channels whose workers still send what they hold.
        self._draining: set[str] = set()
        self._held: set[str] = set()
        self._renewed_at = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running = False

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        if self._store.engine.dialect.name == "sqlite":
            # One process owns a SQLite database: any lease left is a crashed predecessor's.
            released = await self._store.deliveries.release_all()
            if released:
                log.info("%d notifications left in flight by the last run are due again", released)
        self._running = True
        self._task = asyncio.create_task(self._run(), name="delivery-claimer")

    async def stop(self) -> None:
        """Stops claiming and sending; rows queued or in flight are released for the next run."""
        self._running = False
        await cancel(self._task)
        self._task = None
        for worker in self._workers.values():
            await worker.stop()
        self._workers.clear()
        held, self._held = sorted(self._held), set()
        try:
            await self._store.deliveries.release(held, token=self.token)
        except Exception:
            log.exception(
                "could not release %d notifications; they are due again when their lease ends", len(held)
            )
        if self._own_client:
            await self._client.aclose()
        await self._http_clients.aclose()

    def wake(self, channel_ids: Collection[str] | None = None) -> None:
        """New rows were committed: claim now rather than at the next poll. Given the channels of
        the rows, only when one of them is not known yet or its worker has room for half of its
        queue (refill_at): a worker with less wakes us itself when its room is back to half, and
        the new rows would be sent after what it holds anyway. Claiming at every step of the
        pipeline topped up a rate-limited channel a row or two at a time, each claim reading the
        whole backlog."""
        if channel_ids is not None and all(self._tops_itself_up(channel_id) for channel_id in channel_ids):
            return
        self._wake.set()

    def _tops_itself_up(self, channel_id: str) -> bool:
        worker = self._workers.get(channel_id)
        return worker is not None and worker.room() < worker.refill_at

    async def reload_channels(self) -> None:
        """A channel or a template file was written by this process: they are read again now, so that
        what is sent after the write's answer goes where, and as, the write says."""
        if self._running:
            await self._refresh_channels(self._clock.now_ms())
        else:
            self._channels_read_at = None

    def config_changed(self, table: str) -> None:
        """Another replica changed `table` ("": any table may have changed, after a reconnect): the
        channels and the template files are read again now, not when the cached ones grow stale."""
        if table in ("", "channels", "notification_templates"):
            self._channels_read_at = None
            self._wake.set()

    # --- claiming --------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            claimed = 0
            try:
                claimed = await self.claim_once(self._clock.now_ms())
            except Unavailable as exc:
                log.warning("claiming notifications failed: %s; trying again in 1s", exc)
                await asyncio.sleep(1)
            except Exception:
                log.exception("claiming notifications failed; trying again in 1s")
                await asyncio.sleep(1)
            if claimed >= self.options.batch:
                # The batch was full, so more may be due: claim again, after the workers had a turn.
                # Fewer means every channel got what was due or what it had room for; a channel's
                # worker wakes us when it is half empty (and new rows do), not every free slot:
                # chasing each slot re-read the whole backlog dozens of times a second.
                await asyncio.sleep(0)
                continue
            await wait_set(self._wake, self.options.poll_ms / 1000)

    async def claim_once(self, now: int) -> int:
        """One pass: renew leases when due, claim what there is room for, hand it out. The count claimed."""
        opts = self.options
        if self._channels_read_at is None or now - self._channels_read_at >= opts.channels_refresh_ms:
            await self._refresh_channels(now)
        if self._held and now - self._renewed_at >= opts.lease_ms // 3:
            await self._store.deliveries.extend(
                sorted(self._held), token=self.token, lease_until=now + opts.lease_ms
            )
            self._renewed_at = now
        room = {channel_id: worker.room() for channel_id, worker in self._workers.items()}
        # A row of a channel we do not know yet (just created) is taken one at a time: it makes
        # us read the channels, and a row of a deleted channel fails.
        rows = await self._store.deliveries.claim(
            now,
            token=self.token,
            lease_until=now + opts.lease_ms,
            limit=opts.batch,
            room=room,
            default_room=1,
        )
        if not self._held:
            self._renewed_at = now
        for row in rows:
            self._held.add(row.delivery.id)
            await self._dispatch(row, now)
        return len(rows)

    def _leased(self) -> bool:
        """Whether the leases of the rows held were renewed within the lease time (to send them)."""
        return self._clock.now_ms() - self._renewed_at < self.options.lease_ms

    async def _dispatch(self, row: Claimed, now: int) -> None:
        channel_id = row.delivery.channel_id
        worker = self._workers.get(channel_id)
        if worker is None:
            await self._refresh_channels(now)
            worker = self._workers.get(channel_id)
        if worker is None:
            outcome = Outcome(
                DeliveryStatus.FAILED,
                row.delivery.attempts,
                last_error=f"channel {channel_id} no longer exists",
            )
            await self._store.deliveries.finish(
                row.delivery.id, token=self.token, attempt=None, outcome=outcome
            )
            self._held.discard(row.delivery.id)
            return
        worker.offer(row)

    async def _refresh_channels(self, now: int) -> None:
        # One at a time: a claim and a configuration write may both read them, and a read begun
        # before a write but applied after the write's own would put the old channels back.
        async with self._refresh_lock:
            await self._read_channels(now)

    async def _read_channels(self, now: int) -> None:
        channels = {c.id: c for c in await self._store.channels.all()}
        files = tuple((f.name, f.text) for f in await self._store.notification_templates.list())
        templates_changed = files != self._template_files
        if templates_changed:
            self._template_files = files
            self._templates = TemplateSet(files)
        for channel_id, channel in channels.items():
            worker = self._workers.get(channel_id)
            if worker is None:
                self._add_worker(channel)
            # Compared whole: two writes within one millisecond leave updated_at as it was.
            # Every channel's templates may call the files.
            elif self._channels[channel_id] != channel or templates_changed:
                worker.reconfigure(channel, self._notifier(channel))
        for channel_id in set(self._workers) - set(channels):
            worker = self._workers[channel_id]
            if worker.room() < worker.capacity:
                # Rows it still holds were claimed while the channel existed: let them go out.
                if channel_id not in self._draining:
                    self._draining.add(channel_id)
                    log.info("channel %s deleted; its queued notifications are still sent", channel_id)
                continue
            # Nothing left to send: its rows claimed from now on fail (_dispatch).
            await worker.stop()
            del self._workers[channel_id]
            self._channels.pop(channel_id, None)
            self._draining.discard(channel_id)
        self._channels.update(channels)
        self._channels_read_at = now

    def _add_worker(self, channel: Channel) -> ChannelWorker:
        worker = ChannelWorker(
            channel,
            self._notifier(channel),
            self.options.limits[channel.type],
            self._sender,
            self._clock,
            self._done,
            self._leased,
        )
        if self._running:
            worker.start()
        self._workers[channel.id] = worker
        return worker

    def _notifier(self, channel: Channel) -> Notifier:
        client = self._http_clients.client_for(channel.config, self._client)
        return notifier_for(
            channel,
            client,
            clock=self._clock,
            tls_context=self._tls,
            outbound=self.options.outbound,
            templates=self._templates,
        )

    def _done(self, worker: ChannelWorker, delivery_id: str) -> None:
        self._held.discard(delivery_id)
        if worker.room() == worker.refill_at:
            self.wake()  # Half empty: top it up now rather than at the next poll.

    # --- test notifications ----------------------------------------------------------------

    async def test(self, channel_id: str) -> Delivery:
        """Sends a synthetic firing alert through the channel now, as any notification is sent;
        the delivery after that attempt (retries, if any, follow as for any notification)."""
        channel = await self._store.channels.get(channel_id)
        now = self._clock.now_ms()
        payload = synthetic_payload(channel.name, now)
        delivery = Delivery(
            id="",
            channel_id=channel.id,
            status=DeliveryStatus.PENDING,
            group_key=payload.group_key,
            fingerprints=tuple(a.fingerprint for a in payload.firing),
            idempotency_key=uuid.uuid4().hex,
            created_at=now,
            updated_at=now,
            next_attempt_at=now,
        )
        claimed = await self._store.deliveries.insert_claimed(
            delivery, payload.to_data(), token=self.token, lease_until=now + self.options.lease_ms
        )
        await self._sender.send(channel, self._notifier(channel), claimed)
        return await self._store.deliveries.get(claimed.delivery.id)
