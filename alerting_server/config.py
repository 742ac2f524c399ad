"""Server configuration: defaults < YAML file < environment (ALERTING_*) < command-line flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from ipaddress import ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from alerting_common import yamlerrors
from alerting_common.durations import format_duration, parse_duration
from alerting_server.alerts.limits import DEFAULT_MAX_ALERTS, DEFAULT_MAX_GROUPS, DEFAULT_MAX_WATCHERS
from alerting_server.auth import SCOPES, Token
from alerting_server.outbound import IPNetwork, OutboundPolicy
from alerting_server.query.features import KNOWN_FEATURES
from alerting_server.query.limits import DEFAULT_MAX_SAMPLES, DEFAULT_TIMEOUT_MS
from alerting_server.query.remote import DEFAULT_MAX_RESPONSE_BYTES
from alerting_server.store.connect import DEFAULT_URL, check_url
from alerting_server.store.crypto import check_key
from alerting_server.validation.limits import MAX_LABEL_NAME_LENGTH, MAX_LABEL_VALUE_LENGTH, MAX_LABELS


class ConfigError(Exception):
    """The configuration is unusable; the message names the key and the reason."""


@dataclass(frozen=True)
class TLSConfig:
    cert_file: str
    key_file: str
    # When set, clients must present a certificate signed by this CA (mTLS).
    client_ca_file: str = ""


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password: str


@dataclass(frozen=True)
class DatasourceConfig:
    """A named Prometheus-compatible HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics)."""

    name: str
    url: str
    bearer_token: str = ""
    basic_auth: BasicAuth | None = None
    timeout_ms: int = 30_000
    headers: tuple[tuple[str, str], ...] = ()
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES


def _doc(meaning: str, key: str = "") -> dict[str, str]:
    """A setting's entry in the settings reference (`alerting-server config-reference`): what it
    means, and its key in the file when that is not the field's name (less a `_ms` suffix)."""
    return {"doc": meaning, "key": key}


