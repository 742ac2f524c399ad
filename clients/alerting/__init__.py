"""Python client of the alerting service: generated stubs under alerting.v1, typed clients, alertctl.

`from alerting import AlertingClient` works; the client is imported on first use so that modules
which only need `alerting.v1` do not load it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alerting.client import (
        AlertingClient,
        AlertingError,
        AsyncAlertingClient,
        InvalidArgumentError,
        NotFoundError,
        RetryPolicy,
        TLSConfig,
    )

__all__ = [
    "AlertingClient",
    "AlertingError",
    "AsyncAlertingClient",
    "InvalidArgumentError",
    "NotFoundError",
    "RetryPolicy",
    "TLSConfig",
]


def __getattr__(name: str) -> object:
    if name in __all__:
        return getattr(importlib.import_module("alerting.client"), name)
    raise AttributeError(f"module 'alerting' has no attribute {name!r}")
