from __future__ import annotations

import hmac
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult

from alerting_server.notify.integrations.email import EmailConfig
from alerting_server.notify.integrations.email.notifier import EmailNotifier, message_id
from alerting_server.notify.message import build_message
from tests.notify.alerts import high_cpu_message, resolved
from tests.notify.conftest import FixedClock
from tests.notify.smtp import Handler, smtp_server

NOW = 1_700_000_000_000


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@pytest.fixture
def handler() -> Handler:
    return Handler()


@pytest.fixture
def plain_port(handler: Handler) -> Iterator[int]:
    with smtp_server(handler, auth=True) as port:
        yield port


def notifier(port: int, **kwargs: object) -> EmailNotifier:
    """The channel's settings as EmailConfig fields, the connection's (tls_context, outbound) as the
    notifier's."""
    runtime: dict[str, object] = {"timeout_s": 5.0, "clock": FixedClock(NOW)}
    for name in ("tls_context", "outbound"):
        if name in kwargs:
            runtime[name] = kwargs.pop(name)
    settings: dict[str, object] = {
        "sender": "Alerting <alerts@example.org>",
        "to": ("oncall@example.org", "Ops Team <ops@example.org>"),
        "host": "127.0.0.1",
        "port": port,
        **kwargs,
    }
    return EmailNotifier(config=EmailConfig(**settings), **runtime)  # type: ignore[arg-type]


async def test_plain_smtp_delivers_multipart_with_headers(handler: Handler, plain_port: int) -> None:
    message = high_cpu_message(ack_url="http://alerting.example/ack/1")
    n = notifier(plain_port, reply_to="noc@example.org", headers={"X-Team": "db"})
    result = await n.notify(message, idempotency_key="notif-1")
    assert result.ok, result.reason
    [got] = handler.received
    assert got.sender == "alerts@example.org"
    assert got.recipients == ["oncall@example.org", "ops@example.org"]
    assert (got.login, got.tls) == (None, False)
    mail = got.message
    assert mail["From"] == "Alerting <alerts@example.org>"
    assert mail["To"] == "oncall@example.org, Ops Team <ops@example.org>"
    assert mail["Reply-To"] == "noc@example.org"
    assert mail["X-Team"] == "db"
    assert mail["Subject"] == "[FIRING:2] HighCPU (critical)"
    assert mail["Message-ID"] == message_id("notif-1", "alerts@example.org")
    assert mail["Date"] == "Tue, 14 Nov 2023 22:13:20 +0000"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None
    assert html is not None
    text_body, html_body = text.get_content(), html.get_content()
    assert "Firing alerts:" in text_body
    assert "Resolved alerts:" in text_body
    assert "  - instance = a" in text_body
    assert "Acknowledge: http://alerting.example/ack/1" in text_body
    assert '<a href="http://alerting.example/ack/1">Acknowledge</a>' in html_body
    assert '<th align="left">summary</th><td>CPU high</td>' in html_body


async def test_message_id_is_stable_per_notification(handler: Handler, plain_port: int) -> None:
    n = notifier(plain_port)
    for key in ("a", "a", "b"):
        assert (await n.notify(high_cpu_message(), idempotency_key=key)).ok
    ids = [r.message["Message-ID"] for r in handler.received]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0].endswith("@example.org>")


async def test_resolved_subject_and_configured_subject_header(handler: Handler, plain_port: int) -> None:
    message = build_message(
        receiver="ops",
        group_key="k",
        group_labels={"alertname": "A"},
        firing=[],
        resolved=[resolved("A", "x")],
    )
    await notifier(plain_port).notify(message, idempotency_key="k")
    await notifier(plain_port, headers={"Subject": "custom"}).notify(message, idempotency_key="k")
    assert [r.message["Subject"] for r in handler.received] == ["[RESOLVED] A (x critical)", "custom"]


async def test_auth_with_username_and_password(handler: Handler, plain_port: int) -> None:
    result = await notifier(plain_port, username="alice", password="pa55").notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert result.ok, result.reason
    assert handler.received[0].login == "alice"


async def test_bad_credentials_are_permanent_and_the_password_is_not_told(
    handler: Handler, plain_port: int
) -> None:
    result = await notifier(plain_port, username="alice", password="wrong-pw").notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert (result.ok, result.retryable, result.status_code) == (False, False, 535)
    assert "wrong-pw" not in result.reason
    assert handler.received == []


