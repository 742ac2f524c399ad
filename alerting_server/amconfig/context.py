"""What the parts of the loader share: the reader of problems, the file's directory, the global
section, and how `*_file` secrets are read."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from alerting_server.amconfig.nodes import Reader
from alerting_server.validation.fields import SECRET_PLACEHOLDER

ReadFile = Callable[[str], str]


def read_text_file(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


@dataclass
class Global:
    """Alertmanager's `global` section with its defaults (DefaultGlobalConfig)."""

    resolve_timeout_ms: int = 5 * 60 * 1000
    smtp_from: str = ""
    smtp_hello: str = "localhost"
    smtp_smarthost: str = ""
    smtp_auth_username: str = ""
    smtp_auth_password: str = ""
    smtp_auth_password_file: str = ""
    smtp_auth_secret: str = ""
    smtp_auth_secret_file: str = ""
    smtp_auth_identity: str = ""
    smtp_require_tls: bool = True
    smtp_tls_config: dict[str, Any] | None = None
    smtp_force_implicit_tls: bool | None = None
    slack_api_url: str = ""
    slack_api_url_file: str = ""
    slack_app_token: str = ""
    slack_app_token_file: str = ""
    slack_app_url: str = "https://slack.com/api/chat.postMessage"
    pagerduty_url: str = "https://events.pagerduty.com/v2/enqueue"
    opsgenie_api_url: str = "https://api.opsgenie.com/"
    opsgenie_api_key: str = ""
    opsgenie_api_key_file: str = ""
    victorops_api_url: str = "https://alert.victorops.com/integrations/generic/20131114/alert/"
    victorops_api_key: str = ""
    victorops_api_key_file: str = ""
    # The parsed http_config: what each HTTP integration without its own inherits.
    http_config: dict[str, Any] = field(default_factory=dict)
    # Where the secrets read from files came from, for errors: field -> node.
    nodes: dict[str, yaml.Node] = field(default_factory=dict)


@dataclass
class Context:
    reader: Reader
    # The configuration file's directory: relative template globs and http_config files are read
    # from it, as Alertmanager's resolveFilepaths does.
    base_dir: str
    # None: check only, the files are not read (as `amtool check-config` does not read them).
    read_file: ReadFile | None
    glob: Global = field(default_factory=Global)

    def secret_file(self, path: str, node: yaml.Node, filename: str, *, relative: bool = False) -> str:
        """The contents of a `*_file` secret, trailing newline trimmed (Prometheus' common config
        trims the whitespace around it); the placeholder when checking only."""
        if relative and filename and not os.path.isabs(filename):
            filename = os.path.join(self.base_dir, filename)
        if self.read_file is None:
            return SECRET_PLACEHOLDER
        try:
            return self.read_file(filename).strip()
        except OSError as e:
            self.reader.error(path, node, f"unable to read {filename}: {e.strerror or e}")
            return ""
