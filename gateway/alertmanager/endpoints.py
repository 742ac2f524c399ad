"""The handlers of Alertmanager's v2 API, each translated onto AlertService, SilenceService and
ChannelService calls.

Answers follow Alertmanager 0.25 (api/v2/api.go): bodies are JSON, error payloads are JSON strings
(go-swagger writes a `string` payload as a JSON string, and amtool's client decodes it so), a missing
silence is 404 with an empty body on GET and DELETE, and internals never reach the caller.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import grpc
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from alerting.v1 import (
    alert_service_pb2,
    channel_service_pb2,
    cluster_service_pb2,
    config_service_pb2,
    silence_service_pb2,
)
from alerting_common.jsonmap import JSON
from alerting_common.regexp import Regexp, RegexpError
from alerting_common.regexp import compile as compile_regexp
from gateway.alertmanager import models
from gateway.alertmanager.matchers import Matcher, MatcherError, parse_matcher, selector
from gateway.alertmanager.timefmt import format_ms
from gateway.backend import Backend
from gateway.body import read_json
from gateway.errors import Endpoint, GatewayError, from_rpc_error, log
from gateway.routes import RpcRoute, discover_routes

Now = Callable[[], int]
# go-swagger's swag.ConvertBool: the spellings a boolean query parameter may take.
_TRUE = frozenset({"true", "1", "yes", "ok", "y", "on", "selected", "checked", "t", "enabled"})
_FALSE = frozenset({"false", "0", "no", "n", "off", "f", "disabled", ""})


class _Page(Protocol):
    @property
    def next_page_token(self) -> str: ...


_P = TypeVar("_P", bound=_Page)


class Answer(Exception):
    """An early answer: `status` with `payload` as a JSON body, or an empty body when None."""

    def __init__(self, status: int, payload: JSON | None = None) -> None:
        super().__init__(status, payload)
        self.status = status
        self.payload = payload

    def response(self) -> Response:
        if self.payload is None:
            return Response(status_code=self.status)
        return JSONResponse(self.payload, status_code=self.status)


@dataclass(frozen=True)
class Identity:
    """What GET /api/v2/status says about this instance."""

    started_at_ms: int
    # Not the host name: it tells a caller what to attack.
    cluster_name: str = "alerting"


def rpc_answer(error: grpc.aio.AioRpcError) -> Answer:
    """The gateway's one gRPC-to-HTTP mapping, with the message as Alertmanager's string payload."""
    mapped = from_rpc_error(error)
    message = "; ".join(f"{v.field}: {v.description}" for v in mapped.details) or mapped.message
    return Answer(mapped.status, message)


def served(handler: Endpoint) -> Endpoint:
    """`handler` with every failure answered in Alertmanager's shape."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except Answer as exc:
            return exc.response()
        except models.SchemaError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        except models.InvalidSilence as exc:
            return JSONResponse(str(exc), status_code=400)
        except GatewayError as exc:
            return JSONResponse(exc.message, status_code=exc.status)
        except grpc.aio.AioRpcError as exc:
            return rpc_answer(exc).response()
        except Exception:
            log.exception("unexpected error serving %s %s", request.method, request.url.path)
            return JSONResponse("internal error", status_code=500)

    return endpoint


