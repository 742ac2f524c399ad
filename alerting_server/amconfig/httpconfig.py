"""Prometheus' common http_config as Alertmanager's HTTP integrations take it: credentials become an
Authorization header (a secret, as every header is in our store), tls_config a channel key of its
own; settings with no effect here are accepted with a warning."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from alerting_server.amconfig.context import Context
from alerting_server.amconfig.nodes import is_null, join, kind

_FIELDS = (
    "basic_auth",
    "authorization",
    "bearer_token",
    "bearer_token_file",
    "oauth2",
    "tls_config",
    "proxy_url",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "follow_redirects",
    "enable_http2",
    "http_headers",
)
_IGNORED = ("enable_http2",)
TLS_FIELDS = ("ca_file", "cert_file", "key_file", "server_name", "insecure_skip_verify")
_TLS_UNSUPPORTED = ("ca", "cert", "key", "min_version", "max_version")


@dataclass(frozen=True)
class HTTPConfig:
    # The Authorization header's value; "" for none.
    authorization: str = ""
    tls_config: dict[str, Any] | None = None
    # proxy_url, no_proxy, proxy_from_environment as the channel's config takes them (notify/proxy.py).
    proxy: dict[str, Any] | None = None

    def apply(self, config: dict[str, Any]) -> None:
        """Puts the header, the TLS and the proxy settings into a channel's config."""
        if self.authorization:
            headers = dict(config.get("headers") or {})
            headers["Authorization"] = self.authorization
            config["headers"] = headers
        if self.tls_config:
            config["tls_config"] = dict(self.tls_config)
        if self.proxy:
            config.update(self.proxy)


def read_http_config(ctx: Context, node: yaml.Node, path: str) -> HTTPConfig:
    r = ctx.reader
    fields = r.mapping(node, path, _FIELDS, "http_config")
    if fields is None:
        return HTTPConfig()
    for key in _IGNORED:
        if key in fields:
            r.warn(
                join(path, key),
                fields[key],
                "accepted but not used",
            )
    if "follow_redirects" in fields:
        r.boolean(fields["follow_redirects"], join(path, "follow_redirects"))
        r.warn(join(path, "follow_redirects"), fields["follow_redirects"], "accepted but not used")
    if "oauth2" in fields:
        r.error(join(path, "oauth2"), fields["oauth2"], "OAuth 2.0 client credentials are not supported")
    if "http_headers" in fields:
        r.error(join(path, "http_headers"), fields["http_headers"], "http_headers are not supported")
    schemes = [k for k in ("basic_auth", "authorization", "bearer_token", "bearer_token_file") if k in fields]
    if len(schemes) > 1 and set(schemes) != {"bearer_token", "bearer_token_file"}:
        r.error(path, node, f"at most one of {', '.join(schemes)} must be configured")
    authorization = ""
    if "basic_auth" in fields:
        authorization = _basic_auth(ctx, fields["basic_auth"], join(path, "basic_auth"))
    elif "authorization" in fields:
        authorization = _authorization(ctx, fields["authorization"], join(path, "authorization"))
    elif "bearer_token" in fields or "bearer_token_file" in fields:
        if "bearer_token" in fields and "bearer_token_file" in fields:
            r.error(path, node, "at most one of bearer_token & bearer_token_file must be configured")
        if "bearer_token" in fields:
            token = r.string(fields["bearer_token"], join(path, "bearer_token"))
        else:
            token = ctx.secret_file(
                join(path, "bearer_token_file"),
                fields["bearer_token_file"],
                r.string(fields["bearer_token_file"], join(path, "bearer_token_file")),
                relative=True,
            )
        authorization = f"Bearer {token}" if token else ""
    tls = None
    if "tls_config" in fields:
        tls = read_tls_config(ctx, fields["tls_config"], join(path, "tls_config"))
    return HTTPConfig(authorization, tls or None, _proxy(ctx, node, fields, path) or None)


def _proxy(ctx: Context, node: yaml.Node, fields: dict[str, yaml.Node], path: str) -> dict[str, Any]:
    """Prometheus' ProxyConfig, checked as its Validate does."""
    r = ctx.reader
    proxy: dict[str, Any] = {}
    if "proxy_url" in fields:
        where = join(path, "proxy_url")
        url = r.string(fields["proxy_url"], where)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname:
            proxy["proxy_url"] = url
        elif url:
            # Go's url.Parse takes it, so Alertmanager loads the file (and fails each send).
            r.warn(where, fields["proxy_url"], "not an absolute http:// or https:// URL: no proxy is used")
    if "no_proxy" in fields:
        no_proxy = r.string(fields["no_proxy"], join(path, "no_proxy"))
        if no_proxy:
            proxy["no_proxy"] = no_proxy
    from_environment = fields.get("proxy_from_environment")
    if from_environment is not None and r.boolean(from_environment, join(path, "proxy_from_environment")):
        proxy["proxy_from_environment"] = True
    if proxy.get("proxy_from_environment") and "proxy_url" in proxy:
        r.error(path, node, "if proxy_from_environment is configured, proxy_url must not be configured")
    if proxy.get("proxy_from_environment") and "no_proxy" in proxy:
        r.error(path, node, "if proxy_from_environment is configured, no_proxy must not be configured")
    if "no_proxy" in proxy and "proxy_url" not in proxy:
        r.error(path, node, "if no_proxy is configured, proxy_url must also be configured")
    if "proxy_connect_header" in fields:
        headers = _connect_headers(ctx, fields["proxy_connect_header"], join(path, "proxy_connect_header"))
        if headers and "proxy_url" not in proxy and not proxy.get("proxy_from_environment"):
            r.error(
                path,
                node,
                "if proxy_connect_header is configured, proxy_url or proxy_from_environment must also be "
                "configured",
            )
        if headers:
            proxy["proxy_connect_header"] = headers
    return proxy


