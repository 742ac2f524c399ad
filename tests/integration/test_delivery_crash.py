"""SIGKILL with notifications in flight: after a restart every one is delivered, and a duplicate
only ever repeats the idempotency key of the notification it duplicates."""

from __future__ import annotations

from collections import defaultdict

import httpx

from tests.integration.server import ServerProcess
from tests.integration.test_delivery import deliveries, eventually, hook_channel, post_alerts
from tests.notify.receiver import Receiver, Reply

GROUPS = 20


async def test_sigkill_with_rows_in_flight_loses_nothing(server: ServerProcess) -> None:
    receiver = await Receiver(Reply(hang=True)).start()  # Every send is in flight when the server dies.
    try:
        await crash_and_restart(server, receiver)
    finally:
        await receiver.close()


async def crash_and_restart(server: ServerProcess, receiver: Receiver) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:
        await hook_channel(api, receiver.url("/hook"))
        await post_alerts(api, *({"alertname": f"Crash{i}"} for i in range(GROUPS)))

        async def queued() -> bool:
            return len(await deliveries(api, page_size="100")) == GROUPS and len(receiver.requests) >= 1

        await eventually(queued, 15, "the groups to be queued and sending")
    server.kill()
    receiver.default = Reply(200)
    server.start()
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as api:

        async def all_delivered() -> bool:
            found = await deliveries(api, page_size="100")
            return len(found) == GROUPS and all(d["status"] == "delivered" for d in found)

        await eventually(all_delivered, 15, "every notification to be delivered after the restart")
        stored = await deliveries(api, page_size="100")
    keys_by_group: dict[str, set[str]] = defaultdict(set)
    for request in receiver.requests:
        body = request.json()
        assert isinstance(body, dict)
        keys_by_group[body["groupLabels"]["alertname"]].add(request.headers["idempotency-key"])
    assert sorted(keys_by_group) == sorted(f"Crash{i}" for i in range(GROUPS))
    assert all(len(keys) == 1 for keys in keys_by_group.values())
    assert {k for keys in keys_by_group.values() for k in keys} == {d["idempotency_key"] for d in stored}
