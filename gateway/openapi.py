"""The OpenAPI 3.0 document of the gateway, generated from the same routes and descriptors it serves.

Schemas describe the REST JSON shape (`jsonmap`), not proto3 JSON: Timestamps are integers of epoch
milliseconds, Durations Prometheus strings, enums lowercase names; unset messages are null.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from alerting_common.jsonmap import FREE_FORM, JSON, JSONObject, descriptor_of, is_map
from alerting_common.naming import enum_json_names
from gateway.ops import OPERATIONS
from gateway.params import route_query_fields
from gateway.promapi import prometheus_methods, serves_prometheus
from gateway.routes import RpcRoute
from gateway.shapes import raw_request_body, response_shape
from gateway.sse import RESUME_FIELD

_SCALARS: dict[int, JSONObject] = {
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    FieldDescriptor.TYPE_INT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_SINT64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_SFIXED64: {"type": "integer", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_FIXED64: {"type": "integer", "minimum": 0},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WELL_KNOWN: dict[str, JSONObject] = {
    "google.protobuf.Timestamp": {
        "type": "integer",
        "format": "int64",
        "description": "Unix epoch milliseconds.",
    },
    "google.protobuf.Duration": {"type": "string", "description": 'Prometheus duration ("5m", "1h30m").'},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
}
_ERROR: JSONObject = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "INVALID_ARGUMENT"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "description": {"type": "string"}},
                    },
                },
            },
        }
    },
}
_PROMETHEUS_RESULT: JSONObject = {
    "type": "object",
    "description": "Prometheus HTTP API response.",
    "properties": {
        "status": {"type": "string", "enum": ["success", "error"]},
        "data": {
            "anyOf": [
                {
                    "type": "object",
                    "description": "a query's result, the build info, or the metadata",
                    "properties": {
                        "resultType": {"type": "string", "enum": ["vector", "matrix", "scalar", "string"]},
                        "result": {},
                    },
                },
                {"type": "array", "description": "label names, label values, or series"},
            ]
        },
        "errorType": {"type": "string"},
        "error": {"type": "string"},
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}
_PROMETHEUS_PARAMS = {
    "alerting.v1.MetricsService.Query": ("query", "time", "datasource"),
    "alerting.v1.MetricsService.QueryRange": ("query", "start", "end", "step", "datasource"),
    "alerting.v1.MetricsService.ListLabelNames": ("match[]", "start", "end", "limit"),
    "alerting.v1.MetricsService.ListLabelValues": ("match[]", "start", "end", "limit"),
    "alerting.v1.MetricsService.ListSeries": ("match[]", "start", "end", "limit"),
}


def openapi_path(path: str) -> str:
    """OpenAPI spelling of a route path: `{name:path}` is `{name}`."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def openapi_document(routes: Sequence[RpcRoute]) -> JSONObject:
    schemas: JSONObject = {"Error": _ERROR, "PrometheusResult": _PROMETHEUS_RESULT}
    paths: dict[str, JSONObject] = {}
    for path, summary in OPERATIONS.items():
        paths[path] = {}
        paths[path]["get"] = {
            "operationId": path.strip("/").replace(".", "_"),
            "summary": summary,
            "tags": ["operations"],
            "responses": {"200": {"description": "OK"}},
        }
    for route in routes:
        item = paths.setdefault(openapi_path(route.path), {})
        if serves_prometheus(route):
            for method in prometheus_methods(route):
                item[method.lower()] = _prometheus_operation(route, method.lower())
        else:
            item[route.http_method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Alerting REST API", "version": "v1"},
        "paths": dict(paths),
        "components": {"schemas": schemas},
    }


def _operation(route: RpcRoute, schemas: JSONObject) -> JSONObject:
    request_fields = descriptor_of(route.request_class()).fields_by_name
    parameters: list[JSON] = [
        {"name": name, "in": "path", "required": True, "schema": _field_schema(request_fields[name], schemas)}
        for name in route.path_params
    ]
    parameters += [
        {"name": field.name, "in": "query", "required": False, "schema": _field_schema(field, schemas)}
        for field in route_query_fields(route)
    ]
    operation: JSONObject = {
        "operationId": f"{route.method.containing_service.name}_{route.method.name}",
        "tags": [route.method.containing_service.name],
        "summary": route.name,
    }
    if route.body:
        operation["requestBody"] = {"required": False, "content": _request_content(route, schemas)}
    if route.server_streaming:
        if RESUME_FIELD in request_fields:
            parameters.append(
                {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}}
            )
        event = _message_ref(descriptor_of(route.response_class()), schemas)
        success: JSONObject = {
            "200": {
                "description": f"Server-Sent Events; each event's data is a {route.response_class.__name__}.",
                "content": {"text/event-stream": {"schema": {"type": "string"}, "x-event-schema": event}},
            }
        }
    else:
        success = _success_response(route, schemas)
    operation["parameters"] = parameters
    operation["responses"] = {
        **success,
        "default": {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        },
    }
    return operation