@dataclass(frozen=True)
class Config:
    grpc_listen: str = field(default="127.0.0.1:50051", metadata=_doc("host:port of the gRPC API"))
    http_listen: str = field(default="127.0.0.1:8080", metadata=_doc("host:port of the REST gateway"))
    # Longer than every client's own idle timeout (Prometheus' remote write: 5m, Go's default transport
    # and Grafana: 90s), so that the client, not the server, closes an idle connection: a server closing
    # while the client sends a request on it costs the client "connection reset by peer" and a retry.
    http_idle_timeout_ms: int = field(
        default=10 * 60 * 1000,
        metadata=_doc("how long the REST gateway keeps an idle keep-alive connection open"),
    )
    database_url: str = field(
        default=DEFAULT_URL,
        metadata=_doc(
            "the state: `sqlite:///path` (relative to the working directory) or "
            "`postgresql://user:password@host/db`"
        ),
    )
    data_dir: str = field(
        default="./data",
        metadata=_doc(
            "directory of the embedded time-series store (write-ahead log and snapshots), relative to "
            "the working directory like the default database"
        ),
    )
    snapshot_interval_ms: int = field(
        default=10 * 60 * 1000,
        metadata=_doc(
            "how often the time-series store folds its log into a snapshot", "tsdb.snapshot_interval"
        ),
    )
    tsdb_retention_ms: int = field(
        default=6 * 3600 * 1000, metadata=_doc("how long the embedded store keeps samples", "tsdb.retention")
    )
    tsdb_max_series: int = field(
        default=1_000_000,
        metadata=_doc("how many series the embedded store holds at most", "tsdb.max_series"),
    )
    tsdb_label_limit: int = field(
        default=MAX_LABELS,
        metadata=_doc(
            "most labels of a written series, its name included; a write with a series over any of "
            "the label limits is refused whole, naming the series",
            "tsdb.label_limit",
        ),
    )
    tsdb_label_name_length_limit: int = field(
        default=MAX_LABEL_NAME_LENGTH,
        metadata=_doc(
            "longest label name of a written series, in characters", "tsdb.label_name_length_limit"
        ),
    )
    tsdb_label_value_length_limit: int = field(
        default=MAX_LABEL_VALUE_LENGTH,
        metadata=_doc(
            "longest label value (and metric name) of a written series, in characters",
            "tsdb.label_value_length_limit",
        ),
    )
    external_url: str = field(
        default="",
        metadata=_doc(
            "base URL of the REST gateway as users reach it, for links in notifications; unset: http://<http_listen>"
        ),
    )
    # None: no `auth` section; empty: one without tokens (said at start, being easy to miss).
    tokens: tuple[Token, ...] | None = field(
        default=None,
        metadata=_doc(
            "bearer tokens, a list of `{name, token (16+ characters), scope: read|write|admin}`; "
            "unset: no authentication",
            "auth.tokens",
        ),
    )
    tls: TLSConfig | None = field(
        default=None,
        metadata=_doc(
            "`{cert_file, key_file, client_ca_file}`; with client_ca_file, clients must present a "
            "certificate it signed (mTLS)"
        ),
    )
    shutdown_grace_ms: int = field(
        default=10_000, metadata=_doc("how long in-flight calls may take to finish on SIGTERM")
    )
    max_request_bytes: int = field(default=4 * 1024 * 1024, metadata=_doc("largest request body accepted"))
    grpc_max_concurrent_rpcs: int = field(
        default=1000,
        metadata=_doc(
            "most gRPC calls served at once, open WatchAlerts streams included; past it a call fails "
            "with RESOURCE_EXHAUSTED"
        ),
    )
    http_max_connections: int = field(
        default=1000,
        metadata=_doc(
            "most HTTP connections and requests in flight at once, open event streams (/alerts/watch) "
            "included; past it a request is answered 503"
        ),
    )
    allowed_hosts: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "further host names the REST gateway answers to when it listens on a loopback address "
            "(besides localhost, 127.0.0.1, [::1], the listen host and external_url's host): other "
            "Host headers are refused, against DNS rebinding"
        ),
    )
    datasources: tuple[DatasourceConfig, ...] = field(
        default=(),
        metadata=_doc(
            "Prometheus-compatible sources for rules and queries besides `embedded`, a list of "
            "`{name, url, timeout, bearer_token or basic_auth: {username, password}, headers, "
            "max_response_bytes}`; a source answering with more than max_response_bytes (default "
            f"{DEFAULT_MAX_RESPONSE_BYTES}) fails the query"
        ),
    )
    outbound_deny_private: bool = field(
        default=False,
        metadata=_doc(
            "refuse to connect channels (webhook, Slack, PagerDuty, SMTP) and datasources to loopback "
            "and private addresses (127/8, ::1, 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); off "
            "by default because on-premises installations deliver to internal hosts, turn it on where "
            "untrusted users write channels. Link-local and cloud metadata addresses (169.254/16, "
            "fe80::/10, fd00:ec2::254, 100.100.100.200) are always refused. Checked on the resolved "
            "address of every connection",
            "outbound.deny_private",
        ),
    )
    outbound_deny: tuple[IPNetwork, ...] = field(
        default=(),
        metadata=_doc("more ranges (CIDRs) channels and datasources may not connect to", "outbound.deny"),
    )
    outbound_allow: tuple[IPNetwork, ...] = field(
        default=(),
        metadata=_doc(
            "ranges (CIDRs) channels and datasources may always connect to, over any denial above "
            "(an internal relay with deny_private on, say)",
            "outbound.allow",
        ),
    )
    ack_link_secret: str = field(
        default="",
        metadata=_doc(
            "key that signs acknowledgement links; unset: one is generated and kept in the database"
        ),
    )
    secrets_key: str = field(
        default="",
        metadata=_doc(
            "key that encrypts the secrets stored in the database (channel credentials, the generated "
            "acknowledgement-link key): 32 url-safe base64-encoded bytes; unset: stored in plain text"
        ),
    )
    ack_link_ttl_ms: int = field(
        default=24 * 3600 * 1000, metadata=_doc("how long an acknowledgement link works")
    )
    history_retention_ms: int = field(
        default=30 * 24 * 3600 * 1000, metadata=_doc("how long an alert's history is kept")
    )
    rules_evaluation_interval_ms: int = field(
        default=15_000,
        metadata=_doc("evaluation interval of the rule groups that set none", "rules.evaluation_interval"),
    )
    query_max_samples: int = field(
        default=DEFAULT_MAX_SAMPLES,
        metadata=_doc(
            "most samples one query or rule evaluation may hold in memory at once (Prometheus' "
            "query.max-samples); past it the query fails with `execution` (HTTP 422, RESOURCE_EXHAUSTED)",
            "query.max_samples",
        ),
    )
    query_timeout_ms: int = field(
        default=DEFAULT_TIMEOUT_MS,
        metadata=_doc(
            "how long one query or rule evaluation may run before it is stopped (Prometheus' "
            "query.timeout); then it fails with `timeout` (HTTP 503, DEADLINE_EXCEEDED)",
            "query.timeout",
        ),
    )
    query_enable_features: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "PromQL features Prometheus keeps behind `--enable-feature`, enabled by name: "
            "`promql-experimental-functions` (info, limitk, limit_ratio, sort_by_label, mad_over_time, "
            "ts_of_*_over_time, double_exponential_smoothing, histogram_quantiles...), "
            "`promql-extended-range-selectors` (`rate(x[5m] anchored)`, `increase(x[5m] smoothed)`, "
            "`x smoothed`), "
            "`promql-binop-fill-modifiers` (`a + fill(0) b`, `fill_left(v)`, `fill_right(v)`: a value for "
            "the side with no match), "
            "`use-start-timestamps` (rate, increase, irate and resets read the samples' start times: a "
            "start after the previous sample is a counter reset, a start inside the window replaces "
            "extrapolation to the left, overlapping starts warn; `start_timestamp(selector)`; the store "
            "keeps start times in memory only, not in the WAL or snapshots, and no ingest path supplies "
            "them yet); a query "
            "using a feature not enabled fails to parse, naming the feature. Arithmetic in durations "
            "(`rate(x[5m+1m])`, `x offset -(1m*2)`, `[step()]`, `min_of(range(), 1h)`) is always on, as in "
            "Prometheus 3, and `promql-duration-expr` is accepted and changes nothing",
            "query.enable_features",
        ),
    )
    rules_min_interval_ms: int = field(
        default=1000,
        metadata=_doc(
            "least time between the evaluations of a group that writes of the samples it reads cause, "
            "under load (writes while it evaluates, or evaluations that take long); an idle group "
            "evaluates at once",
            "rules.min_interval",
        ),
    )
    alertmanager_config: str = field(
        default="",
        metadata=_doc(
            "an Alertmanager configuration file (alertmanager.yml) the server loads at start and on "
            "SIGHUP or POST /-/reload: its receivers, routes, inhibit rules, time intervals and "
            "templates, which the API then cannot change"
        ),
    )
    fallback_receiver: str = field(
        default="",
        metadata=_doc(
            "the channel (name or id) that gets the notifications of a receiver that is no channel (a "
            "route naming a receiver no channel carries, say); unset: those are dropped (logged and counted)"
        ),
    )

    limits_max_alerts: int = field(
        default=DEFAULT_MAX_ALERTS,
        metadata=_doc(
            "most alerts the server holds at once, of every state and source (posted, and produced by "
            "rules; resolved ones until they are dropped). Past it a new posted alert is refused "
            "(RESOURCE_EXHAUSTED, HTTP 429, naming how many were refused) and a rule keeps no new alert "
            "(its health error says so); an update of an alert already held is always taken",
            "limits.max_alerts",
        ),
    )
    limits_max_aggregation_groups: int = field(
        default=DEFAULT_MAX_GROUPS,
        metadata=_doc(
            "most aggregation groups at once (Alertmanager's dispatch group limit); an alert that would "
            "open one more is held and listed but not notified, and that is logged and counted in "
            "alerting_aggregation_group_limit_reached_total",
            "limits.max_aggregation_groups",
        ),
    )
    limits_max_watchers: int = field(
        default=DEFAULT_MAX_WATCHERS,
        metadata=_doc(
            "most WatchAlerts streams (the SSE feed included) open at once; one more is refused with "
            "RESOURCE_EXHAUSTED (HTTP 429)",
            "limits.max_watchers",
        ),
    )

    cluster_replica_id: str = field(
        default="",
        metadata=_doc(
            "this replica's name among the replicas of one PostgreSQL database (GET /cluster, lease "
            "holders); unset: `replica-` and a random suffix, new at each start",
            "cluster.replica_id",
        ),
    )
    cluster_advertise_address: str = field(
        default="",
        metadata=_doc(
            "the gRPC address other people reach this replica at, as GET /cluster shows it; unset: the "
            "address gRPC listens on",
            "cluster.advertise_address",
        ),
    )
    cluster_lease_ttl_ms: int = field(
        default=3000,
        metadata=_doc(
            "on PostgreSQL, how long a replica's leases (its share of the rule groups, the alert "
            "pipeline) outlive its last renewal: the longest a dead replica's work waits before another "
            "takes it over. Renewed every third of it",
            "cluster.lease_ttl",
        ),
    )
    cluster_rule_partitions: int = field(
        default=16,
        metadata=_doc(
            "on PostgreSQL, how many leased shares the rule groups are divided into (by a hash of the "
            "group name); each live replica holds about its fair part. Every replica must use the same",
            "cluster.rule_partitions",
        ),
    )
    cluster_pipeline_partitions: int = field(
        default=16,
        metadata=_doc(
            "on PostgreSQL, how many leased shares the alert pipeline is divided into (by a hash of the "
            "labels every route groups by); each live replica decides grouping, muting, escalation and "
            "acknowledgements of about its fair part. Every replica must use the same",
            "cluster.pipeline_partitions",
        ),
    )
    cluster_poll_interval_ms: int = field(
        default=1000,
        metadata=_doc(
            "on PostgreSQL, how often a replica looks for changes other replicas made (configuration, "
            "alerts, watch events) when no notification woke it first: the bound on how late a change "
            "is seen when LISTEN/NOTIFY fails",
            "cluster.poll_interval",
        ),
    )

    @property
    def public_url(self) -> str:
        return self.external_url or f"http://{self.http_listen}"

    @property
    def outbound(self) -> OutboundPolicy:
        return OutboundPolicy(self.outbound_deny_private, self.outbound_deny, self.outbound_allow)


