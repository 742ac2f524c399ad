from __future__ import annotations

import hashlib
import hmac

import httpx

from alerting_server.notify.integrations.webhook import WebhookConfig
from alerting_server.notify.integrations.webhook.notifier import WebhookNotifier, webhook_payload
from tests.notify.alerts import high_cpu_message
from tests.notify.conftest import FixedClock
from tests.notify.receiver import Receiver, Reply

NOW = 1_700_000_000_000

# What Alertmanager's webhook integration posts for the same group.
GOLDEN_V4 = {
    "receiver": "ops",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighCPU", "instance": "a", "severity": "critical"},
            "annotations": {"summary": "CPU high"},
            "startsAt": "2023-11-14T22:13:20Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prom.example/graph?g0.expr=HighCPU",
            "fingerprint": "fp-HighCPU-a",
        },
        {
            "status": "firing",
            "labels": {"alertname": "HighCPU", "instance": "b", "severity": "critical"},
            "annotations": {"summary": "CPU high on b"},
            "startsAt": "2023-11-14T22:13:20Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prom.example/graph?g0.expr=HighCPU",
            "fingerprint": "fp-HighCPU-b",
        },
        {
            "status": "resolved",
            "labels": {"alertname": "HighCPU", "instance": "c", "severity": "critical"},
            "annotations": {},
            "startsAt": "2023-11-14T22:13:20Z",
            "endsAt": "2023-11-14T22:15:20.5Z",
            "generatorURL": "",
            "fingerprint": "fp-HighCPU-c",
        },
    ],
    "groupLabels": {"alertname": "HighCPU"},
    "commonLabels": {"alertname": "HighCPU", "severity": "critical"},
    "commonAnnotations": {},
    "externalURL": "http://alerting.example",
    "version": "4",
    "groupKey": '{}:{alertname="HighCPU"}',
    "truncatedAlerts": 0,
}


def notifier(client: httpx.AsyncClient, url: str, **kwargs: object) -> WebhookNotifier:
    config = WebhookConfig(url=url, **kwargs)  # type: ignore[arg-type]
    return WebhookNotifier(client=client, config=config, clock=FixedClock(NOW))


async def test_posts_alertmanager_v4_json(receiver: Receiver, client: httpx.AsyncClient) -> None:
    result = await notifier(client, receiver.url("/hook")).notify(high_cpu_message(), idempotency_key="k1")
    assert result.ok
    [req] = receiver.requests
    assert req.method == "POST"
    assert req.path == "/hook"
    assert req.headers["content-type"] == "application/json"
    assert req.headers["idempotency-key"] == "k1"
    assert "x-alerting-signature" not in req.headers
    assert req.json() == GOLDEN_V4
    assert list(req.json()) == list(GOLDEN_V4)  # type: ignore[call-overload]
    assert webhook_payload(high_cpu_message()) == GOLDEN_V4


async def test_custom_headers_and_verifiable_signature(receiver: Receiver, client: httpx.AsyncClient) -> None:
    n = notifier(
        client, receiver.url(), headers={"Authorization": "Bearer t", "X-Team": "db"}, hmac_secret="s3"
    )
    await n.notify(high_cpu_message(), idempotency_key="k2")
    [req] = receiver.requests
    assert req.headers["authorization"] == "Bearer t"
    assert req.headers["x-team"] == "db"
    expected = hmac.new(b"s3", req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-alerting-signature"] == f"sha256={expected}"


async def test_idempotency_key_is_the_one_given_on_each_retry(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.answer(Reply(503))
    n = notifier(client, receiver.url())
    first = await n.notify(high_cpu_message(), idempotency_key="same")
    second = await n.notify(high_cpu_message(), idempotency_key="same")
    assert (first.ok, first.retryable, second.ok) == (False, True, True)
    assert [r.headers["idempotency-key"] for r in receiver.requests] == ["same", "same"]
    assert receiver.requests[0].body == receiver.requests[1].body


async def test_max_alerts_truncates_and_counts(receiver: Receiver, client: httpx.AsyncClient) -> None:
    await notifier(client, receiver.url(), max_alerts=1).notify(high_cpu_message(), idempotency_key="k")
    body = receiver.requests[0].json()
    assert isinstance(body, dict)
    assert [a["fingerprint"] for a in body["alerts"]] == ["fp-HighCPU-a"]
    assert body["truncatedAlerts"] == 2
    assert body["commonAnnotations"] == {"summary": "CPU high"}
    assert body["status"] == "firing"


async def test_4xx_is_permanent_with_the_receivers_reason(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.answer(Reply(400, b"missing field receiver"))
    result = await notifier(client, receiver.url()).notify(high_cpu_message(), idempotency_key="k")
    assert (result.ok, result.retryable, result.status_code) == (False, False, 400)
    assert result.reason == "HTTP 400: missing field receiver"


async def test_429_and_5xx_are_retried_with_retry_after(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.answer(
        Reply(429, headers={"Retry-After": "3"}),
        Reply(502, headers={"Retry-After": "Tue, 14 Nov 2023 22:13:30 GMT"}),
        Reply(408),
    )
    n = notifier(client, receiver.url())
    results = [await n.notify(high_cpu_message(), idempotency_key="k") for _ in range(3)]
    assert [(r.retryable, r.status_code, r.retry_after_ms) for r in results] == [
        (True, 429, 3_000),
        (True, 502, 10_000),
        (True, 408, None),
    ]


async def test_reason_never_shows_the_url_token_or_secrets(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    url = receiver.url("/hooks/tok-123?key=k-456")
    receiver.answer(Reply(403, b"bad key k-456 for /hooks/tok-123 (auth Bearer zz9, hmac hm4c)"))
    n = notifier(client, url, headers={"Authorization": "Bearer zz9"}, hmac_secret="hm4c")
    result = await n.notify(high_cpu_message(), idempotency_key="k")
    for secret in ("k-456", "tok-123", "zz9", "hm4c"):
        assert secret not in result.reason
    assert result.reason.startswith("HTTP 403: bad key <secret>")


async def test_receiver_down_is_retried(client: httpx.AsyncClient, closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/hook/secret-token"
    result = await notifier(client, url).notify(high_cpu_message(), idempotency_key="k")
    assert (result.ok, result.retryable, result.status_code) == (False, True, None)
    assert result.reason == "connection failed (ConnectError)"


async def test_hanging_receiver_times_out_and_is_retried(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    receiver.answer(Reply(hang=True))
    n = notifier(client, receiver.url(), timeout=httpx.Timeout(0.2))
    result = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (result.ok, result.retryable) == (False, True)
    assert result.reason == "timed out (ReadTimeout)"


async def test_any_2xx_is_success(receiver: Receiver, client: httpx.AsyncClient) -> None:
    receiver.answer(Reply(204))
    result = await notifier(client, receiver.url()).notify(high_cpu_message(), idempotency_key="k")
    assert result.ok
    assert not result.reason
