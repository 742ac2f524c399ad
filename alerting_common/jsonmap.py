"""The REST JSON shape of protobuf messages, in both directions, generic over descriptors.

Conventions of API.md, which differ from proto3's canonical JSON on purpose:
- keys are the proto field names (snake_case), `continue` included;
- Timestamp is epoch milliseconds as a JSON number, Duration a Prometheus duration string;
- enums are lowercase names without the type prefix (see `naming`);
- on output every field is present: unset messages and optional scalars are null, empty lists [].
Input errors raise `MappingError` naming the offending field with a dotted path (`levels[1].after`).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
from typing import TypeAlias, cast

from google.protobuf import duration_pb2, json_format, timestamp_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from alerting_common.durations import format_duration, parse_duration
from alerting_common.naming import enum_from_json, enum_json_names, enum_to_json

JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"
JSONObject: TypeAlias = dict[str, JSON]

STRUCT = "google.protobuf.Struct"
FREE_FORM = frozenset({STRUCT, "google.protobuf.Value", "google.protobuf.ListValue"})

# Timestamp's valid range (0001-01-01 to 9999-12-31), in milliseconds.
_MIN_TS_MS = -62_135_596_800_000
_MAX_TS_MS = 253_402_300_799_999
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


class MappingError(ValueError):
    """A JSON value that does not fit the message; `field` is its dotted path."""

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}")
        self.field = field
        self.description = description


def descriptor_of(message: Message) -> Descriptor:
    """The message's descriptor; the upb runtime class has the same interface as the Python one."""
    return cast(Descriptor, message.DESCRIPTOR)


def is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


# --- output -------------------------------------------------------------------------------------------


def to_json(message: Message) -> JSONObject:
    """Every field of the message, in the REST shape."""
    return {field.name: _field_to_json(message, field) for field in descriptor_of(message).fields}


def _field_to_json(message: Message, field: FieldDescriptor) -> JSON:
    value = getattr(message, field.name)
    if is_map(field):
        assert field.message_type is not None
        value_field = field.message_type.fields_by_name["value"]
        return {str(k): _value_to_json(value_field, value[k]) for k in sorted(value)}
    if field.is_repeated:
        return [_value_to_json(field, item) for item in value]
    if field.has_presence and not message.HasField(field.name):
        return None
    return _value_to_json(field, value)


