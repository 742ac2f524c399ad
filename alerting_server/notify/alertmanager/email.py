"""Alertmanager's email integration (notify/email/email.go): the message it writes.

Every header of `headers` rendered as a template and Q-encoded (mime.QEncoding) where it needs
it, Subject, To and From among them (filled as Alertmanager's loader fills them when absent: the
default subject template, the `to` addresses, the `from` address), then Message-Id, Date,
Content-Type multipart/alternative and MIME-Version; a text/plain part when `text` is set and a
text/html part when `html` is (default: `{{ template "email.default.html" . }}`, rendered with
html/template's escaping), each quoted-printable as Go's mime/quotedprintable writes it.
Alertmanager writes the headers in a Go map's (random) order; here they come sorted by name.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerting_server.notify.alertmanager.data import alertmanager_message
from alerting_server.notify.alertmanager.render import Renderer, TemplateFailed
from alerting_server.notify.alertmanager.templates import TemplateSet
from alerting_server.notify.integrations.email.notifier import EmailNotifier
from alerting_server.notify.message import Message
from alerting_server.notify.notifier import DeliveryResult

DEFAULT_SUBJECT = '{{ template "email.default.subject" . }}'
DEFAULT_HTML = '{{ template "email.default.html" . }}'
_LINE_MAX = 76
_MAX_ENCODED_WORD = 75
_UPPER_HEX = "0123456789ABCDEF"


def email_headers(config: Mapping[str, Any], sender: str, to: Sequence[str]) -> dict[str, str]:
    """The header templates, with Subject, To and From filled in as Alertmanager's loader does
    (and Reply-To from our `reply_to`); names are normalized as it does (strings.Title)."""
    headers = {_title(str(k)): str(v) for k, v in dict(config.get("headers") or {}).items()}
    if config.get("reply_to"):
        # Our email field; Alertmanager has it among the headers only.
        headers.setdefault("Reply-To", str(config["reply_to"]))
    headers.setdefault("Subject", DEFAULT_SUBJECT)
    headers.setdefault("To", ", ".join(to))
    headers.setdefault("From", sender)
    return headers


def render_alertmanager_email(
    config: Mapping[str, Any],
    message: Message,
    *,
    sender: str,
    to: Sequence[str],
    templates: TemplateSet,
    now_ms: int,
    message_id: str,
    date: str,
    boundary: str | None = None,
) -> bytes:
    """The DATA of the message; raises TemplateFailed."""
    r = Renderer(templates, alertmanager_message(message), now_ms)
    lines: list[str] = []
    headers = email_headers(config, sender, to)
    for name in sorted(headers):
        lines.append(f"{name}: {q_encode(r.text(f'headers.{name}', headers[name]))}\r\n")
    if "Message-Id" not in headers:
        lines.append(f"Message-Id: {message_id}\r\n")
    mark = boundary or os.urandom(30).hex()
    lines.append(f"Date: {date}\r\n")
    lines.append(f"Content-Type: multipart/alternative;  boundary={mark}\r\n")
    lines.append("MIME-Version: 1.0\r\n\r\n")
    parts: list[str] = []
    text = config.get("text")
    html = config.get("html", DEFAULT_HTML)
    if isinstance(text, str) and text:
        parts.append(_part(mark, not parts, "text/plain", quoted_printable(r.text("text", text))))
    if isinstance(html, str) and html:
        parts.append(_part(mark, not parts, "text/html", quoted_printable(r.html("html", html))))
    body = "".join(parts)
    # multipart.Writer.Close: the closing boundary, after a CRLF when a part came before.
    body += ("\r\n" if parts else "") + f"--{mark}--\r\n"
    return ("".join(lines) + body).encode()


def _part(boundary: str, first: bool, content_type: str, body: str) -> str:
    start = f"--{boundary}\r\n" if first else f"\r\n--{boundary}\r\n"
    return (
        f"{start}Content-Transfer-Encoding: quoted-printable\r\n"
        f"Content-Type: {content_type}; charset=UTF-8\r\n\r\n{body}"
    )


def hostname() -> str:
    return socket.gethostname()


def _title(name: str) -> str:
    """strings.Title: the first letter of each word (after a space or punctuation) upper-cased."""
    out = []
    prev = " "
    for c in name:
        out.append(c if prev.isalnum() or prev == "_" else c.upper())
        prev = c
    return "".join(out)


def q_encode(value: str) -> str:
    """mime.QEncoding.Encode("utf-8", value)."""
    if not any((c < " " or c > "~") and c != "\t" for c in value):
        return value
    words: list[str] = []
    current = ""
    prefix, suffix = "=?utf-8?q?", "?="
    room = _MAX_ENCODED_WORD - len(prefix) - len(suffix)
    for c in value:
        encoded = "".join(_q_byte(b) for b in c.encode())
        if len(current) + len(encoded) > room:
            words.append(prefix + current + suffix)
            current = ""
        current += encoded
    words.append(prefix + current + suffix)
    return " ".join(words)


def _q_byte(b: int) -> str:
    if b == 0x20:
        return "_"
    if 0x21 <= b <= 0x7E and chr(b) not in "=?_":
        return chr(b)
    return "=" + _UPPER_HEX[b >> 4] + _UPPER_HEX[b & 0x0F]


def quoted_printable(text: str) -> str:
    """Go's mime/quotedprintable Writer (not Binary): CRLF line ends, lines of at most 76."""
    out: list[str] = []
    line: list[str] = []
    cr = False

    def flush() -> None:
        out.append("".join(line))
        line.clear()

    def soft_break() -> None:
        line.append("=")
        flush()
        out.append("\r\n")

    def encode(b: int) -> None:
        if _LINE_MAX - 1 - _len() < 3:
            soft_break()
        line.append("=" + _UPPER_HEX[b >> 4] + _UPPER_HEX[b & 0x0F])

    def _len() -> int:
        return sum(len(x) for x in line)

    def check_last() -> None:
        if line and line[-1] in (" ", "\t"):
            b = ord(line.pop())
            encode(b)

    for b in text.encode():
        c = chr(b)
        if c in "\r\n":
            if cr and c == "\n":
                cr = False
                continue
            cr = c == "\r"
            check_last()
            line.append("\r\n")
            flush()
            continue
        if ("!" <= c <= "~" and c != "=") or c in " \t":
            if _len() == _LINE_MAX - 1:
                soft_break()
            line.append(c)
            cr = False
        else:
            encode(b)
    check_last()
    flush()
    return "".join(out)


@dataclass(frozen=True)
class AlertmanagerEmailNotifier:
    """Writes Alertmanager's message and sends it over the channel's SMTP connection."""

    smtp: EmailNotifier
    config: Mapping[str, Any]
    templates: TemplateSet = field(default_factory=TemplateSet)

    def render(self, message: Message, *, boundary: str | None = None) -> bytes:
        now_ms = self.smtp.clock.now_ms()
        date = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        message_id = f"<{now_ms * 1_000_000}.{secrets.randbits(64)}@{hostname()}>"
        return render_alertmanager_email(
            self.config,
            message,
            sender=self.smtp.config.sender,
            to=self.smtp.config.to,
            templates=self.templates,
            now_ms=now_ms,
            message_id=message_id,
            date=date,
            boundary=boundary,
        )

    async def notify(self, message: Message, *, idempotency_key: str) -> DeliveryResult:
        try:
            data = self.render(message)
        except TemplateFailed as e:
            return e.result()
        return await self.smtp.send_raw(data)
