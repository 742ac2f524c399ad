"""Path and query parameters into request fields.

A query parameter names a top-level request field; its text is read as the field's type (integers,
booleans, numbers, enum names, durations, timestamps as epoch ms or RFC 3339) and a repeated field
takes the parameter once per value. Errors name the parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from alerting_common.jsonmap import JSON, MappingError, descriptor_of, set_field
from gateway.routes import RpcRoute

TIMESTAMP = "google.protobuf.Timestamp"

_INTEGERS = frozenset(
    {
        FieldDescriptor.TYPE_INT32,
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT32,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT32,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED32,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED32,
        FieldDescriptor.TYPE_SFIXED64,
    }
)
_QUERY_MESSAGES = frozenset({TIMESTAMP, "google.protobuf.Duration"})
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def query_fields(message_class: type[Message], exclude: Iterable[str] = ()) -> list[FieldDescriptor]:
    """The fields a query parameter can set: scalars, enums, their repeated forms and
    Timestamp/Duration; maps and other messages only travel in bodies."""
    skip = set(exclude)
    return [
        field
        for field in descriptor_of(message_class()).fields
        if field.name not in skip and _settable(field)
    ]


def route_query_fields(route: RpcRoute) -> list[FieldDescriptor]:
    """The query parameters of a route: with `body: "*"` the body is the whole request and there are
    none; otherwise every settable field that neither the path nor the body fills."""
    if route.body == "*":
        return []
    return query_fields(route.request_class, [*route.path_params, route.body])


def _settable(field: FieldDescriptor) -> bool:
    return field.message_type is None or field.message_type.full_name in _QUERY_MESSAGES


def fill_query(
    message: Message, params: Iterable[tuple[str, str]], allowed: Iterable[FieldDescriptor]
) -> None:
    """Set the `allowed` fields named by the query parameters; any other parameter is an error."""
    by_name = {field.name: field for field in allowed}
    values: dict[str, list[str]] = {}
    for key, value in params:
        if key not in by_name:
            raise MappingError(key, "unknown query parameter")
        if value:  # `?state=` is how forms and scripts say "no filter"
            values.setdefault(key, []).append(value)
    for key, texts in values.items():
        field = by_name[key]
        if field.is_repeated:
            set_field(message, field, [_from_text(field, t, key) for t in texts], key)
        elif len(texts) > 1:
            raise MappingError(key, "expected a single value")
        else:
            set_field(message, field, _from_text(field, texts[0], key), key)


def fill_path(message: Message, params: Mapping[str, str]) -> None:
    fields = descriptor_of(message).fields_by_name
    for name, text in params.items():
        set_field(message, fields[name], _from_text(fields[name], text, name), name)


def _from_text(field: FieldDescriptor, text: str, where: str) -> JSON:
    """The JSON value a parameter's text stands for, given the field's type."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_BOOL:
        if text.lower() not in _BOOLEANS:
            raise MappingError(where, "expected a boolean (true or false)")
        return _BOOLEANS[text.lower()]
    if kind in _INTEGERS:
        try:
            return int(text)
        except ValueError:
            raise MappingError(where, "expected an integer") from None
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        try:
            return float(text)
        except ValueError:
            raise MappingError(where, "expected a number") from None
    if field.message_type is not None and field.message_type.full_name == TIMESTAMP:
        return int(text) if text.lstrip("-").isdigit() else text
    return text