@dataclass(frozen=True)
class Setting:
    """One row of the settings reference."""

    key: str  # in the file; `a.b` is the key b of the map a
    env: str  # the environment variable, or ""
    default: str  # as written in the file, or "" when unset
    meaning: str


def settings() -> list[Setting]:
    """Every setting of Config, from its fields, so that the reference cannot miss one."""
    env_of = {key: name for name, key in _ENV.items()}
    found = []
    for f in fields(Config):
        key = f.metadata.get("key") or f.name.removesuffix("_ms")
        if f.name.endswith("_ms"):
            assert isinstance(f.default, int)
            default = format_duration(f.default)
        elif isinstance(f.default, bool):
            default = str(f.default).lower()  # as YAML writes it
        else:
            default = "" if f.default in ("", None, ()) else str(f.default)
        found.append(Setting(key, env_of.get(key, ""), default, f.metadata.get("doc", "")))
    return found


_ENV = {
    "ALERTING_GRPC_LISTEN": "grpc_listen",
    "ALERTING_HTTP_LISTEN": "http_listen",
    "ALERTING_HTTP_IDLE_TIMEOUT": "http_idle_timeout",
    "ALERTING_DATABASE_URL": "database_url",
    "ALERTING_EXTERNAL_URL": "external_url",
    "ALERTING_DATA_DIR": "data_dir",
    "ALERTING_ACK_LINK_SECRET": "ack_link_secret",
    "ALERTING_SECRETS_KEY": "secrets_key",
    "ALERTING_FALLBACK_RECEIVER": "fallback_receiver",
    "ALERTING_ALERTMANAGER_CONFIG": "alertmanager_config",
    "ALERTING_RULES_EVALUATION_INTERVAL": "rules.evaluation_interval",
    "ALERTING_RULES_MIN_INTERVAL": "rules.min_interval",
    "ALERTING_CLUSTER_REPLICA_ID": "cluster.replica_id",
    "ALERTING_CLUSTER_ADVERTISE_ADDRESS": "cluster.advertise_address",
    "ALERTING_CLUSTER_LEASE_TTL": "cluster.lease_ttl",
}
_SIMPLE_KEYS = {
    "grpc_listen",
    "http_listen",
    "database_url",
    "external_url",
    "data_dir",
    "ack_link_secret",
    "secrets_key",
    "fallback_receiver",
    "alertmanager_config",
}
_KNOWN_KEYS = _SIMPLE_KEYS | {
    "auth",
    "tls",
    "shutdown_grace",
    "http_idle_timeout",
    "max_request_bytes",
    "grpc_max_concurrent_rpcs",
    "http_max_connections",
    "allowed_hosts",
    "datasources",
    "tsdb",
    "ack_link_ttl",
    "history_retention",
    "rules",
    "query",
    "outbound",
    "limits",
    "cluster",
}
# The query engine inside this server; no configured source may take its name.
EMBEDDED_DATASOURCE = "embedded"


