"""The ConfigService: Alertmanager's configuration file checked, imported, exported and reloaded."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from alerting.v1 import config_service_pb2, config_service_pb2_grpc
from alerting_server.amconfig import ConfigError, LoadedConfig, Problem
from alerting_server.amconfig.export import export
from alerting_server.amconfig.loaded import KIND
from alerting_server.amconfig.service import AlertmanagerConfigs, check, invalid
from alerting_server.api import convert
from alerting_server.model import Channel
from alerting_server.store import Store
from alerting_server.validation import channels as channel_config

Context = Any


def _problems(problems: tuple[Problem, ...] | list[Problem]) -> list[config_service_pb2.ConfigProblem]:
    return [config_service_pb2.ConfigProblem(field=p.field, line=p.line, message=p.message) for p in problems]


def summary(config: LoadedConfig) -> config_service_pb2.ConfigSummary:
    return config_service_pb2.ConfigSummary(
        **{"global": config.has_global},
        route=True,
        inhibit_rules=len(config.inhibit_rules),
        receivers=len(config.receivers),
        templates=len(config.templates),
        time_intervals=len(config.time_intervals),
        channels=[c.name for c in config.channels],
    )


class ConfigServicer(config_service_pb2_grpc.ConfigServiceServicer):
    def __init__(self, store: Store, configs: AlertmanagerConfigs) -> None:
        self._store = store
        self._configs = configs

    async def CheckConfig(
        self, request: config_service_pb2.CheckConfigRequest, context: Context
    ) -> config_service_pb2.CheckConfigResponse:
        try:
            config = await asyncio.to_thread(check, request.content)
        except ConfigError as e:
            return config_service_pb2.CheckConfigResponse(valid=False, problems=_problems(e.problems))
        return config_service_pb2.CheckConfigResponse(
            valid=True, warnings=_problems(config.warnings), summary=summary(config)
        )

    async def ImportConfig(
        self, request: config_service_pb2.ImportConfigRequest, context: Context
    ) -> config_service_pb2.ImportConfigResponse:
        outcome = await self._configs.import_text(request.content, request.name)
        return config_service_pb2.ImportConfigResponse(
            summary=summary(outcome.config),
            created_channels=outcome.applied.created,
            updated_channels=outcome.applied.updated,
            deleted_channels=outcome.applied.deleted,
            warnings=_problems(outcome.config.warnings),
        )

    async def ExportConfig(
        self, request: config_service_pb2.ExportConfigRequest, context: Context
    ) -> config_service_pb2.ExportConfigResponse:
        state = await self._store.config_files.get(KIND)
        channels = [_redacted(c) for c in await self._store.channels.all()]
        intervals = [(t.name, t.to_json()) for t in await self._store.time_intervals.all()]
        content = export(
            await self._store.routing.get(),
            channels,
            await self._store.inhibit_rules.all(),
            intervals,
            state.settings if state is not None and state.loaded_at is not None else {},
        )
        return config_service_pb2.ExportConfigResponse(content=content)

    async def ReloadConfig(
        self, request: config_service_pb2.ReloadConfigRequest, context: Context
    ) -> config_service_pb2.ReloadConfigResponse:
        try:
            outcome = await self._configs.reload()
        except ConfigError as e:
            raise invalid(e.problems, "alertmanager_config") from None
        except (OSError, UnicodeDecodeError) as e:
            raise invalid(
                [Problem("", 0, f"cannot read {self._configs.path}: {e}")], "alertmanager_config"
            ) from None
        return config_service_pb2.ReloadConfigResponse(summary=summary(outcome.config))

    async def GetConfigStatus(
        self, request: config_service_pb2.GetConfigStatusRequest, context: Context
    ) -> config_service_pb2.GetConfigStatusResponse:
        state = await self._store.config_files.get(KIND)
        if state is None:
            return config_service_pb2.GetConfigStatusResponse()
        return config_service_pb2.GetConfigStatusResponse(
            source=state.path,
            original=state.original,
            sha256=state.sha256,
            loaded_at=convert.ts_to_pb(state.loaded_at),
            attempted_at=convert.ts_to_pb(state.attempted_at),
            error=state.error,
        )


def _redacted(channel: Channel) -> Channel:
    return dataclasses.replace(channel, config=channel_config.redact(channel.type, channel.config))
