"""alerting.v1 messages to and from plain JSON values in the shape of the REST contract (API.md).

Timestamps are epoch milliseconds, durations Prometheus strings ("5m"), enums their lower-case
short names ("firing" for ALERT_STATE_FIRING), Struct fields plain objects. An unset message
field reads as null. This is what `alertctl` prints and what its `-f FILE` inputs contain.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeVar, cast

from google.protobuf import duration_pb2, json_format, struct_pb2, timestamp_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message

from alerting.durations import format_duration, parse_duration

JSON = None | bool | int | float | str | list["JSON"] | dict[str, "JSON"]
M = TypeVar("M", bound=Message)

_TIMESTAMP = timestamp_pb2.Timestamp.DESCRIPTOR.full_name
_DURATION = duration_pb2.Duration.DESCRIPTOR.full_name
_STRUCT = struct_pb2.Struct.DESCRIPTOR.full_name


def message_to_dict(message: Message) -> dict[str, JSON]:
    """Every field of `message`, unset ones included, as JSON values."""
    out: dict[str, JSON] = {}
    for field in _fields(message):
        value = getattr(message, field.name)
        if _is_map(field):
            value_field = _map_value_field(field)
            out[field.name] = {str(k): _value_to_json(value_field, v) for k, v in value.items()}
        elif field.is_repeated:
            out[field.name] = [_value_to_json(field, v) for v in value]
        elif field.message_type is not None and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _value_to_json(field, value)
    return out


def dict_to_message(data: Mapping[str, object], message_type: type[M]) -> M:
    """A message built from JSON values; ValueError naming the field when one does not fit."""
    message = message_type()
    _fill(message, data, "")
    return message


def enum_name(enum: EnumDescriptor, number: int) -> str:
    """The short name of an enum value: "firing" for ALERT_STATE_FIRING."""
    value = enum.values_by_number.get(number)
    if value is None:
        return str(number)
    return value.name.removeprefix(_enum_prefix(enum)).lower()


def enum_number(enum: EnumDescriptor, name: str) -> int:
    """The number of a short ("firing") or full ("ALERT_STATE_FIRING") enum value name."""
    full = name.upper()
    if not full.startswith(_enum_prefix(enum)):
        full = _enum_prefix(enum) + full
    value = enum.values_by_name.get(full)
    if value is None or value.number == 0:
        choices = ", ".join(enum_choices(enum))
        raise ValueError(f"unknown value {name!r}; expected one of: {choices}")
    return int(value.number)


def enum_choices(enum: EnumDescriptor) -> list[str]:
    """The short names of an enum's values, without the _UNSPECIFIED zero."""
    return [enum_name(enum, v.number) for v in enum.values if v.number != 0]


def _enum_prefix(enum: EnumDescriptor) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"


def _fields(message: Message) -> Sequence[FieldDescriptor]:
    # The stubs type DESCRIPTOR as the union of the pure-Python and upb classes; both have these fields.
    return cast(Descriptor, message.DESCRIPTOR).fields


def _field_named(message: Message, name: str) -> FieldDescriptor | None:
    return cast(Descriptor, message.DESCRIPTOR).fields_by_name.get(name)


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _map_value_field(field: FieldDescriptor) -> FieldDescriptor:
    assert field.message_type is not None
    return field.message_type.fields_by_name["value"]


def _message_name(field: FieldDescriptor) -> str:
    assert field.message_type is not None
    return field.message_type.full_name


def _value_to_json(field: FieldDescriptor, value: object) -> JSON:
    if field.enum_type is not None:
        assert isinstance(value, int)
        return enum_name(field.enum_type, value)
    if isinstance(value, timestamp_pb2.Timestamp):
        return value.ToMilliseconds()
    if isinstance(value, duration_pb2.Duration):
        return format_duration(value.ToMilliseconds())
    if isinstance(value, struct_pb2.Struct):
        return _json(json_format.MessageToDict(value))
    if isinstance(value, Message):
        return message_to_dict(value)
    return _json(value)


def _json(value: object) -> JSON:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    raise TypeError(f"not a JSON value: {value!r}")


def _fill(message: Message, data: Mapping[str, object], path: str) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"{path or 'body'}: expected an object, got {type(data).__name__}")
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        field = _field_named(message, str(key))
        if field is None:
            raise ValueError(f"{where}: unknown field")
        if value is None:
            continue
        try:
            _set_field(message, field, value, where)
        except (TypeError, ValueError) as exc:
            if str(exc).startswith(f"{where}"):
                raise
            raise ValueError(f"{where}: {exc}") from exc


def _set_field(message: Message, field: FieldDescriptor, value: object, where: str) -> None:
    if _is_map(field):
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: expected an object")
        target = getattr(message, field.name)
        value_field = _map_value_field(field)
        for k, v in value.items():
            if value_field.message_type is not None:
                _fill(target[str(k)], _mapping(v, f"{where}.{k}"), f"{where}.{k}")
            else:
                target[str(k)] = _scalar_at(value_field, v, f"{where}.{k}")
        return
    if field.is_repeated:
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list")
        target = getattr(message, field.name)
        for i, item in enumerate(value):
            if field.message_type is not None:
                _fill_message(target.add(), field, item, f"{where}[{i}]")
            else:
                target.append(_scalar_at(field, item, f"{where}[{i}]"))
        return
    if field.message_type is not None:
        _fill_message(getattr(message, field.name), field, value, where)
        # An empty nested object must still count as set.
        getattr(message, field.name).SetInParent()
        return
    setattr(message, field.name, _scalar(field, value))


def _fill_message(target: Message, field: FieldDescriptor, value: object, where: str) -> None:
    full_name = _message_name(field)
    if full_name == _TIMESTAMP:
        assert isinstance(target, timestamp_pb2.Timestamp)
        if isinstance(value, str):
            target.FromJsonString(value)
        else:
            target.FromMilliseconds(_integer(value))
    elif full_name == _DURATION:
        assert isinstance(target, duration_pb2.Duration)
        target.FromMilliseconds(parse_duration(value) if isinstance(value, str) else _integer(value))
    elif full_name == _STRUCT:
        assert isinstance(target, struct_pb2.Struct)
        json_format.ParseDict(dict(_mapping(value, where)), target)
    else:
        _fill(target, _mapping(value, where), where)


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected an object")
    return value


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def _scalar_at(field: FieldDescriptor, value: object, where: str) -> object:
    try:
        return _scalar(field, value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def _scalar(field: FieldDescriptor, value: object) -> object:
    if field.enum_type is not None:
        if isinstance(value, str):
            return enum_number(field.enum_type, value)
        return _integer(value)
    kind = field.cpp_type
    if kind == FieldDescriptor.CPPTYPE_STRING:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {value!r}")
        return value
    if kind == FieldDescriptor.CPPTYPE_BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if kind in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
        return float(value)
    return _integer(value)
