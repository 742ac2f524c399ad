"""Wiring: the store, the servicers, the gRPC server and the REST gateway, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import math
import os
import secrets
import signal
import ssl
import tempfile
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import grpc
import uvicorn
from grpc import aio
from grpc_health.v1 import health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from alerting.services import SERVICE_NAMES
from alerting.v1 import (
    ack_service_pb2_grpc,
    alert_service_pb2_grpc,
    channel_service_pb2_grpc,
    cluster_service_pb2_grpc,
    config_service_pb2_grpc,
    escalation_policy_service_pb2_grpc,
    metrics_service_pb2_grpc,
    routing_service_pb2_grpc,
    rule_service_pb2_grpc,
    schedule_service_pb2_grpc,
    silence_service_pb2_grpc,
    time_interval_service_pb2_grpc,
    user_service_pb2_grpc,
)
from alerting_server.ack import AckLinks, Acknowledgements
from alerting_server.ack.secret import ack_link_secret
from alerting_server.alerts.watch import DEFAULT_RETAINED_EVENTS, WatchHub
from alerting_server.amconfig import ConfigError
from alerting_server.amconfig.service import AlertmanagerConfigs
from alerting_server.api import servicers
from alerting_server.api.alerts import AlertServicer
from alerting_server.api.cluster import ClusterServicer, lone_replica
from alerting_server.api.config import ConfigServicer
from alerting_server.api.interceptors import AuthInterceptor, ErrorInterceptor
from alerting_server.api.metrics import MetricsServicer, SampleLimits
from alerting_server.api.people import ScheduleServicer, UserServicer
from alerting_server.auth import Authenticator
from alerting_server.clock import Clock, SystemClock
from alerting_server.cluster.follower import WatchFollower
from alerting_server.cluster.node import ClusterNode
from alerting_server.config import Config, TLSConfig
from alerting_server.errors import FailedPrecondition, Unauthenticated
from alerting_server.health import HealthMonitor, Readiness
from alerting_server.notify.service import DeliveryOptions, DeliveryService
from alerting_server.oncall.calendar_links import CalendarLinks
from alerting_server.pipeline import AlertPipeline
from alerting_server.query.datasources import Datasources
from alerting_server.query.durable import DurableTSDB
from alerting_server.query.engine import Engine
from alerting_server.query.limits import QueryLimits
from alerting_server.rules.manager import RuleManager
from alerting_server.rules.vector import engine_query_func
from alerting_server.store import DatabaseUnavailable, Store
from alerting_server.store.crypto import SecretsKeyError
from alerting_server.tasks import cancel
from gateway import create_app
from gateway.guard import host_name, is_loopback, own_names
from gateway.local import LocalServer

log = logging.getLogger(__name__)


class StartError(Exception):
    """A part the server needs is not there; the message names it (never with its password)."""


class _GatewayServer(uvicorn.Server):
    """uvicorn without its own signal handling: the application owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)


def _server_credentials(tls: TLSConfig) -> grpc.ServerCredentials:
    ca = Path(tls.client_ca_file).read_bytes() if tls.client_ca_file else None
    return grpc.ssl_server_credentials(
        [(Path(tls.key_file).read_bytes(), Path(tls.cert_file).read_bytes())],
        root_certificates=ca,
        require_client_auth=ca is not None,
    )


def security_warnings(config: Config) -> list[str]:
    """What the configuration leaves open, said at start."""
    warnings = []
    if config.tokens == ():
        warnings.append("auth.tokens is empty: authentication is off")
    for name, listen in (("grpc_listen", config.grpc_listen), ("http_listen", config.http_listen)):
        host, _ = _split_listen(listen)
        if is_loopback(host):
            continue
        if not config.tokens:
            warnings.append(f"{name} {listen} is not a loopback address and authentication is off")
        if config.tls is None:
            warnings.append(f"{name} {listen} is not a loopback address and TLS is off: traffic is in clear")
    return warnings


def _token_scope(authenticator: Authenticator) -> Callable[[str], str | None]:
    def token_scope(authorization: str) -> str | None:
        try:
            return authenticator.identify(authorization).scope
        except Unauthenticated:
            return None

    return token_scope


def _authenticate(authenticator: Authenticator) -> Callable[[str], str | None]:
    def authenticate(authorization: str) -> str | None:
        try:
            authenticator.identify(authorization)
        except Unauthenticated as exc:
            return exc.message
        return None

    return authenticate