def _listen(value: Any, key: str) -> str:
    text = str(value)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{key}: {text!r} is not host:port")
    return text


def _database_url(url: str) -> None:
    try:
        check_url(url)
    except ValueError as exc:
        raise ConfigError(f"database_url: {exc} (sqlite:///path or postgresql://user@host/db)") from None


def _tokens(node: Any) -> tuple[Token, ...]:
    if node is None:
        return ()
    if not isinstance(node, dict) or set(node) - {"tokens"}:
        raise ConfigError("auth: expected a map with the key 'tokens'")
    tokens = []
    for i, item in enumerate(node.get("tokens") or []):
        if not isinstance(item, dict) or set(item) - {"name", "token", "scope"}:
            raise ConfigError(f"auth.tokens[{i}]: expected a map of name, token, scope")
        token, scope = str(item.get("token") or ""), str(item.get("scope") or "read")
        if len(token) < 16:
            raise ConfigError(f"auth.tokens[{i}].token: must be at least 16 characters")
        if scope not in SCOPES:
            raise ConfigError(f"auth.tokens[{i}].scope: must be one of {', '.join(SCOPES)}")
        tokens.append(Token(name=str(item.get("name") or f"token-{i}"), token=token, scope=scope))
    return tuple(tokens)


def _tls(node: Any) -> TLSConfig | None:
    if node is None:
        return None
    if not isinstance(node, dict) or set(node) - {f.name for f in fields(TLSConfig)}:
        raise ConfigError("tls: expected a map of cert_file, key_file, client_ca_file")
    if not node.get("cert_file") or not node.get("key_file"):
        raise ConfigError("tls: cert_file and key_file are required")
    for key in ("cert_file", "key_file", "client_ca_file"):
        if node.get(key) and not Path(node[key]).is_file():
            raise ConfigError(f"tls.{key}: no such file {node[key]!r}")
    return TLSConfig(str(node["cert_file"]), str(node["key_file"]), str(node.get("client_ca_file") or ""))


