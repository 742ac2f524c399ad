from __future__ import annotations

from pathlib import Path

import pytest

from alerting_server import config
from alerting_server.auth import Authenticator, Token, required_scope
from alerting_server.errors import PermissionDenied, Unauthenticated


def test_defaults_need_no_configuration() -> None:
    c = config.load(None, env={})
    assert (c.grpc_listen, c.http_listen) == ("127.0.0.1:50051", "127.0.0.1:8080")
    assert c.database_url == "sqlite+aiosqlite:///./alerting.db"
    assert c.tokens is None


def test_flags_win_over_environment_over_file(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("grpc_listen: 0.0.0.0:1\nhttp_listen: 0.0.0.0:2\ndatabase_url: sqlite:///file.db\n")
    env = {"ALERTING_HTTP_LISTEN": "127.0.0.1:3", "ALERTING_DATABASE_URL": "sqlite:///env.db"}
    c = config.load(str(f), env=env, overrides={"database_url": "sqlite:///flag.db", "grpc_listen": None})
    assert c.grpc_listen == "0.0.0.0:1"
    assert c.http_listen == "127.0.0.1:3"
    assert c.database_url == "sqlite:///flag.db"


def test_exposure_settings(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(
        "grpc_max_concurrent_rpcs: 50\nhttp_max_connections: 60\nallowed_hosts: [Alerting.Internal]\n"
        "auth: {tokens: []}\n"
    )
    c = config.load(str(f), env={})
    assert (c.grpc_max_concurrent_rpcs, c.http_max_connections) == (50, 60)
    assert c.allowed_hosts == ("alerting.internal",)
    # Said at start: an auth section without tokens is easy to take for authentication.
    assert c.tokens == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("grpc_listen: nowhere\n", "grpc_listen"),
        ("colour: blue\n", "colour"),
        ("auth: {tokens: [{token: short}]}\n", "auth.tokens[0].token"),
        ("auth: {tokens: [{token: 0123456789abcdef, scope: root}]}\n", "auth.tokens[0].scope"),
        ("tls: {cert_file: /nope.pem, key_file: /nope.key}\n", "tls.cert_file"),
        ("shutdown_grace: soon\n", "shutdown_grace"),
        ("shutdown_grace: 0s\n", "shutdown_grace"),
        ("max_request_bytes: true\n", "max_request_bytes"),
        ("http_idle_timeout: 0s\n", "http_idle_timeout"),
        ("http_idle_timeout: a while\n", "http_idle_timeout"),
        ("grpc_max_concurrent_rpcs: 0\n", "grpc_max_concurrent_rpcs"),
        ("http_max_connections: many\n", "http_max_connections"),
        ("allowed_hosts: alerting.internal\n", "allowed_hosts"),
        ("allowed_hosts: ['']\n", "allowed_hosts"),
        ("tsdb: {retention: forever}\n", "tsdb.retention"),
        ("tsdb: {max_series: -1}\n", "tsdb.max_series"),
        ("tsdb: {shards: 2}\n", "tsdb: expected"),
        ("rules: {evaluation_interval: soon}\n", "rules.evaluation_interval"),
        ("rules: {evaluation_interval: 0s}\n", "rules.evaluation_interval"),
        ("rules: {min_interval: 0s}\n", "rules.min_interval"),
        ("rules: {min_interval: -1s}\n", "rules.min_interval"),
        ("rules: {interval: 1m}\n", "rules: expected"),
        ("rules: 15s\n", "rules: expected"),
        ("query: {enable_features: promql-experimental-functions}\n", "query.enable_features"),
        ("query: {enable_features: [promql-delayed-name-removal]}\n", "query.enable_features: unknown"),
        ("- a list\n", "top level"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(config.ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        config.load(str(f), env={})


def test_scopes_of_methods() -> None:
    assert required_scope("/alerting.v1.RuleService/ListRules") == "read"
    assert required_scope("/alerting.v1.AlertService/WatchAlerts") == "read"
    assert required_scope("/alerting.v1.ClusterService/GetCluster") == "read"
    assert required_scope("/alerting.v1.RuleService/CreateRule") == "write"
    assert required_scope("/alerting.v1.AckService/Acknowledge") == "write"
    assert required_scope("/alerting.v1.RoutingService/UpdateRouting") == "admin"
    # Which receivers an alert would reach: a question, answered to any reader.
    assert required_scope("/alerting.v1.RoutingService/TestRoutes") == "read"
    assert required_scope("/alerting.v1.ChannelService/TestChannel") == "write"
    # A signed acknowledgement link carries its own authentication.
    assert required_scope("/alerting.v1.AckService/AcknowledgeByToken") is None
    assert required_scope("/alerting.v1.AckService/Acknowledge") == "write"


def test_authenticator() -> None:
    auth = Authenticator((Token("ro", "r" * 16, "read"), Token("root", "a" * 16, "admin")))
    with pytest.raises(Unauthenticated):
        auth.check("", "/alerting.v1.RuleService/ListRules")
    with pytest.raises(Unauthenticated):
        auth.check("Bearer " + "x" * 16, "/alerting.v1.RuleService/ListRules")
    ro = auth.check("Bearer " + "r" * 16, "/alerting.v1.RuleService/ListRules")
    assert ro is not None
    assert ro.name == "ro"
    assert auth.check("", "/alerting.v1.AckService/GetAckToken") is None
    with pytest.raises(PermissionDenied, match="needs 'write'"):
        auth.check("Bearer " + "r" * 16, "/alerting.v1.RuleService/CreateRule")
    root = auth.check("bearer " + "a" * 16, "/alerting.v1.RoutingService/UpdateRouting")
    assert root is not None
    assert root.name == "root"


def test_tsdb_settings(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("tsdb: {retention: 2h, max_series: 500, snapshot_interval: 1m}\n")
    c = config.load(str(f), env={})
    assert (c.tsdb_retention_ms, c.tsdb_max_series, c.snapshot_interval_ms) == (7_200_000, 500, 60_000)


def test_query_features(tmp_path: Path) -> None:
    assert config.load(None, env={}).query_enable_features == ()
    f = tmp_path / "c.yaml"
    f.write_text("query: {enable_features: [promql-experimental-functions], max_samples: 10}\n")
    c = config.load(str(f), env={})
    assert c.query_enable_features == ("promql-experimental-functions",)
    assert c.query_max_samples == 10


def test_rules_settings(tmp_path: Path) -> None:
    defaults = config.load(None, env={})
    assert (defaults.rules_evaluation_interval_ms, defaults.rules_min_interval_ms) == (15_000, 1000)
    f = tmp_path / "c.yaml"
    f.write_text("rules: {evaluation_interval: 1m, min_interval: 5s}\n")
    c = config.load(str(f), env={})
    assert (c.rules_evaluation_interval_ms, c.rules_min_interval_ms) == (60_000, 5000)


def test_rules_settings_from_flags_over_environment_over_file(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("rules: {evaluation_interval: 1m, min_interval: 5s}\n")
    env = {"ALERTING_RULES_EVALUATION_INTERVAL": "30s", "ALERTING_RULES_MIN_INTERVAL": "2s"}
    c = config.load(str(f), env=env, overrides={"rules.evaluation_interval": None})
    assert (c.rules_evaluation_interval_ms, c.rules_min_interval_ms) == (30_000, 2000)
    c = config.load(str(f), env=env, overrides={"rules.min_interval": "500ms"})
    assert (c.rules_evaluation_interval_ms, c.rules_min_interval_ms) == (30_000, 500)
    # One key from the environment leaves the file's other key alone.
    c = config.load(str(f), env={"ALERTING_RULES_MIN_INTERVAL": "3s"})
    assert (c.rules_evaluation_interval_ms, c.rules_min_interval_ms) == (60_000, 3000)


def test_bad_rules_settings_from_environment_and_flags_name_the_key() -> None:
    with pytest.raises(config.ConfigError, match=r"rules\.min_interval: must be longer than 0s"):
        config.load(None, env={"ALERTING_RULES_MIN_INTERVAL": "0s"})
    with pytest.raises(config.ConfigError, match=r"rules\.evaluation_interval"):
        config.load(None, env={}, overrides={"rules.evaluation_interval": "often"})


def test_fallback_receiver_from_flag_over_environment_over_file(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text("fallback_receiver: file-channel\n")
    assert config.load(str(f), env={}).fallback_receiver == "file-channel"
    env = {"ALERTING_FALLBACK_RECEIVER": "env-channel"}
    assert config.load(str(f), env=env).fallback_receiver == "env-channel"
    c = config.load(str(f), env=env, overrides={"fallback_receiver": "flag-channel"})
    assert c.fallback_receiver == "flag-channel"
    assert config.load(None, env={}).fallback_receiver == ""


def test_http_idle_timeout_outlasts_the_clients_and_is_configurable(tmp_path: Path) -> None:
    # Prometheus' remote-write client keeps idle connections 5 minutes; the server must keep them longer.
    assert config.load(None, env={}).http_idle_timeout_ms > 5 * 60 * 1000
    f = tmp_path / "c.yaml"
    f.write_text("http_idle_timeout: 15m\n")
    assert config.load(str(f), env={}).http_idle_timeout_ms == 900_000
    env = {"ALERTING_HTTP_IDLE_TIMEOUT": "20m"}
    assert config.load(str(f), env=env).http_idle_timeout_ms == 1_200_000
    c = config.load(str(f), env=env, overrides={"http_idle_timeout": "30m"})
    assert c.http_idle_timeout_ms == 1_800_000


def test_by_default_no_held_alert_goes_unnotified_for_want_of_a_group() -> None:
    c = config.load(None, env={})
    assert c.limits_max_aggregation_groups >= c.limits_max_alerts


def test_alertmanager_config_from_flag_over_environment_over_file(tmp_path: Path) -> None:
    f = tmp_path / "alerting.yaml"
    f.write_text("alertmanager_config: /etc/alertmanager/alertmanager.yml\n")
    assert config.load(str(f), env={}).alertmanager_config == "/etc/alertmanager/alertmanager.yml"
    env = {"ALERTING_ALERTMANAGER_CONFIG": "/env/am.yml"}
    assert config.load(str(f), env=env).alertmanager_config == "/env/am.yml"
    c = config.load(str(f), env=env, overrides={"alertmanager_config": "/flag/am.yml"})
    assert c.alertmanager_config == "/flag/am.yml"
    assert config.load(None, env={}).alertmanager_config == ""
