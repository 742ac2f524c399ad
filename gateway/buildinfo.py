"""What this build says about itself, in the fields Prometheus' and Alertmanager's build info have."""

from __future__ import annotations

import functools
import importlib.metadata
import platform


@functools.cache
def version() -> str:
    """This package's own version: never a Prometheus or Alertmanager version."""
    try:
        return importlib.metadata.version("alerting")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_info() -> dict[str, str]:
    """Prometheus' `PrometheusVersion` shape; the build fields Go fills at link time are unknown here,
    and goVersion names the runtime that serves."""
    return {
        "version": version(),
        "revision": "",
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": f"python{platform.python_version()}",
    }
