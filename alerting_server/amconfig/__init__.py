"""Alertmanager's configuration file as ours: load and check it (loader.py), apply it to the store
(store/config_files.py), write what the server holds back as one (export.py)."""

from alerting_server.amconfig.loaded import KIND, ConfigError, LoadedConfig, TimeIntervalSpec
from alerting_server.amconfig.loader import load
from alerting_server.amconfig.nodes import Problem

__all__ = ["KIND", "ConfigError", "LoadedConfig", "Problem", "TimeIntervalSpec", "load"]