class AlertmanagerApi:
    def __init__(self, backend: Backend, max_body_bytes: int, clock: Now, identity: Identity) -> None:
        self._backend = backend
        self._max_body_bytes = max_body_bytes
        self._clock = clock
        self._identity = identity
        files = [
            alert_service_pb2.DESCRIPTOR,
            silence_service_pb2.DESCRIPTOR,
            channel_service_pb2.DESCRIPTOR,
            cluster_service_pb2.DESCRIPTOR,
            config_service_pb2.DESCRIPTOR,
        ]
        self._rpcs: dict[str, RpcRoute] = {r.method.name: r for r in discover_routes(files)}

    async def _call(self, method: str, message: Message, request: Request) -> Message:
        return await self._backend.unary(self._rpcs[method], message, request)

    async def _pages(
        self, method: str, make: Callable[[str], Message], page_class: type[_P], request: Request
    ) -> AsyncIterator[_P]:
        """Every page of a list call (`make` builds the request for a page token), to the end."""
        token = ""
        seen: set[str] = set()
        while True:
            page = await self._call(method, make(token), request)
            assert isinstance(page, page_class)
            yield page
            token = page.next_page_token
            if not token or token in seen:
                return
            seen.add(token)

    async def _body(self, request: Request) -> JSON:
        return await read_json(request, self._max_body_bytes)

    # --- alerts -----------------------------------------------------------------------------------

    async def get_alerts(self, request: Request) -> Response:
        params = request.query_params
        shown = _alert_filter(request)
        query = alert_service_pb2.ListAlertsRequest(
            filter=selector(_filters(request)), receiver=params.get("receiver", "")
        )
        # The server filters by the same rule: false hides silenced (inhibited) alerts, true shows all.
        if not shown.silenced:
            query.silenced = False
        if not shown.inhibited:
            query.inhibited = False
        _bool(request, "unprocessed")  # validated; no alert here is ever unprocessed
        now = self._clock()
        alerts: list[alert_service_pb2.Alert] = []

        def page_of(token: str) -> Message:
            query.page_token = token
            return query

        async for page in self._pages("ListAlerts", page_of, alert_service_pb2.ListAlertsResponse, request):
            alerts.extend(a for a in page.alerts if shown.shows(a, now))
        return JSONResponse(models.gettable_alerts(alerts))

    async def post_alerts(self, request: Request) -> Response:
        create = models.postable_alerts(await self._body(request))
        if create.alerts:
            await self._call("CreateAlerts", create, request)
        return Response(status_code=200)

    async def get_alert_groups(self, request: Request) -> Response:
        shown = _alert_filter(request, matchers=tuple(_filters(request)))
        # Alertmanager 0.28: false leaves out the groups a time interval mutes.
        muted = _bool(request, "muted")
        receiver = _receiver_regex(request)
        now = self._clock()
        groups: list[JSON] = []
        pages = self._pages(
            "ListAlertGroups",
            lambda token: alert_service_pb2.ListAlertGroupsRequest(page_token=token),
            alert_service_pb2.ListAlertGroupsResponse,
            request,
        )
        async for page in pages:
            for group in page.groups:
                if receiver is not None and not receiver.search(group.receiver):
                    continue
                if not muted and group.muted_by:
                    continue
                alerts = [a for a in group.alerts if shown.shows(a, now)]
                if alerts:
                    groups.append(models.alert_group(group, alerts))
        return JSONResponse(groups)

    # --- silences ---------------------------------------------------------------------------------

    async def get_silences(self, request: Request) -> Response:
        filters = _filters(request)
        silences: list[silence_service_pb2.Silence] = []
        pages = self._pages(
            "ListSilences",
            lambda token: silence_service_pb2.ListSilencesRequest(page_token=token),
            silence_service_pb2.ListSilencesResponse,
            request,
        )
        async for page in pages:
            silences.extend(s for s in page.silences if models.silence_shown(s, filters))
        return JSONResponse([models.gettable_silence(s) for s in models.sorted_silences(silences)])

    async def post_silences(self, request: Request) -> Response:
        posted = models.postable_silence(await self._body(request))
        problem = models.silence_time_error(posted.silence, self._clock())
        if problem is not None:
            raise Answer(400, problem)
        if not posted.id:
            create = silence_service_pb2.CreateSilenceRequest(silence=posted.silence)
            created = await self._call("CreateSilence", create, request)
            assert isinstance(created, silence_service_pb2.CreateSilenceResponse)
            return JSONResponse({"silenceID": created.silence.id})
        update = silence_service_pb2.UpdateSilenceRequest(id=posted.id, silence=posted.silence)
        try:
            updated = await self._call("UpdateSilence", update, request)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            # Alertmanager's silence.ErrNotFound text, as a JSON string payload.
            raise Answer(404, "not found") from None
        assert isinstance(updated, silence_service_pb2.UpdateSilenceResponse)
        # A changed matcher set or an expired silence gives a new id: the one to answer.
        return JSONResponse({"silenceID": updated.silence.id})

    async def get_silence(self, request: Request) -> Response:
        get = silence_service_pb2.GetSilenceRequest(id=_silence_id(request))
        found = await _or_404(self._call("GetSilence", get, request))
        assert isinstance(found, silence_service_pb2.GetSilenceResponse)
        return JSONResponse(models.gettable_silence(found.silence))

    async def delete_silence(self, request: Request) -> Response:
        expire = silence_service_pb2.ExpireSilenceRequest(id=_silence_id(request))
        await _or_404(self._call("ExpireSilence", expire, request))
        return Response(status_code=200)

    # --- general ----------------------------------------------------------------------------------

    async def _cluster(self, request: Request) -> JSON:
        """Alertmanager's cluster status from the replicas (`amtool cluster show` lists them): the name is
        the answering replica's, the peers every replica with its gRPC address."""
        try:
            found = await self._call("GetCluster", cluster_service_pb2.GetClusterRequest(), request)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.UNIMPLEMENTED:
                raise
            # A server from before the cluster API: one instance.
            return {"name": self._identity.cluster_name, "peers": [], "status": "ready"}
        assert isinstance(found, cluster_service_pb2.GetClusterResponse)
        me = next((r.id for r in found.replicas if r.this_replica), self._identity.cluster_name)
        peers: list[JSON] = [{"name": r.id, "address": r.address} for r in found.replicas]
        return {"name": me, "peers": peers, "status": "ready"}

    async def _original(self, request: Request) -> str:
        """The loaded Alertmanager configuration, secrets redacted; "" when none is loaded."""
        try:
            found = await self._call("GetConfigStatus", config_service_pb2.GetConfigStatusRequest(), request)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.UNIMPLEMENTED:
                raise
            # A server from before the configuration API.
            return ""
        assert isinstance(found, config_service_pb2.GetConfigStatusResponse)
        return found.original

    async def get_status(self, request: Request) -> Response:
        return JSONResponse(
            {
                "cluster": await self._cluster(request),
                "config": {"original": await self._original(request)},
                "uptime": format_ms(self._identity.started_at_ms),
                # amtool compares the major.minor of `versionInfo.version` with its own and warns on
                # every call when they differ, unless versionInfo is null ("cannot get version info,
                # let amtool continue"). This server is no Alertmanager version, so it reports none
                # here; its own version is at /api/v1/status/buildinfo.
                "versionInfo": None,
            }
        )

    async def get_receivers(self, request: Request) -> Response:
        names: list[JSON] = []
        pages = self._pages(
            "ListChannels",
            lambda token: channel_service_pb2.ListChannelsRequest(page_token=token),
            channel_service_pb2.ListChannelsResponse,
            request,
        )
        seen: set[str] = set()
        async for page in pages:
            # A channel that is one integration of an Alertmanager receiver lists as that receiver.
            for c in page.channels:
                name = c.receiver or c.name
                if name not in seen:
                    seen.add(name)
                    names.append({"name": name})
        return JSONResponse(names)


