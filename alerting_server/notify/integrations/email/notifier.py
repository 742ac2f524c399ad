"""Email over SMTP: plain, STARTTLS or implicit TLS, AUTH when credentials are set.

One message per notification, text and HTML alternatives. Its Message-ID derives from the
idempotency key, so a notification sent twice (a crash between send and record) carries the
same Message-ID and mail clients thread or drop the copy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import html
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from alerting_server.clock import Clock, SystemClock
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.classify import scrub
from alerting_server.notify.http import tls_context
from alerting_server.notify.integrations.email.config import EmailConfig
from alerting_server.notify.message import AlertData, Message, go_time
from alerting_server.notify.notifier import DELIVERED, DeliveryResult
from alerting_server.notify.templates import ChannelTemplates, Expander, noting_template_errors
from alerting_server.notify.texts import sorted_pairs, subject
from alerting_server.outbound import DestinationDenied, OutboundPolicy

DEFAULT_TIMEOUT_S = 30.0


def message_id(idempotency_key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "alerting.invalid"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


def render_email(
    message: Message,
    *,
    sender: str,
    to: Sequence[str],
    idempotency_key: str,
    now_ms: int,
    reply_to: str = "",
    headers: Mapping[str, str] | None = None,
    expander: Expander | None = None,
) -> EmailMessage:
    """`expander` renders the channel's `subject`, `text` and `html` templates, where it has them."""
    expand = expander or ChannelTemplates().expander(message, now_ms)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    # A header value cannot hold a line break; a multi-line template is folded onto one line.
    mail["Subject"] = " ".join(expand.text("subject", lambda: subject(message)).split())
    if reply_to:
        mail["Reply-To"] = reply_to
    mail["Message-ID"] = message_id(idempotency_key, sender)
    mail["Date"] = format_datetime(dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC))
    # Configured headers win, Subject and To included, as in Alertmanager's email_config.headers.
    for name, value in (headers or {}).items():
        del mail[name]
        mail[name] = value
    mail.set_content(expand.text("text", lambda: _text(message)))
    mail.add_alternative(expand.text("html", lambda: _html(message)), subtype="html")
    return mail


@dataclass(frozen=True)
class EmailNotifier:
    config: EmailConfig
    tls_context: ssl.SSLContext | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    clock: Clock = field(default_factory=SystemClock)
    # What the channel's templates may call (None: Alertmanager's default templates alone).
    template_set: TemplateSet | None = None

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        now_ms = self.clock.now_ms()
        expander = self.config.templates.expander(message, now_ms, self.template_set)
        mail = render_email(
            message,
            sender=self.config.sender,
            to=self.config.to,
            idempotency_key=idempotency_key,
            now_ms=now_ms,
            reply_to=self.config.reply_to,
            headers=self.config.headers,
            expander=expander,
        )
        return noting_template_errors(await self._send(mail), expander)

    async def send_raw(self, data: bytes) -> DeliveryResult:
        """Sends a message already written (headers and body, CRLF line ends)."""
        return await self._send(data)

    async def _send(self, mail: EmailMessage | bytes) -> DeliveryResult:
        try:
            context = self._tls_context()
        except (OSError, ssl.SSLError) as e:
            return self._failed(False, f"tls_config: {type(e).__name__}: {e}")
        try:
            # Connected here, to an address the policy allows; the host name is still what TLS verifies.
            # The socket is aiosmtplib's from then on: its transport closes it.
            async with asyncio.timeout(self.timeout_s):
                sock = await self.outbound.connect(self.config.host, self.config.port)
        except DestinationDenied as e:
            return self._failed(False, str(e))
        except OSError as e:
            return self._failed(True, f"{type(e).__name__}: {e}")
        try:
            smtp = aiosmtplib.SMTP(
                # The name TLS verifies: the tls_config's server_name, else the smarthost's.
                hostname=(self.config.tls_config or {}).get("server_name") or self.config.host,
                local_hostname=self.config.hello or None,
                sock=sock,
                use_tls=self.config.tls,
                # Never upgrade on the server's say-so alone: TLS is what the channel asks for.
                start_tls=self.config.starttls,
                tls_context=context,
                timeout=self.timeout_s,
            )
            async with smtp:
                await self._authenticate(smtp)
                sender = parseaddr(self.config.sender)[1]
                recipients = [parseaddr(a)[1] for a in self.config.to]
                if isinstance(mail, bytes):
                    errors, _ = await smtp.sendmail(sender, recipients, mail)
                else:
                    errors, _ = await smtp.send_message(mail, sender=sender, recipients=recipients)
        except aiosmtplib.SMTPRecipientsRefused as e:
            return self._refused(e.recipients)
        except aiosmtplib.SMTPResponseException as e:
            # RFC 5321: 4yz is a transient failure, 5yz a permanent one.
            return self._failed(400 <= e.code < 500, e.message, e.code)
        except (
            aiosmtplib.SMTPTimeoutError,
            aiosmtplib.SMTPServerDisconnected,
            aiosmtplib.SMTPConnectError,
        ) as e:
            if isinstance(e.__cause__, ssl.SSLCertVerificationError):
                return self._untrusted(e.__cause__)
            return self._failed(True, f"{type(e).__name__}: {e}")
        except ssl.SSLCertVerificationError as e:
            return self._untrusted(e)
        except aiosmtplib.SMTPException as e:
            # What the server cannot do (STARTTLS, AUTH) does not change on a retry.
            return self._failed(False, str(e))
        except OSError as e:
            return self._failed(True, f"{type(e).__name__}: {e}")
        if errors:
            # Some recipients took it: the notification is out, the rest are told in the reason.
            return DeliveryResult(ok=True, reason=self._reason(None, _refusals(errors)))
        return DELIVERED

    async def _authenticate(self, smtp: aiosmtplib.SMTP) -> None:
        """As Alertmanager: CRAM-MD5 with the auth_secret where the server offers it, else the
        password (PLAIN or LOGIN)."""
        if not self.config.username:
            return
        if smtp.is_ehlo_or_helo_needed:
            await smtp.ehlo()  # what the server offers is known from its EHLO reply
        if self.config.auth_secret and "cram-md5" in smtp.server_auth_methods:
            await smtp.auth_crammd5(self.config.username, self.config.auth_secret)
        elif self.config.password:
            await smtp.login(self.config.username, self.config.password)
        elif self.config.auth_secret:
            raise aiosmtplib.SMTPException("the server does not offer CRAM-MD5 and no auth_password is set")

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.config.tls_config:
            return tls_context(self.config.tls_config)
        return self.tls_context

    def _refused(self, refused: Sequence[aiosmtplib.SMTPRecipientRefused]) -> DeliveryResult:
        codes = {r.code for r in refused}
        text = "all recipients refused: " + "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refused)
        return self._failed(
            any(400 <= c < 500 for c in codes), text, codes.pop() if len(codes) == 1 else None
        )

    def _untrusted(self, error: ssl.SSLCertVerificationError) -> DeliveryResult:
        # A certificate the channel does not trust stays untrusted until someone changes a config.
        return self._failed(False, f"TLS certificate verification failed: {error.verify_message}")

    def _failed(self, retryable: bool, text: str, code: int | None = None) -> DeliveryResult:
        return DeliveryResult(
            ok=False, retryable=retryable, status_code=code, reason=self._reason(code, text)
        )

    def _reason(self, code: int | None, text: str) -> str:
        return scrub(f"SMTP {code}: {text}" if code else text, [self.config.password])