def _value_to_json(field: FieldDescriptor, value: object) -> JSON:
    if isinstance(value, Message):
        return message_value_to_json(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        assert isinstance(value, int)
        return enum_to_json(field.enum_type, value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    assert isinstance(value, str | int | float | bool)
    return value


def message_value_to_json(message: Message) -> JSON:
    """A message as a value: well-known types take their REST form, others become objects."""
    if isinstance(message, timestamp_pb2.Timestamp):
        return message.ToMilliseconds()
    if isinstance(message, duration_pb2.Duration):
        return format_duration(message.ToMilliseconds())
    if message.DESCRIPTOR.full_name in FREE_FORM:
        return _integral_numbers(json_format.MessageToDict(message))
    return to_json(message)


def _integral_numbers(value: object) -> JSON:
    """Struct numbers are doubles; 3.0 comes back as 3 because that is what the client sent."""
    if isinstance(value, dict):
        return {str(k): _integral_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    assert value is None or isinstance(value, str | int | float | bool)
    return value


# --- input --------------------------------------------------------------------------------------------


def merge_json(data: JSON, message: Message, path: str = "") -> None:
    """Set the fields named in the JSON object `data` on `message`; null clears a field."""
    if not isinstance(data, dict):
        raise MappingError(path or "body", "expected a JSON object")
    fields = descriptor_of(message).fields_by_name
    for key, value in data.items():
        where = f"{path}.{key}" if path else key
        field = fields.get(key)
        if field is None:
            raise MappingError(where, "unknown field")
        set_field(message, field, value, where)


def set_field(message: Message, field: FieldDescriptor, value: JSON, where: str) -> None:
    """Set one field from its JSON value; `where` names it in errors."""
    if value is None:
        message.ClearField(field.name)
        return
    target = getattr(message, field.name)
    if is_map(field):
        assert field.message_type is not None
        if not isinstance(value, dict):
            raise MappingError(where, "expected a JSON object")
        key_field = field.message_type.fields_by_name["key"]
        value_field = field.message_type.fields_by_name["value"]
        target.clear()
        for k, v in value.items():
            item_where = f"{where}.{k}"
            key = scalar_from_json(key_field, _map_key(key_field, k, item_where), item_where)
            if value_field.message_type is not None:
                merge_message_value(target[key], v, item_where)
            else:
                target[key] = scalar_from_json(value_field, v, item_where)
    elif field.is_repeated:
        if not isinstance(value, list):
            raise MappingError(where, "expected a JSON array")
        del target[:]
        for i, item in enumerate(value):
            if field.message_type is not None:
                merge_message_value(target.add(), item, f"{where}[{i}]")
            else:
                target.append(scalar_from_json(field, item, f"{where}[{i}]"))
    elif field.message_type is not None:
        target.SetInParent()
        merge_message_value(target, value, where)
    else:
        setattr(message, field.name, scalar_from_json(field, value, where))


def _map_key(key_field: FieldDescriptor, key: str, where: str) -> JSON:
    if key_field.type == FieldDescriptor.TYPE_STRING:
        return key
    if key_field.type == FieldDescriptor.TYPE_BOOL:
        if key not in ("true", "false"):
            raise MappingError(where, "expected a boolean key")
        return key == "true"
    try:
        return int(key)
    except ValueError:
        raise MappingError(where, "expected an integer key") from None


def merge_message_value(message: Message, value: JSON, where: str) -> None:
    """Fill a message from its JSON value: REST forms of the well-known types, objects otherwise."""
    if isinstance(message, timestamp_pb2.Timestamp):
        message.FromMilliseconds(timestamp_ms_from_json(value, where))
    elif isinstance(message, duration_pb2.Duration):
        message.FromMilliseconds(duration_ms_from_json(value, where))
    elif message.DESCRIPTOR.full_name in FREE_FORM:
        if message.DESCRIPTOR.full_name == STRUCT and not isinstance(value, dict):
            raise MappingError(where, "expected a JSON object")
        try:
            json_format.ParseDict(cast(dict[str, object], value), message)
        except json_format.ParseError as exc:
            raise MappingError(where, f"not a valid {message.DESCRIPTOR.name}: {exc}") from None
    else:
        merge_json(value, message, where)


def timestamp_ms_from_json(value: JSON, where: str) -> int:
    """Epoch milliseconds from a JSON number of milliseconds or an RFC 3339 string."""
    if isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            raise MappingError(where, f"not a valid timestamp: {value!r}") from None
        if parsed.tzinfo is None:
            raise MappingError(where, f"timestamp needs a time zone: {value!r}")
        ms = round(parsed.timestamp() * 1000)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) or not float(value).is_integer():
            raise MappingError(where, "expected epoch milliseconds as an integer")
        ms = int(value)
    else:
        raise MappingError(where, "expected a timestamp (epoch milliseconds)")
    if not _MIN_TS_MS <= ms <= _MAX_TS_MS:
        raise MappingError(where, f"timestamp out of range: {value!r}")
    return ms


def duration_ms_from_json(value: JSON, where: str) -> int:
    if not isinstance(value, str):
        raise MappingError(where, 'expected a duration string such as "5m"')
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise MappingError(where, str(exc)) from None


def scalar_from_json(field: FieldDescriptor, value: JSON, where: str) -> str | int | float | bool | bytes:
    """The Python value of a scalar or enum field, checked against the field's type."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        if not isinstance(value, str):
            raise MappingError(where, "expected a string")
        return value
    if kind == FieldDescriptor.TYPE_BOOL:
        if not isinstance(value, bool):
            raise MappingError(where, "expected a boolean")
        return value
    if kind == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        number = enum_from_json(field.enum_type, value) if isinstance(value, str) else None
        if number is None:
            expected = ", ".join(n for n in enum_json_names(field.enum_type) if n != "unspecified")
            raise MappingError(where, f"unknown value {value!r}, expected one of: {expected}")
        return number
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        if isinstance(value, str) and value in _NON_FINITE:
            return _NON_FINITE[value]
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise MappingError(where, "expected a number")
        return float(value)
    if kind == FieldDescriptor.TYPE_BYTES:
        if not isinstance(value, str):
            raise MappingError(where, "expected a base64 string")
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error:
            raise MappingError(where, "expected a base64 string") from None
    low, high = _INT_RANGES[kind]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise MappingError(where, f"expected an integer between {low} and {high}")
    return value
