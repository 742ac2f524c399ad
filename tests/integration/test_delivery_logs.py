"""The server's log, even at debug level, never shows what the API redacts; failed deliveries are warnings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.server import ServerProcess
from tests.integration.test_delivery import deliveries, eventually, post_alerts
from tests.notify.receiver import Receiver, Reply

PASSWORD = "pw-d2f1c0ffee"
PATH_TOKEN = "T0KEN-in-the-path-9a7b"
QUERY_TOKEN = "q-token-5e6f7a8b"
HEADER_TOKEN = "hdr-token-1c2d3e4f"
SECRETS = (PASSWORD, PATH_TOKEN, QUERY_TOKEN, HEADER_TOKEN)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--log-level", "debug"]
    )
    proc.start()
    yield proc
    proc.kill()


def secret_url(receiver: Receiver, path: str) -> str:
    return f"http://ops:{PASSWORD}@127.0.0.1:{receiver.port}/{path}/{PATH_TOKEN}?token={QUERY_TOKEN}"


async def test_no_secret_reaches_the_log_and_failures_are_warnings(
    api: httpx.AsyncClient, server: ServerProcess
) -> None:
    good = await Receiver().start()
    bad = await Receiver().start()
    # A receiver that echoes the URL it was called on in its error, as some do.
    echo = f"no such hook: {secret_url(bad, 'bad-hook')}".encode()
    bad.answer(Reply(503, echo))
    bad.default = Reply(400, echo)
    try:
        channels = {}
        for name, receiver in (("good-hook", good), ("bad-hook", bad)):
            config = {"url": secret_url(receiver, name), "headers": {"X-Token": HEADER_TOKEN}}
            r = await api.post("/channels", json={"name": name, "type": "webhook", "config": config})
            assert r.status_code == 201, r.text
            assert PASSWORD not in r.text
            assert PATH_TOKEN not in r.text
            channels[name] = r.json()["id"]
        routing = {
            "receiver": "good-hook",
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": "1m",
            "routes": [{"matchers": ['alertname="Bad"'], "receiver": "bad-hook", "continue": True}],
        }
        assert (await api.put("/routing", json=routing)).status_code == 200
        await post_alerts(api, {"alertname": "Good"}, {"alertname": "Bad"})

        async def settled() -> bool:
            found = sorted(d["status"] for d in await deliveries(api))
            return found == ["delivered", "failed"]

        await eventually(settled, 15, "one delivery delivered and one failed")
        assert good.requests[0].headers["authorization"].startswith("Basic ")
        assert good.requests[0].path == f"/good-hook/{PATH_TOKEN}?token={QUERY_TOKEN}"
        # A test notification goes through the same sender, and so the same log lines.
        assert (await api.post(f"/channels/{channels['good-hook']}/test")).status_code == 200
    finally:
        await good.close()
        await bad.close()
    server.terminate()
    log = "".join(server.output)
    assert " DEBUG " in log  # The server did log at debug level: the check below means something.
    for secret in SECRETS:
        assert secret not in log, f"{secret!r} leaked into the log:\n{log}"
    retried, failed = [line for line in log.splitlines() if "bad-hook" in line]
    for line in (retried, failed):
        assert re.search(r" WARNING alerting_server\.notify\.\S+: ", line), line
        assert channels["bad-hook"] in line
        assert "<secret>" in line
    assert "HTTP 503" in retried
    assert "retrying" in retried
    assert "HTTP 400" in failed
    assert "failed" in failed