def _refusals(errors: Mapping[str, aiosmtplib.SMTPResponse]) -> str:
    return "recipients refused: " + "; ".join(f"{a}: {r.code} {r.message}" for a, r in sorted(errors.items()))


def _text(message: Message) -> str:
    lines = [subject(message), ""]
    for title, alerts in (("Firing", message.firing), ("Resolved", message.resolved)):
        if alerts:
            lines.append(f"{title} alerts:")
            lines += [_alert_text(a) for a in alerts]
    if message.truncated_alerts:
        lines.append(f"... and {message.truncated_alerts} more alerts")
    if message.ack_url and message.status == "firing":
        lines.append(f"Acknowledge: {message.ack_url}")
    if message.external_url:
        lines.append(f"View alerts: {message.external_url}")
    return "\n".join(lines) + "\n"


def _alert_text(alert: AlertData) -> str:
    lines = ["Labels:"] + [f"  - {k} = {v}" for k, v in sorted_pairs(alert.labels)]
    lines += ["Annotations:"] + [f"  - {k} = {v}" for k, v in sorted(alert.annotations.items())]
    lines.append(f"Started: {go_time(alert.starts_at)}")
    if alert.generator_url:
        lines.append(f"Source: {alert.generator_url}")
    if alert.ack_url:
        lines.append(f"Acknowledge: {alert.ack_url}")
    return "\n".join(lines) + "\n"


def _html(message: Message) -> str:
    e = html.escape
    colour = "#E01E5A" if message.status == "firing" else "#2EB67D"
    parts = [
        '<!DOCTYPE html><html><body style="font-family: sans-serif">',
        f'<h2 style="color: {colour}">{e(subject(message))}</h2>',
    ]
    for title, alerts in (("Firing", message.firing), ("Resolved", message.resolved)):
        if not alerts:
            continue
        parts.append(f"<h3>{title}</h3>")
        for alert in alerts:
            rows = "".join(
                f'<tr><th align="left">{e(k)}</th><td>{e(v)}</td></tr>' for k, v in sorted_pairs(alert.labels)
            )
            rows += "".join(
                f'<tr><th align="left">{e(k)}</th><td>{e(v)}</td></tr>'
                for k, v in sorted(alert.annotations.items())
            )
            parts.append(f"<table>{rows}</table>")
            if alert.generator_url:
                parts.append(f'<p><a href="{e(alert.generator_url)}">Source</a></p>')
            if alert.ack_url:
                parts.append(f'<p><a href="{e(alert.ack_url)}">Acknowledge this alert</a></p>')
    if message.truncated_alerts:
        parts.append(f"<p>... and {message.truncated_alerts} more alerts</p>")
    if message.ack_url and message.status == "firing":
        parts.append(f'<p><a href="{e(message.ack_url)}">Acknowledge</a></p>')
    if message.external_url:
        parts.append(f'<p><a href="{e(message.external_url)}">View alerts</a></p>')
    parts.append("</body></html>")
    return "\n".join(parts)