async def _or_404(call: Awaitable[Message]) -> Message:
    """The call's response; NOT_FOUND is Alertmanager's 404 without a body."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            raise Answer(404) from None
        raise


def _bool(request: Request, name: str) -> bool:
    text = request.query_params.get(name)
    if text is None:
        return True
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise models.SchemaError(400, f"{name} in query must be of type bool: {text!r}")


def _alert_filter(request: Request, matchers: tuple[Matcher, ...] = ()) -> models.AlertFilter:
    return models.AlertFilter(
        active=_bool(request, "active"),
        silenced=_bool(request, "silenced"),
        inhibited=_bool(request, "inhibited"),
        matchers=matchers,
    )


def _silence_id(request: Request) -> str:
    return models.silence_id(request.path_params["silence_id"])


def _filters(request: Request) -> list[Matcher]:
    try:
        return [parse_matcher(text) for text in request.query_params.getlist("filter")]
    except MatcherError as exc:
        raise Answer(400, str(exc)) from None


def _receiver_regex(request: Request) -> Regexp | None:
    text = request.query_params.get("receiver")
    if text is None:
        return None
    try:
        return compile_regexp(f"^(?:{text})$")
    except RegexpError as exc:
        raise Answer(400, f"failed to parse receiver param: {exc}") from None
