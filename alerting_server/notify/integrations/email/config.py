"""The email channel's config: Alertmanager's email_config, its SMTP password a secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from alerting_server.errors import Violations
from alerting_server.notify.alertmanager.fields import STYLE_FIELD, is_alertmanager_style
from alerting_server.notify.http import check_tls_config
from alerting_server.notify.integrations.integration import headers
from alerting_server.notify.templates import ChannelTemplates
from alerting_server.validation.fields import FieldSpec, Kind

TEMPLATES = ("subject", "text", "html")

SCHEMA: Mapping[str, FieldSpec] = {
    "to": FieldSpec(Kind.ADDRESSES, required=True),
    "from": FieldSpec(Kind.ADDRESS, required=True),
    "smarthost": FieldSpec(Kind.HOSTPORT, required=True, hint='the SMTP server as "host:port"'),
    "username": FieldSpec(Kind.STRING),
    "password": FieldSpec(Kind.STRING, secret=True),
    # Alertmanager's auth_secret: the CRAM-MD5 secret, used where the server offers CRAM-MD5.
    "auth_secret": FieldSpec(Kind.STRING, secret=True),
    "starttls": FieldSpec(Kind.BOOL),
    "tls": FieldSpec(Kind.BOOL),
    "reply_to": FieldSpec(Kind.ADDRESS),
    "headers": FieldSpec(Kind.HEADERS),
    # The name this server gives itself in EHLO (Alertmanager's hello; "": the local host name).
    "hello": FieldSpec(Kind.STRING),
    # What the SMTP server's TLS is verified with, and the client certificate (notify/http.py).
    "tls_config": FieldSpec(Kind.STRING, check=check_tls_config),
    "send_resolved": FieldSpec(Kind.BOOL),
    # Go templates over Alertmanager's notification data, as in its email_config.
    **{name: FieldSpec(Kind.TEMPLATE) for name in TEMPLATES},
    # "alertmanager": the message Alertmanager's email_config sends (notify/alertmanager/email.py);
    # its subject is then the `Subject` of `headers`, every header a template.
    "style": STYLE_FIELD,
}


def check(v: Violations, config: Mapping[str, Any], path: str) -> None:
    if config.get("tls") is True and config.get("starttls") is True:
        v.add(f"{path}.tls", "tls (implicit TLS, usually port 465) and starttls are mutually exclusive")


@dataclass(frozen=True)
class EmailConfig:
    sender: str
    to: tuple[str, ...]
    host: str
    port: int
    username: str = ""
    password: str = ""
    auth_secret: str = ""
    starttls: bool = False
    tls: bool = False
    reply_to: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    hello: str = ""
    tls_config: Mapping[str, Any] | None = None
    templates: ChannelTemplates = field(default_factory=ChannelTemplates)
    # The whole config of a channel of style "alertmanager"; None for this server's own messages.
    alertmanager: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> Self:
        host, _, port = str(config["smarthost"]).rpartition(":")
        return cls(
            sender=config["from"],
            to=tuple(config["to"]),
            host=host.removeprefix("[").removesuffix("]"),
            port=int(port),
            username=config.get("username") or "",
            password=config.get("password") or "",
            auth_secret=config.get("auth_secret") or "",
            starttls=config.get("starttls") is True,
            tls=config.get("tls") is True,
            reply_to=config.get("reply_to") or "",
            headers=headers(config),
            hello=config.get("hello") or "",
            tls_config=config.get("tls_config") or None,
            templates=ChannelTemplates.from_config(TEMPLATES, config),
            alertmanager=dict(config) if is_alertmanager_style(config) else None,
        )
