"""The generic REST endpoint of a unary RPC: HTTP request -> request message -> call -> REST response."""

from __future__ import annotations

from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from alerting_common.jsonmap import (
    descriptor_of,
    merge_json,
    merge_message_value,
    message_value_to_json,
    set_field,
    to_json,
)
from gateway.backend import Backend
from gateway.body import read_document, read_json
from gateway.errors import Endpoint, guarded, invalid_argument
from gateway.params import fill_path, fill_query, route_query_fields
from gateway.routes import RpcRoute
from gateway.shapes import raw_request_body, response_shape


async def build_request(route: RpcRoute, request: Request, max_body_bytes: int) -> Message:
    """The request message of `route` from the path, the query string and the body."""
    message = route.request_class()
    if route.body:
        await _fill_body(route, message, request, max_body_bytes)
    fill_query(message, request.query_params.multi_items(), route_query_fields(route))
    fill_path(message, request.path_params)
    return message


async def _fill_body(route: RpcRoute, message: Message, request: Request, max_body_bytes: int) -> None:
    raw_field = raw_request_body(route)
    if raw_field is not None:
        raw = await read_document(request, max_body_bytes)
        try:
            setattr(message, raw_field.name, raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise invalid_argument("body", "expected UTF-8 text") from None
        return
    data = await read_json(request, max_body_bytes)
    if route.body == "*":
        merge_json(data, message)
        return
    field = descriptor_of(message).fields_by_name[route.body]
    if field.message_type is not None and not field.is_repeated:
        target = getattr(message, field.name)
        target.SetInParent()
        merge_message_value(target, data, "")
    else:
        set_field(message, field, data, field.name)


def render(route: RpcRoute, response: Message) -> Response:
    shape = response_shape(route)
    if shape.media_type is None:
        return Response(status_code=shape.status)
    if shape.field is None:
        return JSONResponse(to_json(response), status_code=shape.status)
    value = getattr(response, shape.field.name)
    if isinstance(value, Message):
        return JSONResponse(message_value_to_json(value), status_code=shape.status)
    return Response(value, status_code=shape.status, media_type=shape.media_type)


def unary_endpoint(route: RpcRoute, backend: Backend, max_body_bytes: int) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        message = await build_request(route, request, max_body_bytes)
        return render(route, await backend.unary(route, message, request))

    return guarded(endpoint)