def _allowed_hosts(node: Any) -> tuple[str, ...]:
    if not isinstance(node, list) or not all(isinstance(h, str) and h for h in node):
        raise ConfigError("allowed_hosts: expected a list of host names")
    return tuple(h.lower() for h in node)


def _datasource(item: Any, key: str) -> DatasourceConfig:
    allowed = {f.name for f in fields(DatasourceConfig)} - {"timeout_ms"} | {"timeout"}
    if not isinstance(item, dict) or set(item) - allowed:
        raise ConfigError(f"{key}: expected a map of {', '.join(sorted(allowed))}")
    name = str(item.get("name") or "")
    if not name:
        raise ConfigError(f"{key}.name: required")
    url = str(item.get("url") or "")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key}.url: {url!r} is not an http:// or https:// URL")
    basic = item.get("basic_auth")
    if basic is not None and (
        not isinstance(basic, dict) or set(basic) != {"username", "password"} or not basic["username"]
    ):
        raise ConfigError(f"{key}.basic_auth: expected a map of username and password")
    bearer = str(item.get("bearer_token") or "")
    if bearer and basic is not None:
        raise ConfigError(f"{key}: at most one of bearer_token and basic_auth")
    headers = item.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise ConfigError(f"{key}.headers: expected a map of header names to strings")
    if (bearer or basic is not None) and "authorization" in {str(h).lower() for h in headers}:
        raise ConfigError(f"{key}.headers.Authorization: conflicts with bearer_token or basic_auth")
    max_response_bytes = DEFAULT_MAX_RESPONSE_BYTES
    if "max_response_bytes" in item:
        max_response_bytes = _positive_int(item["max_response_bytes"], f"{key}.max_response_bytes")
    timeout_ms = 30_000
    if "timeout" in item:
        try:
            timeout_ms = parse_duration(str(item["timeout"]))
        except ValueError as exc:
            raise ConfigError(f"{key}.timeout: {exc}") from None
        if timeout_ms <= 0:
            raise ConfigError(f"{key}.timeout: must be positive")
    return DatasourceConfig(
        name=name,
        url=url,
        bearer_token=bearer,
        basic_auth=None if basic is None else BasicAuth(str(basic["username"]), str(basic["password"])),
        timeout_ms=timeout_ms,
        headers=tuple((str(k), v) for k, v in headers.items()),
        max_response_bytes=max_response_bytes,
    )