def _replica_id(config: Config) -> str:
    # Random, as Alertmanager's peer names are: the name is shown to every reader of
    # /api/v2/status, which must not learn the host's name from it.
    return config.cluster_replica_id or f"replica-{secrets.token_hex(4)}"


@dataclass
class Addresses:
    grpc: str
    http: str


class DeliveryConfigListener:
    """Told of the writes that may change where and how notifications go (channels, users' contact
    methods, template files, a configuration file): the alert pipeline reads its configuration again,
    and the delivery side its channels and template files, both before the write is answered."""

    def __init__(self, pipeline: AlertPipeline, deliveries: DeliveryService) -> None:
        self._pipeline = pipeline
        self._deliveries = deliveries

    async def reload(self) -> None:
        await self._pipeline.reload()
        await self._deliveries.reload_channels()


class AlertingApp:
    """One running server. start() binds both ports; stop() drains and flushes."""

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self._store: Store | None = None
        self._grpc: aio.Server | None = None
        self._health = Readiness()
        self._monitor: HealthMonitor | None = None
        self._http: _GatewayServer | None = None
        self._http_task: asyncio.Task[None] | None = None
        self._gateway_channel: aio.Channel | None = None
        self._local: LocalServer | None = None
        self._socket_dir = tempfile.TemporaryDirectory(prefix="alerting-")
        self.addresses = Addresses(grpc="", http="")
        self._tsdb: DurableTSDB | None = None
        self._snapshots: asyncio.Task[None] | None = None
        self._alerts: AlertPipeline | None = None
        self._deliveries: DeliveryService | None = None
        self._delivery_config: DeliveryConfigListener | None = None
        self._datasources: Datasources | None = None
        self._rules: RuleManager | None = None
        self._calendar_links: CalendarLinks | None = None
        self._links: AckLinks | None = None
        self._cluster: ClusterNode | None = None
        self._started_at = 0
        self.alertmanager_configs: AlertmanagerConfigs | None = None

    @property
    def store(self) -> Store:
        assert self._store is not None, "start() first"
        return self._store

    @property
    def tsdb(self) -> DurableTSDB:
        assert self._tsdb is not None, "start() first"
        return self._tsdb

    @property
    def datasources(self) -> Datasources:
        assert self._datasources is not None, "start() first"
        return self._datasources

    async def start(self) -> None:
        self._started_at = self.clock.now_ms()
        for warning in security_warnings(self.config):
            log.warning("%s", warning)
        # On PostgreSQL a transaction idle for a lease TTL is ended by the database: this replica was
        # cut off or stalled mid-write, and the leases its fence locks must not wait for TCP to notice.
        self._store = await Store.open(
            self.config.database_url,
            self.config.secrets_key,
            idle_transaction_ms=self.config.cluster_lease_ttl_ms,
        )
        try:
            await self._store.start(self.clock.now_ms())
        except (DatabaseUnavailable, SecretsKeyError) as exc:
            raise StartError(str(exc)) from None
        if not self.config.secrets_key:
            log.warning(
                "secrets_key is not set: channel credentials and the acknowledgement-link key are "
                "stored unencrypted in the database"
            )
        secret = await ack_link_secret(self._store, self.config.ack_link_secret, self.clock.now_ms())
        self._links = AckLinks(secret, self.config.public_url, self.config.ack_link_ttl_ms)
        self._calendar_links = CalendarLinks(secret, self.config.public_url)
        hub = WatchHub(max_subscribers=self.config.limits_max_watchers)
        delivery_options = DeliveryOptions(external_url=self.config.public_url, outbound=self.config.outbound)
        if self._store.engine.dialect.name == "postgresql":
            # Several replicas may share this database: they are one system (cluster/).
            self._cluster = self._cluster_node(self._store, hub)
            ttl = self.config.cluster_lease_ttl_ms
            # A dead replica's notifications are due again when their lease ends: within the lease TTL.
            # Channels and template files are read again every 2 s: a pooler may keep the NOTIFY of
            # another replica's change from arriving.
            delivery_options = dataclasses.replace(
                delivery_options, lease_ms=ttl, poll_ms=min(1000, ttl // 3), channels_refresh_ms=2000
            )
        self._alerts = AlertPipeline(
            self._store,
            self.clock,
            hub,
            history_retention_ms=self.config.history_retention_ms,
            links=self._links,
            fallback_receiver=self.config.fallback_receiver,
            max_alerts=self.config.limits_max_alerts,
            max_groups=self.config.limits_max_aggregation_groups,
            cluster=self._cluster,
        )
        await self._alerts.start()
        self._deliveries = DeliveryService(self._store, self.clock, delivery_options)
        self._delivery_config = DeliveryConfigListener(self._alerts, self._deliveries)
        self.alertmanager_configs = AlertmanagerConfigs(
            self._store,
            self.clock,
            self._delivery_config,
            self.config.alertmanager_config,
            self.config.outbound,
        )
        if self.config.alertmanager_config:
            try:
                await self.alertmanager_configs.reload()
            except (ConfigError, FailedPrecondition, OSError, UnicodeDecodeError) as exc:
                # As Alertmanager: a configuration that does not load stops the start.
                raise StartError(f"alertmanager_config {self.config.alertmanager_config}: {exc}") from None
        await self._deliveries.start()
        self._alerts.on_queued = self._deliveries.wake
        self._tsdb = await asyncio.to_thread(
            DurableTSDB,
            Path(self.config.data_dir) / "tsdb",
            retention_ms=self.config.tsdb_retention_ms,
            max_series=self.config.tsdb_max_series,
        )
        self._snapshots = asyncio.create_task(self._snapshot_loop(self._tsdb))
        local = Engine(
            self._tsdb,
            limits=QueryLimits(self.config.query_max_samples, self.config.query_timeout_ms),
            features=frozenset(self.config.query_enable_features),
        )
        self._datasources = Datasources.from_config(local, self.config.datasources, self.config.outbound)
        query = engine_query_func(local)
        self._rules = RuleManager(
            self._store.rules,
            query,
            self._datasources,
            self._tsdb,
            self._alerts,
            self.clock,
            min_interval_ms=self.config.rules_min_interval_ms,
            default_interval_ms=self.config.rules_evaluation_interval_ms,
            partition_of=None if self._cluster is None else self._cluster.partition_of,
        )
        await self._rules.start()
        if self._cluster is not None:
            self._cluster.attach(self._alerts, self._rules, self._deliveries.wake)
            # The channels and the notification template files, as soon as another replica changes them.
            self._cluster.notifications.on("alerting_config", self._deliveries.config_changed)
            await self._cluster.follow()
        await self._start_grpc(
            self._store, self._tsdb, self._datasources, self._alerts, self._delivery_config
        )
        await self._start_http()
        if self._cluster is not None:
            advertised = self.config.cluster_advertise_address or self.addresses.grpc
            await self._cluster.join(advertised, self.addresses.http)
            log.info("replica %s joined the cluster", self._cluster.replica)
        log.info("serving gRPC on %s and HTTP on %s", self.addresses.grpc, self.addresses.http)

    def _cluster_node(self, store: Store, hub: WatchHub) -> ClusterNode:
        config = self.config
        replica = _replica_id(config)
        return ClusterNode(
            store,
            WatchFollower(store.watch_log, hub, config.cluster_poll_interval_ms, DEFAULT_RETAINED_EVENTS),
            replica=replica,
            started_at=self._started_at,
            ttl_ms=config.cluster_lease_ttl_ms,
            partitions=config.cluster_rule_partitions,
            pipeline_partitions=config.cluster_pipeline_partitions,
            poll_ms=config.cluster_poll_interval_ms,
        )

    def _cluster_servicer(self, store: Store) -> ClusterServicer:
        if self._cluster is not None:
            return ClusterServicer(store.cluster.replicas, self._cluster.replica)
        # One process on SQLite is the whole system: it shows itself alone.
        replica = _replica_id(self.config)

        def addresses() -> tuple[str, str]:
            return self.config.cluster_advertise_address or self.addresses.grpc, self.addresses.http

        return ClusterServicer(lone_replica(replica, addresses, self._started_at, self.clock), replica)

    async def _snapshot_loop(self, tsdb: DurableTSDB) -> None:
        while True:
            await asyncio.sleep(self.config.snapshot_interval_ms / 1000)
            try:
                # In a thread: writing a large store's snapshot takes long, and appends go on meanwhile.
                await asyncio.to_thread(tsdb.snapshot, self.clock.now_ms())
            except OSError:
                log.exception("time-series snapshot failed; the write-ahead log still holds every sample")

    async def _start_grpc(
        self,
        store: Store,
        tsdb: DurableTSDB,
        datasources: Datasources,
        alerts: AlertPipeline,
        delivery_config: DeliveryConfigListener,
    ) -> None:
        interceptors: list[ErrorInterceptor | AuthInterceptor] = [ErrorInterceptor()]
        authenticator = Authenticator(self.config.tokens or ())
        if authenticator.enabled:
            interceptors.append(AuthInterceptor(authenticator))
        server = aio.server(
            interceptors=interceptors,
            options=[("grpc.max_receive_message_length", self.config.max_request_bytes)],
            maximum_concurrent_rpcs=self.config.grpc_max_concurrent_rpcs,
        )
        clock = self.clock
        rules = servicers.RuleServicer(store, clock, self._rules)
        alert_servicer = AlertServicer(alerts, store)
        channels = servicers.ChannelServicer(
            store, clock, delivery_config, self._deliveries, outbound=self.config.outbound
        )
        acks = servicers.AckServicer(Acknowledgements(alerts, clock, self._links, store.history), alerts)
        silences = servicers.SilenceServicer(store, clock, alerts)
        routing = servicers.RoutingServicer(store, clock, alerts)
        policies = servicers.EscalationPolicyServicer(store, clock, alerts)
        time_intervals = servicers.TimeIntervalServicer(store, clock, alerts)
        users = UserServicer(store, clock, delivery_config, outbound=self.config.outbound)
        schedules = ScheduleServicer(store, clock, alerts, self._calendar_links)
        limits = SampleLimits(
            labels=self.config.tsdb_label_limit,
            name_length=self.config.tsdb_label_name_length_limit,
            value_length=self.config.tsdb_label_value_length_limit,
        )
        metrics = MetricsServicer(tsdb, datasources, clock, self._rules, limits)
        cluster = self._cluster_servicer(store)
        assert self.alertmanager_configs is not None
        configs = ConfigServicer(store, self.alertmanager_configs)
        # The gateway of this process calls the same servicers, through the same interceptors,
        # without the transport (gateway/local.py).
        local = self._local = LocalServer(interceptors)
        # The generated functions take any object with the server's two registration methods.
        for target in (server, cast(aio.Server, local)):
            rule_service_pb2_grpc.add_RuleServiceServicer_to_server(rules, target)
            alert_service_pb2_grpc.add_AlertServiceServicer_to_server(alert_servicer, target)
            channel_service_pb2_grpc.add_ChannelServiceServicer_to_server(channels, target)
            ack_service_pb2_grpc.add_AckServiceServicer_to_server(acks, target)
            silence_service_pb2_grpc.add_SilenceServiceServicer_to_server(silences, target)
            routing_service_pb2_grpc.add_RoutingServiceServicer_to_server(routing, target)
            escalation_policy_service_pb2_grpc.add_EscalationPolicyServiceServicer_to_server(policies, target)
            time_interval_service_pb2_grpc.add_TimeIntervalServiceServicer_to_server(time_intervals, target)
            metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(metrics, target)
            cluster_service_pb2_grpc.add_ClusterServiceServicer_to_server(cluster, target)
            config_service_pb2_grpc.add_ConfigServiceServicer_to_server(configs, target)
            user_service_pb2_grpc.add_UserServiceServicer_to_server(users, target)
            schedule_service_pb2_grpc.add_ScheduleServiceServicer_to_server(schedules, target)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, "grpc.health.v1.Health", reflection.SERVICE_NAME), server
        )

        tls = self.config.tls
        if tls is None:
            port = server.add_insecure_port(self.config.grpc_listen)
        else:
            port = server.add_secure_port(self.config.grpc_listen, _server_credentials(tls))
        if port == 0:
            raise OSError(f"cannot listen for gRPC on {self.config.grpc_listen}")
        # The gateway's own way in: a private socket, so it needs no TLS client identity of its own.
        self._internal_target = f"unix:{os.path.join(self._socket_dir.name, 'grpc.sock')}"
        server.add_insecure_port(self._internal_target)
        await server.start()
        self._grpc = server
        host, _ = _split_listen(self.config.grpc_listen)
        self.addresses.grpc = f"{host}:{port}"
        self._monitor = HealthMonitor(self._health, ("", *SERVICE_NAMES), {"database_url": store.check})
        await self._monitor.start()

    async def _start_http(self) -> None:
        host, port = _split_listen(self.config.http_listen)
        self._gateway_channel = aio.insecure_channel(self._internal_target)
        authenticator = Authenticator(self.config.tokens or ())
        external = urlsplit(self.config.external_url).netloc.lower()
        allowed_hosts = own_names(
            host, [*self.config.allowed_hosts, *([host_name(external)] if external else [])]
        )
        app = create_app(
            self._internal_target,
            channel=self._gateway_channel,
            max_body_bytes=self.config.max_request_bytes,
            local=self._local,
            authenticate=_authenticate(authenticator) if authenticator.enabled else None,
            token_scope=_token_scope(authenticator) if authenticator.enabled else None,
            allowed_hosts=allowed_hosts,
            origins={external} if external else set(),
        )
        tls = self.config.tls
        client_ca = tls.client_ca_file if tls and tls.client_ca_file else None
        uv_config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            http="httptools",
            lifespan="off",
            access_log=False,
            timeout_keep_alive=math.ceil(self.config.http_idle_timeout_ms / 1000),
            ssl_certfile=tls.cert_file if tls else None,
            ssl_keyfile=tls.key_file if tls else None,
            ssl_ca_certs=client_ca,
            # uvicorn's default (CERT_NONE) would take clients without a certificate, and the gateway
            # calls the servicers in this process: mTLS would hold on gRPC only.
            ssl_cert_reqs=ssl.CERT_REQUIRED if client_ca else ssl.CERT_NONE,
            limit_concurrency=self.config.http_max_connections,
        )
        self._http = _GatewayServer(uv_config)
        self._http_task = asyncio.create_task(self._http.serve())
        while not self._http.started:
            if self._http_task.done():
                await self._http_task
                raise OSError(f"cannot listen for HTTP on {self.config.http_listen}")
            await asyncio.sleep(0.01)
        bound = self._http.servers[0].sockets[0].getsockname()
        self.addresses.http = f"{host}:{bound[1]}"

    async def stop(self) -> None:
        """Graceful: stop accepting, let in-flight calls finish (up to the grace period), flush, close."""
        if self._monitor is not None:
            await self._monitor.stop()
        await self._health.enter_graceful_shutdown()
        grace = self.config.shutdown_grace_ms / 1000
        if self._http is not None and self._http_task is not None:
            self._http.should_exit = True
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._http_task), grace)
        if self._gateway_channel is not None:
            await self._gateway_channel.close(None)
        if self._grpc is not None:
            await self._grpc.stop(grace)
        if self._cluster is not None:
            # Its work stops and its leases go back: the other replicas take over at once.
            await self._cluster.stop()
        if self._rules is not None:
            await self._rules.stop()
        if self._datasources is not None:
            await self._datasources.close()
        if self._alerts is not None:
            await self._alerts.stop()
        if self._deliveries is not None:
            await self._deliveries.stop()
        await cancel(self._snapshots)
        if self._tsdb is not None:
            # A snapshot on the way out makes the next start replay no log.
            await asyncio.to_thread(self._tsdb.snapshot, self.clock.now_ms())
            self._tsdb.close()
        if self._store is not None:
            await self._store.close()
        self._socket_dir.cleanup()


