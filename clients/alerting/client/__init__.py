"""Typed clients of the alerting service: `AlertingClient` (blocking) and `AsyncAlertingClient` (asyncio).

    with AlertingClient.connect("127.0.0.1:50051", token="...") as client:
        rule = client.create_rule(Rule(name="high_cpu", query="avg(cpu_usage) > 80"))
        for alert in client.iter_alerts(state=AlertState.ALERT_STATE_FIRING):
            ...

Methods take plain arguments or the alerting.v1 resource messages and return the resource;
failed calls raise the exceptions of `alerting.client.errors`.
"""

from alerting.client._async import AsyncAlertingClient
from alerting.client._config import (
    DEFAULT_RETRY,
    USE_CLIENT_DEFAULT,
    RetryPolicy,
    Timeout,
    TLSConfig,
    UseClientDefault,
)
from alerting.client._sync import AlertingClient
from alerting.client.errors import (
    AlertingError,
    AlreadyExistsError,
    CancelledError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
)

__all__ = [
    "DEFAULT_RETRY",
    "USE_CLIENT_DEFAULT",
    "AlertingClient",
    "AlertingError",
    "AlreadyExistsError",
    "AsyncAlertingClient",
    "CancelledError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "InternalError",
    "InvalidArgumentError",
    "NotFoundError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "RetryPolicy",
    "TLSConfig",
    "Timeout",
    "UnauthenticatedError",
    "UnavailableError",
    "UnimplementedError",
    "UseClientDefault",
]