def _datasources(node: Any) -> tuple[DatasourceConfig, ...]:
    if node is None:
        return ()
    if not isinstance(node, list):
        raise ConfigError("datasources: expected a list")
    sources: list[DatasourceConfig] = []
    for i, item in enumerate(node):
        source = _datasource(item, f"datasources[{i}]")
        if source.name == EMBEDDED_DATASOURCE:
            raise ConfigError(f"datasources[{i}].name: {EMBEDDED_DATASOURCE!r} is the built-in datasource")
        if any(s.name == source.name for s in sources):
            raise ConfigError(f"datasources[{i}].name: {source.name!r} is already taken")
        sources.append(source)
    return tuple(sources)


def from_mapping(doc: Mapping[str, Any], base: Config | None = None) -> Config:
    unknown = set(doc) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(f"unknown configuration key(s): {', '.join(sorted(unknown))}")
    config = base or Config()
    changes: dict[str, Any] = {}
    for key in _SIMPLE_KEYS & set(doc):
        changes[key] = _listen(doc[key], key) if key.endswith("_listen") else str(doc[key])
    if "database_url" in changes:
        _database_url(changes["database_url"])
    if changes.get("secrets_key"):
        try:
            check_key(changes["secrets_key"])
        except ValueError as exc:
            raise ConfigError(f"secrets_key: {exc}") from None
    if "auth" in doc:
        changes["tokens"] = _tokens(doc["auth"])
    if "tls" in doc:
        changes["tls"] = _tls(doc["tls"])
    if "datasources" in doc:
        changes["datasources"] = _datasources(doc["datasources"])
    if "shutdown_grace" in doc:
        changes["shutdown_grace_ms"] = _duration(doc["shutdown_grace"], "shutdown_grace")
    if "http_idle_timeout" in doc:
        changes["http_idle_timeout_ms"] = _duration(doc["http_idle_timeout"], "http_idle_timeout")
    if "max_request_bytes" in doc:
        changes["max_request_bytes"] = _positive_int(doc["max_request_bytes"], "max_request_bytes")
    for key in ("grpc_max_concurrent_rpcs", "http_max_connections"):
        if key in doc:
            changes[key] = _positive_int(doc[key], key)
    if "allowed_hosts" in doc:
        changes["allowed_hosts"] = _allowed_hosts(doc["allowed_hosts"])
    if "tsdb" in doc:
        changes.update(_tsdb(doc["tsdb"]))
    if "ack_link_ttl" in doc:
        changes["ack_link_ttl_ms"] = _duration(doc["ack_link_ttl"], "ack_link_ttl")
    if "history_retention" in doc:
        changes["history_retention_ms"] = _duration(doc["history_retention"], "history_retention")
    if "rules" in doc:
        changes.update(_rules(doc["rules"]))
    if "query" in doc:
        changes.update(_query(doc["query"]))
    if "outbound" in doc:
        changes.update(_outbound(doc["outbound"]))
    if "limits" in doc:
        changes.update(_limits(doc["limits"]))
    if "cluster" in doc:
        changes.update(_cluster(doc["cluster"]))
    return replace(config, **changes)


