"""What this build says about itself, in the fields Prometheus' and Alertmanager's build info have."""

from __future__ import annotations

import functools
import importlib.metadata


@functools.cache
def version() -> str:
    """This package's own version: never a Prometheus or Alertmanager version."""
    try:
        return importlib.metadata.version("alerting")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_info() -> dict[str, str]:
    """Prometheus' `PrometheusVersion` shape; the build fields Go fills at link time are unknown here,
    and goVersion stays empty: the runtime's version would tell a caller what to attack."""
    return {
        "version": version(),
        "revision": "",
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    }