async def test_starttls_with_auth(
    handler: Handler, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    with smtp_server(handler, starttls=server_tls, auth=True) as port:
        n = notifier(port, starttls=True, tls_context=client_tls, username="alice", password="pa55")
        result = await n.notify(high_cpu_message(), idempotency_key="k")
    assert result.ok, result.reason
    [got] = handler.received
    assert (got.login, got.tls) == ("alice", True)


async def test_implicit_tls(handler: Handler, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext) -> None:
    with smtp_server(handler, implicit_tls=server_tls, auth=True) as port:
        n = notifier(port, tls=True, tls_context=client_tls, username="alice", password="pa55")
        result = await n.notify(high_cpu_message(), idempotency_key="k")
    assert result.ok, result.reason
    assert handler.received[0].login == "alice"


async def test_untrusted_certificate_is_permanent(handler: Handler, server_tls: ssl.SSLContext) -> None:
    with smtp_server(handler, implicit_tls=server_tls) as port:
        result = await notifier(port, tls=True, tls_context=ssl.create_default_context()).notify(
            high_cpu_message(), idempotency_key="k"
        )
    assert (result.ok, result.retryable) == (False, False), result.reason
    assert result.reason.startswith("TLS certificate verification failed")


async def test_server_requiring_starttls_refuses_plain_mail(
    handler: Handler, server_tls: ssl.SSLContext
) -> None:
    with smtp_server(handler, starttls=server_tls) as port:
        result = await notifier(port).notify(high_cpu_message(), idempotency_key="k")
    assert (result.ok, result.retryable, result.status_code) == (False, False, 530)


@pytest.mark.parametrize(
    ("reply", "retryable", "code"),
    [("451 4.3.0 try again later", True, 451), ("554 5.6.0 message rejected", False, 554)],
)
async def test_smtp_4xx_retried_5xx_permanent(reply: str, retryable: bool, code: int) -> None:
    handler = Handler(data_reply=reply)
    with smtp_server(handler) as port:
        result = await notifier(port).notify(high_cpu_message(), idempotency_key="k")
    assert (result.ok, result.retryable, result.status_code) == (False, retryable, code)
    assert result.reason == f"SMTP {code}: {reply.split(' ', 1)[1]}"


async def test_all_recipients_refused() -> None:
    handler = Handler(
        rcpt_replies={
            "oncall@example.org": "450 4.2.1 mailbox busy",
            "ops@example.org": "550 5.1.1 no such user",
        }
    )
    with smtp_server(handler) as port:
        result = await notifier(port).notify(high_cpu_message(), idempotency_key="k")
    # One refusal is transient, so a retry may yet reach that mailbox.
    assert (result.ok, result.retryable, result.status_code) == (False, True, None)
    assert "oncall@example.org: 450" in result.reason
    assert "ops@example.org: 550" in result.reason


async def test_some_recipients_refused_is_delivered_with_the_refusals_told() -> None:
    handler = Handler(rcpt_replies={"ops@example.org": "550 5.1.1 no such user"})
    with smtp_server(handler) as port:
        result = await notifier(port).notify(high_cpu_message(), idempotency_key="k")
    assert result.ok
    assert result.reason == "recipients refused: ops@example.org: 550 5.1.1 no such user"
    assert handler.received[0].recipients == ["oncall@example.org"]


async def test_server_down_is_retried(closed_port: int) -> None:
    result = await notifier(closed_port).notify(high_cpu_message(), idempotency_key="k")
    assert (result.ok, result.retryable) == (False, True)


class CramMd5Handler(Handler):
    """Offers CRAM-MD5 beside PLAIN and LOGIN: alice's secret is "s3cr3t"."""

    async def auth_CRAM__MD5(self, server: SMTP, args: list[str]) -> AuthResult:
        challenge = b"<1896.697170952@alerting.example.org>"
        response = await server.challenge_auth(challenge)
        if not isinstance(response, bytes):
            return AuthResult(success=False, handled=False)
        user, _, digest = response.partition(b" ")
        expected = hmac.new(b"s3cr3t", challenge, "md5").hexdigest().encode()
        ok = user == b"alice" and hmac.compare_digest(digest, expected)
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)


async def test_cram_md5_with_the_auth_secret_where_the_server_offers_it() -> None:
    handler = CramMd5Handler()
    with smtp_server(handler, auth=True) as port:
        result = await notifier(port, username="alice", auth_secret="s3cr3t").notify(
            high_cpu_message(), idempotency_key="k"
        )
    assert result.ok, result.reason
    assert handler.received[0].login == "alice"


async def test_an_auth_secret_alone_fails_where_the_server_has_no_cram_md5(
    handler: Handler, plain_port: int
) -> None:
    result = await notifier(plain_port, username="alice", auth_secret="s3cr3t").notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert (result.ok, result.retryable) == (False, False)
    assert "CRAM-MD5" in result.reason
    assert "s3cr3t" not in result.reason


async def test_hello_names_this_server_in_ehlo(handler: Handler, plain_port: int) -> None:
    result = await notifier(plain_port, hello="alerting.example.org").notify(
        high_cpu_message(), idempotency_key="k"
    )
    assert result.ok, result.reason
    assert handler.received[0].hello == "alerting.example.org"


async def test_tls_config_ca_file_verifies_the_server(
    handler: Handler, ca: trustme.CA, server_tls: ssl.SSLContext, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with smtp_server(handler, implicit_tls=server_tls) as port:
        # Trusted by the channel's own CA file, not by the server-wide context (none is given).
        trusted = await notifier(
            port, tls=True, tls_config={"ca_file": str(ca_file), "server_name": "localhost"}
        ).notify(high_cpu_message(), idempotency_key="k")
        missing = await notifier(port, tls=True, tls_config={"ca_file": str(tmp_path / "gone.pem")}).notify(
            high_cpu_message(), idempotency_key="k2"
        )
    assert trusted.ok, trusted.reason
    assert len(handler.received) == 1
    assert (missing.ok, missing.retryable) == (False, False)
    assert "tls_config" in missing.reason