async def _reload_on_signal(app: AlertingApp) -> None:
    """SIGHUP: the Alertmanager configuration file is read again; a failure is logged (by the
    reload) and leaves the loaded configuration as it was."""
    if app.alertmanager_configs is None or not app.alertmanager_configs.path:
        log.warning("SIGHUP: no alertmanager_config to reload")
        return
    with contextlib.suppress(ConfigError, FailedPrecondition, OSError, UnicodeDecodeError):
        await app.alertmanager_configs.reload()


async def serve(config: Config) -> int:
    """Runs until SIGTERM or SIGINT, then shuts down gracefully and returns the exit code."""
    app = AlertingApp(config)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await app.start()
    except Exception:
        await app.stop()
        raise
    # What start-up made (modules, the schema, the configuration) lives as long as the process: kept
    # out of the collector's way, its full collections, which hold up every stream and request for
    # as long as they take, go only over what came after.
    gc.collect()
    gc.freeze()
    # A stream's event makes a few objects for each subscriber: the young generation is collected per
    # 20,000 new objects rather than per 700, and each older one after 20 collections of the one
    # before it rather than 10.
    gc.set_threshold(20_000, 20, 20)
    reloads: set[asyncio.Task[None]] = set()

    def hangup() -> None:
        task = asyncio.create_task(_reload_on_signal(app))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, hangup)
    # Printed for people and for tests that start the server on port 0.
    print(f"alerting-server: gRPC on {app.addresses.grpc}, HTTP on {app.addresses.http}", flush=True)
    await stopping.wait()
    log.info("shutting down")
    await app.stop()
    return 0
