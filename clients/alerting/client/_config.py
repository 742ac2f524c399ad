"""Connection settings shared by the sync and async clients, and how they become channel arguments."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

import grpc

from alerting.services import SERVICE_NAMES


@dataclass(frozen=True)
class TLSConfig:
    """TLS for the channel. Leave everything unset to verify the server against the system roots.

    Set `client_cert` and `client_private_key` (PEM) together for mutual TLS. `domain` overrides the
    name checked in the server's certificate (e.g. when dialling an IP address).
    """

    server_root_ca_cert: bytes | None = None
    client_cert: bytes | None = None
    client_private_key: bytes | None = None
    domain: str | None = None

    def __post_init__(self) -> None:
        if (self.client_cert is None) != (self.client_private_key is None):
            raise ValueError("client_cert and client_private_key must be set together")


@dataclass(frozen=True)
class RetryPolicy:
    """How the channel retries a call that failed with UNAVAILABLE (gRPC retry service config)."""

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    backoff_multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 2:
            raise ValueError("max_attempts must be at least 2; pass retry=None to disable retries")
        if self.initial_backoff <= 0 or self.max_backoff <= 0 or self.backoff_multiplier <= 0:
            raise ValueError("backoff values must be positive")

    def service_config(self) -> str:
        """The JSON service config that applies this policy to every alerting.v1 service."""
        return json.dumps(
            {
                "methodConfig": [
                    {
                        "name": [{"service": service} for service in SERVICE_NAMES],
                        "retryPolicy": {
                            "maxAttempts": self.max_attempts,
                            "initialBackoff": f"{self.initial_backoff}s",
                            "maxBackoff": f"{self.max_backoff}s",
                            "backoffMultiplier": self.backoff_multiplier,
                            "retryableStatusCodes": ["UNAVAILABLE"],
                        },
                    }
                ]
            }
        )


DEFAULT_RETRY = RetryPolicy()


class UseClientDefault(enum.Enum):
    """Type of USE_CLIENT_DEFAULT: a per-call `timeout` that means "the client's default"."""

    USE_CLIENT_DEFAULT = enum.auto()


# A sentinel rather than None, because timeout=None on a call means "no deadline".
USE_CLIENT_DEFAULT = UseClientDefault.USE_CLIENT_DEFAULT

Timeout = float | None | UseClientDefault
ChannelOption = tuple[str, str | int]


@dataclass(frozen=True)
class ConnectConfig:
    """Everything a client needs to open its channel and decorate its calls."""

    target: str
    tls: bool | TLSConfig = False
    token: str | None = None
    timeout: float | None = 10.0
    retry: RetryPolicy | None = DEFAULT_RETRY
    metadata: tuple[tuple[str, str], ...] = ()
    options: tuple[ChannelOption, ...] = ()

    def call_metadata(self) -> tuple[tuple[str, str], ...]:
        if self.token is None:
            return self.metadata
        return (("authorization", f"Bearer {self.token}"), *self.metadata)

    def channel_options(self) -> list[ChannelOption]:
        options: list[ChannelOption] = []
        if self.retry is not None:
            options.append(("grpc.service_config", self.retry.service_config()))
        else:
            options.append(("grpc.enable_retries", 0))
        if isinstance(self.tls, TLSConfig) and self.tls.domain is not None:
            options.append(("grpc.ssl_target_name_override", self.tls.domain))
        options.extend(self.options)
        return options

    def credentials(self) -> grpc.ChannelCredentials | None:
        """Channel credentials, or None for a plaintext channel."""
        if self.tls is False:
            return None
        tls = self.tls if isinstance(self.tls, TLSConfig) else TLSConfig()
        return grpc.ssl_channel_credentials(
            root_certificates=tls.server_root_ca_cert,
            private_key=tls.client_private_key,
            certificate_chain=tls.client_cert,
        )

    def resolve_timeout(self, timeout: Timeout) -> float | None:
        return self.timeout if isinstance(timeout, UseClientDefault) else timeout