# A Prometheus rule file, the one YAML document the API reads and writes.
_RULE_FILE: JSONObject = {
    "type": "object",
    "properties": {"groups": {"type": "array", "items": {"type": "object"}}},
}


def _request_content(route: RpcRoute, schemas: JSONObject) -> JSONObject:
    if raw_request_body(route) is not None:
        # Not text/plain: a browser may send that from any page without asking, so it is refused.
        return {"application/yaml": {"schema": _RULE_FILE}}
    request = descriptor_of(route.request_class())
    schema = (
        _message_ref(request, schemas)
        if route.body == "*"
        else _single_schema(request.fields_by_name[route.body], schemas)
    )
    return {"application/json": {"schema": schema}}


def _success_response(route: RpcRoute, schemas: JSONObject) -> JSONObject:
    shape = response_shape(route)
    if shape.media_type is None:
        return {str(shape.status): {"description": "No content"}}
    if shape.field is None:
        schema = _message_ref(descriptor_of(route.response_class()), schemas)
    elif shape.field.message_type is None:
        # A YAML body is a document, described by what it holds rather than as the text it is sent as.
        schema = _RULE_FILE if shape.media_type == "application/yaml" else {"type": "string"}
    else:
        schema = _single_schema(shape.field, schemas)
    return {str(shape.status): {"description": "OK", "content": {shape.media_type: {"schema": schema}}}}


def _prometheus_operation(route: RpcRoute, method: str) -> JSONObject:
    names = _PROMETHEUS_PARAMS.get(route.name, ("query",))
    param_schemas: list[JSON] = [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names]
    in_path: list[JSON] = [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in route.path_params
    ]
    operation: JSONObject = {
        "operationId": f"{route.method.containing_service.name}_{route.method.name}_{method}",
        "tags": [route.method.containing_service.name],
        "summary": f"{route.name} in Prometheus' HTTP API shape",
        "parameters": in_path + (param_schemas if method == "get" else []),
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/PrometheusResult"}}
                },
            },
            "default": {
                "description": "Error",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/PrometheusResult"}}
                },
            },
        },
    }
    if method == "post":
        properties: JSONObject = {n: {"type": "string"} for n in names}
        form: JSONObject = {"type": "object", "properties": properties}
        operation["requestBody"] = {"content": {"application/x-www-form-urlencoded": {"schema": form}}}
    return operation


def _field_schema(field: FieldDescriptor, schemas: JSONObject) -> JSONObject:
    if is_map(field):
        assert field.message_type is not None
        value = _single_schema(field.message_type.fields_by_name["value"], schemas)
        return {"type": "object", "additionalProperties": value}
    if field.is_repeated:
        return {"type": "array", "items": _single_schema(field, schemas)}
    schema = _single_schema(field, schemas)
    if field.has_presence:
        # Unset messages and optional scalars are null on output.
        return {"allOf": [schema], "nullable": True} if "$ref" in schema else {**schema, "nullable": True}
    return schema


def _single_schema(field: FieldDescriptor, schemas: JSONObject) -> JSONObject:
    if field.message_type is not None:
        return _message_ref(field.message_type, schemas)
    if field.enum_type is not None:
        return {"type": "string", "enum": list(enum_json_names(field.enum_type))}
    return dict(_SCALARS[field.type])


def _message_ref(message: Descriptor, schemas: JSONObject) -> JSONObject:
    name = message.full_name
    if name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[name])
    assert name not in FREE_FORM
    if name not in schemas:
        schemas[name] = {}  # placeholder first: messages may be recursive (Route.routes)
        properties: JSONObject = {field.name: _field_schema(field, schemas) for field in message.fields}
        schemas[name] = {"type": "object", "properties": properties}
    return {"$ref": f"#/components/schemas/{name}"}