def _duration(value: Any, key: str) -> int:
    try:
        ms = parse_duration(str(value))
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None
    if ms <= 0:
        raise ConfigError(f"{key}: must be longer than 0s")
    return ms


def _positive_int(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{key}: must be a positive integer")
    return value


def _tsdb(node: Any) -> dict[str, int]:
    keys = {
        "retention": "tsdb_retention_ms",
        "max_series": "tsdb_max_series",
        "snapshot_interval": "snapshot_interval_ms",
        "label_limit": "tsdb_label_limit",
        "label_name_length_limit": "tsdb_label_name_length_limit",
        "label_value_length_limit": "tsdb_label_value_length_limit",
    }
    if not isinstance(node, dict) or set(node) - set(keys):
        raise ConfigError(f"tsdb: expected a map of {', '.join(keys)}")
    changes = {}
    for key, value in node.items():
        path = f"tsdb.{key}"
        is_duration = keys[key].endswith("_ms")
        changes[keys[key]] = _duration(value, path) if is_duration else _positive_int(value, path)
    return changes


def _rules(node: Any) -> dict[str, int]:
    keys = {"evaluation_interval": "rules_evaluation_interval_ms", "min_interval": "rules_min_interval_ms"}
    if not isinstance(node, dict) or set(node) - set(keys):
        raise ConfigError(f"rules: expected a map of {', '.join(keys)}")
    return {keys[key]: _duration(value, f"rules.{key}") for key, value in node.items()}


def _query(node: Any) -> dict[str, Any]:
    keys = {
        "max_samples": "query_max_samples",
        "timeout": "query_timeout_ms",
        "enable_features": "query_enable_features",
    }
    if not isinstance(node, dict) or set(node) - set(keys):
        raise ConfigError(f"query: expected a map of {', '.join(keys)}")
    changes: dict[str, Any] = {}
    for key, value in node.items():
        if key == "max_samples":
            changes[keys[key]] = _positive_int(value, f"query.{key}")
        elif key == "timeout":
            changes[keys[key]] = _duration(value, f"query.{key}")
        else:
            changes[keys[key]] = _features(value, f"query.{key}")
    return changes


def _features(value: Any, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ConfigError(f"{key}: expected a list of feature names")
    for name in value:
        if name not in KNOWN_FEATURES:
            raise ConfigError(f"{key}: unknown feature {name!r} (known: {', '.join(sorted(KNOWN_FEATURES))})")
    return tuple(dict.fromkeys(value))


def _outbound(node: Any) -> dict[str, Any]:
    if not isinstance(node, dict) or set(node) - {"deny_private", "deny", "allow"}:
        raise ConfigError("outbound: expected a map of deny_private, deny, allow")
    changes: dict[str, Any] = {}
    if "deny_private" in node:
        if not isinstance(node["deny_private"], bool):
            raise ConfigError("outbound.deny_private: must be true or false")
        changes["outbound_deny_private"] = node["deny_private"]
    for key in ("deny", "allow"):
        if key in node:
            changes[f"outbound_{key}"] = _networks(node[key], f"outbound.{key}")
    return changes


def _networks(value: Any, key: str) -> tuple[IPNetwork, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of CIDRs")
    networks = []
    for i, item in enumerate(value):
        try:
            networks.append(ip_network(str(item)))
        except ValueError as exc:
            raise ConfigError(f"{key}[{i}]: {exc}") from None
    return tuple(networks)


def _limits(node: Any) -> dict[str, int]:
    keys = {
        "max_alerts": "limits_max_alerts",
        "max_aggregation_groups": "limits_max_aggregation_groups",
        "max_watchers": "limits_max_watchers",
    }
    if not isinstance(node, dict) or set(node) - set(keys):
        raise ConfigError(f"limits: expected a map of {', '.join(keys)}")
    return {keys[key]: _positive_int(value, f"limits.{key}") for key, value in node.items()}


def _cluster(node: Any) -> dict[str, Any]:
    keys = {
        "replica_id": "cluster_replica_id",
        "advertise_address": "cluster_advertise_address",
        "lease_ttl": "cluster_lease_ttl_ms",
        "rule_partitions": "cluster_rule_partitions",
        "pipeline_partitions": "cluster_pipeline_partitions",
        "poll_interval": "cluster_poll_interval_ms",
    }
    if not isinstance(node, dict) or set(node) - set(keys):
        raise ConfigError(f"cluster: expected a map of {', '.join(keys)}")
    changes: dict[str, Any] = {}
    for key, value in node.items():
        path = f"cluster.{key}"
        if key in ("replica_id", "advertise_address"):
            if not isinstance(value, str) or not value.strip() or len(value) > 255:
                raise ConfigError(f"{path}: expected a non-empty string of at most 255 characters")
            changes[keys[key]] = value.strip()
        elif key in ("rule_partitions", "pipeline_partitions"):
            changes[keys[key]] = _positive_int(value, path)
        else:
            changes[keys[key]] = _duration(value, path)
    if changes.get("cluster_lease_ttl_ms", 3000) < 300:
        raise ConfigError("cluster.lease_ttl: must be at least 300ms")
    return changes


def _nested(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Settings from the environment and flags as the file has them: `rules.min_interval` under `rules`."""
    doc: dict[str, Any] = {}
    for key, value in flat.items():
        section, dot, name = key.partition(".")
        if dot:
            doc.setdefault(section, {})[name] = value
        else:
            doc[key] = value
    return doc


def load(
    path: str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, str | None] | None = None,
) -> Config:
    """The effective configuration; ConfigError names the bad key."""
    config = Config()
    if path:
        try:
            doc = yaml.safe_load(Path(path).read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {yamlerrors.describe(exc)}") from None
        if doc is not None and not isinstance(doc, dict):
            raise ConfigError(f"config file {path}: expected a map at the top level")
        config = from_mapping(doc or {}, config)
    env = os.environ if env is None else env
    from_env = {key: env[name] for name, key in _ENV.items() if env.get(name)}
    from_flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    return from_mapping(_nested({**from_env, **from_flags}), config)