def _connect_headers(ctx: Context, node: yaml.Node, path: str) -> dict[str, str]:
    """Prometheus' `map[string][]Secret`: a header's values, joined as one header of them (RFC 9110)."""
    r = ctx.reader
    if is_null(node):
        return {}
    if not isinstance(node, yaml.MappingNode):
        r.error(path, node, f"must be a mapping, got {kind(node)}")
        return {}
    headers: dict[str, str] = {}
    for key_node, value in node.value:
        name = r.string(key_node, path)
        values = [v for v in r.strings(value, join(path, name)) if v]
        if values:
            headers[name] = ", ".join(values)
    return headers


def has_authorization(ctx: Context, node: yaml.Node | None) -> bool:
    """Whether an http_config node sets an `authorization` section (Slack App tokens refuse it)."""
    return isinstance(node, yaml.MappingNode) and any(
        isinstance(k, yaml.ScalarNode) and k.value == "authorization" for k, _ in node.value
    )


def _basic_auth(ctx: Context, node: yaml.Node, path: str) -> str:
    r = ctx.reader
    fields = r.mapping(node, path, ("username", "username_file", "password", "password_file"), "basic_auth")
    if fields is None:
        return ""
    values: dict[str, str] = {}
    for name in ("username", "password"):
        if name in fields and f"{name}_file" in fields:
            r.error(path, node, f"at most one of basic_auth {name} & {name}_file must be configured")
        if name in fields:
            values[name] = r.string(fields[name], join(path, name))
        elif f"{name}_file" in fields:
            file_node = fields[f"{name}_file"]
            where = join(path, f"{name}_file")
            values[name] = ctx.secret_file(where, file_node, r.string(file_node, where), relative=True)
    credentials = f"{values.get('username', '')}:{values.get('password', '')}"
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _authorization(ctx: Context, node: yaml.Node, path: str) -> str:
    r = ctx.reader
    fields = r.mapping(node, path, ("type", "credentials", "credentials_file"), "authorization")
    if fields is None:
        return ""
    kind = r.string(fields["type"], join(path, "type")) if "type" in fields else ""
    kind = kind or "Bearer"
    if kind.lower() == "basic":
        r.error(
            join(path, "type"),
            fields["type"],
            'authorization type cannot be set to "basic", use "basic_auth" instead',
        )
    if "credentials" in fields and "credentials_file" in fields:
        r.error(path, node, "at most one of authorization credentials & credentials_file must be configured")
    credentials = ""
    if "credentials" in fields:
        credentials = r.string(fields["credentials"], join(path, "credentials"))
    elif "credentials_file" in fields:
        where = join(path, "credentials_file")
        credentials = ctx.secret_file(
            where, fields["credentials_file"], r.string(fields["credentials_file"], where), relative=True
        )
    return f"{kind} {credentials}" if credentials else ""


def read_tls_config(ctx: Context, node: yaml.Node, path: str) -> dict[str, Any]:
    r = ctx.reader
    fields = r.mapping(node, path, TLS_FIELDS + _TLS_UNSUPPORTED, "tls_config")
    if fields is None:
        return {}
    out: dict[str, Any] = {}
    for key in _TLS_UNSUPPORTED:
        if key in fields:
            r.error(join(path, key), fields[key], f"{key} is not supported: use the *_file fields")
    for key in ("ca_file", "cert_file", "key_file"):
        if key in fields:
            name = r.string(fields[key], join(path, key))
            if name:
                out[key] = name if os.path.isabs(name) else os.path.join(ctx.base_dir, name)
    if ("cert_file" in out) != ("key_file" in out):
        r.error(
            path, node, "exactly one of key and cert file specified: both are needed for a client certificate"
        )
    if "server_name" in fields:
        server_name = r.string(fields["server_name"], join(path, "server_name"))
        if server_name:
            out["server_name"] = server_name
    if "insecure_skip_verify" in fields:
        skip = r.boolean(fields["insecure_skip_verify"], join(path, "insecure_skip_verify"))
        if skip:
            out["insecure_skip_verify"] = True
    return out
