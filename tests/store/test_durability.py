from __future__ import annotations

import asyncio
import signal
import sys
import textwrap

from alerting_server.model import (
    Alert,
    AlertHistoryEvent,
    AlertState,
    Channel,
    ChannelType,
    Delivery,
    DeliveryStatus,
    EscalationLevel,
    EscalationPolicy,
    HistoryEventType,
    InhibitRule,
    Route,
    Rule,
    Silence,
)
from alerting_server.pagination import PageRequest
from alerting_server.store import Store

NOW = 1_700_000_000_000


async def test_everything_survives_close_and_reopen(sqlite_url: str) -> None:
    store = await Store.open(sqlite_url)
    await store.migrate()
    rule = await store.rules.create(Rule(name="high_cpu", query="cpu > 80", severity="warning"), NOW)
    channel = await store.channels.create(
        Channel(name="ops", type=ChannelType.WEBHOOK, config={"url": "x"}), NOW
    )
    silence = await store.silences.create(Silence(('a="b"',), NOW, NOW + 1000, "alice", "why"), NOW)
    inhibit = await store.inhibit_rules.create(InhibitRule(('s="c"',), ('s="w"',), ("host",)), NOW)
    route = await store.routing.put(Route(receiver="ops", routes=(Route(matchers=('s="c"',)),)), NOW)
    policy = await store.escalation_policies.create(
        EscalationPolicy(name="infra", levels=(EscalationLevel(0, ("ops",)),)), NOW
    )
    alert = Alert("fp", {"alertname": "high_cpu"}, AlertState.FIRING, started_at=NOW, fired_at=NOW)
    await store.alerts.upsert_many([alert])
    events = await store.history.append([AlertHistoryEvent("fp", HistoryEventType.STATE_CHANGE, NOW)])
    delivery = await store.deliveries.add(
        Delivery("", channel.id, DeliveryStatus.PENDING, fingerprints=("fp",)), {}
    )
    await store.close()

    reopened = await Store.open(sqlite_url)
    try:
        await reopened.migrate()
        assert await reopened.rules.all() == [rule]
        assert await reopened.channels.all() == [channel]
        assert await reopened.silences.all() == [silence]
        assert await reopened.inhibit_rules.all() == [inhibit]
        assert await reopened.routing.get() == route
        assert await reopened.escalation_policies.all() == [policy]
        assert await reopened.alerts.all() == [alert]
        assert (await reopened.history.list("fp", PageRequest())).items == events
        assert (await reopened.deliveries.list(PageRequest())).items == [delivery]
    finally:
        await reopened.close()


_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from alerting_server.model import Channel, ChannelType
    from alerting_server.store import Store

    async def main() -> None:
        store = await Store.open(sys.argv[1])
        await store.migrate()
        for i in range(20):
            await store.channels.create(Channel(name=f"c{i}", type=ChannelType.SLACK), i)
        print("committed", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def test_committed_writes_survive_sigkill(sqlite_url: str) -> None:
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _WRITER, sqlite_url, stdout=asyncio.subprocess.PIPE
    )
    assert writer.stdout is not None
    try:
        line = await asyncio.wait_for(writer.stdout.readline(), timeout=60)
        assert line == b"committed\n"
    finally:
        writer.send_signal(signal.SIGKILL)
        assert await writer.wait() == -signal.SIGKILL

    store = await Store.open(sqlite_url)
    try:
        await store.migrate()
        assert [channel.name for channel in await store.channels.all()] == [f"c{i}" for i in range(20)]
    finally:
        await store.close()


async def test_concurrent_writers_do_not_fail_with_locked_database(store: Store) -> None:
    async def create_and_rename(i: int) -> None:
        created = await store.channels.create(Channel(name=f"c{i}", type=ChannelType.SLACK), NOW)
        await store.channels.update(created.id, Channel(name=f"renamed{i}", type=ChannelType.SLACK), NOW + 1)

    await asyncio.gather(*(create_and_rename(i) for i in range(20)))
    assert sorted(channel.name for channel in await store.channels.all()) == sorted(
        f"renamed{i}" for i in range(20)
    )
