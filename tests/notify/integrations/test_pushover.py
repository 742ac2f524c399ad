from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from alerting_server.notify.integrations.pushover import PushoverConfig, PushoverNotifier
from alerting_server.notify.message import build_message
from tests.notify.alerts import firing, high_cpu_message, resolved
from tests.notify.conftest import FixedClock
from tests.notify.receiver import Receiver, Reply

NOW = 1_700_000_000_000
TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
USER = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"


def notifier(client: httpx.AsyncClient, receiver: Receiver, **config: Any) -> PushoverNotifier:
    parsed = PushoverConfig.parse(
        {"token": TOKEN, "user_key": USER, "api_url": receiver.url("/1/messages.json"), **config}
    )
    return PushoverNotifier(client=client, config=parsed, clock=FixedClock(NOW))


def params(receiver: Receiver, i: int = 0) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(receiver.requests[i].path).query, keep_blank_values=True))


async def test_the_parameters_go_in_the_query_of_an_empty_post(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    assert (await notifier(client, receiver).notify(high_cpu_message(), idempotency_key="k")).ok
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path.startswith("/1/messages.json?expire=3600&message=")
    assert (request.headers["content-type"], request.body) == ("text/plain", b"")
    # Go's url.Values.Encode: keys sorted, spaces as '+'.
    query = urlsplit(request.path).query
    assert [k.split("=")[0] for k in query.split("&")] == [
        "expire",
        "message",
        "priority",
        "retry",
        "sound",
        "title",
        "token",
        "url",
        "url_title",
        "user",
    ]
    assert "title=%5BFIRING%3A2%5D+HighCPU+%28critical%29" in query
    sent = params(receiver)
    assert (sent["token"], sent["user"]) == (TOKEN, USER)
    # Emergency while firing, retried every minute for an hour: DefaultPushoverConfig.
    assert (sent["priority"], sent["retry"], sent["expire"]) == ("2", "60", "3600")
    assert sent["url"] == "http://alerting.example/#/alerts?receiver=ops"
    assert sent["message"].startswith("Alerts Firing:\nLabels:\n")
    assert (sent["sound"], sent["url_title"]) == ("", "")


async def test_a_resolved_group_is_sent_at_normal_priority(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    message = build_message(
        receiver="ops",
        group_key="g",
        group_labels={"alertname": "HighCPU"},
        firing=[],
        resolved=[resolved("HighCPU", "a")],
    )
    assert (await notifier(client, receiver).notify(message, idempotency_key="k")).ok
    sent = params(receiver)
    assert sent["priority"] == "0"
    assert sent["title"] == "[RESOLVED] HighCPU (a critical)"


async def test_html_device_ttl_and_durations(receiver: Receiver, client: httpx.AsyncClient) -> None:
    n = notifier(
        client,
        receiver,
        html=True,
        message="<b>{{ .CommonLabels.alertname }}</b> {{ .CommonAnnotations.note }}",
        device="{{ .CommonLabels.severity }}-phone",
        ttl="1h30m",
        retry="45s",
        expire="2h",
        sound="siren",
        url_title="Alerts",
        priority="1",
    )
    message = build_message(
        receiver="ops",
        group_key="g",
        group_labels={"alertname": "A"},
        firing=[firing("A", "x", note="<i>&</i>")],
        resolved=[],
    )
    assert (await n.notify(message, idempotency_key="k")).ok
    sent = params(receiver)
    # ExecuteHTMLString: the data is escaped, the template's own markup kept.
    assert sent["message"] == "<b>A</b> &lt;i&gt;&amp;&lt;/i&gt;"
    assert (sent["html"], sent["device"], sent["ttl"]) == ("1", "critical-phone", "5400")
    assert (sent["retry"], sent["expire"], sent["sound"], sent["url_title"], sent["priority"]) == (
        "45",
        "7200",
        "siren",
        "Alerts",
        "1",
    )


async def test_an_empty_message_is_sent_as_no_details_and_long_texts_are_cut(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    n = notifier(
        client, receiver, message="  {{ .CommonAnnotations.none }}\n", title="t" * 300, url="u" * 600
    )
    assert (await n.notify(high_cpu_message(), idempotency_key="k")).ok
    sent = params(receiver)
    assert sent["message"] == "(no details)"
    assert sent["title"] == "t" * 249 + "…"
    assert sent["url"] == "u" * 511 + "…"
    assert "html" not in sent
    assert "device" not in sent
    assert "ttl" not in sent


async def test_only_5xx_are_retried_and_the_keys_are_never_told(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    n = notifier(client, receiver)
    receiver.answer(
        Reply(500, b"oops"),
        Reply(429, b"over quota"),
        Reply(400, f'{{"token":"invalid","errors":["application token is invalid: {TOKEN}"]}}'.encode()),
    )
    failed = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (failed.ok, failed.retryable, failed.status_code) == (False, True, 500)
    over = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (over.retryable, over.status_code) == (False, 429)
    invalid = await n.notify(high_cpu_message(), idempotency_key="k")
    assert (invalid.retryable, invalid.status_code) == (False, 400)
    assert TOKEN not in invalid.reason
    assert "<secret>" in invalid.reason


async def test_a_failing_template_sends_nothing(receiver: Receiver, client: httpx.AsyncClient) -> None:
    result = await notifier(client, receiver, sound="{{ .Nope.Nope }}").notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert (result.ok, result.retryable) == (False, False)
    assert "template sound" in result.reason
    assert receiver.requests == []
