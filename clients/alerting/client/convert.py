"""alerting.v1 messages to and from plain JSON values in the shape of the REST contract (API.md).

The same mapping the REST gateway serves (alerting_common.jsonmap): timestamps are epoch milliseconds,
durations Prometheus strings ("5m"), enums their lower-case short names ("firing" for
ALERT_STATE_FIRING), Struct fields plain objects, unset messages and optional scalars null. This is
what `alertctl` prints and what its `-f FILE` inputs contain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar, cast

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message

from alerting_common.jsonmap import JSON, JSONObject, merge_json, to_json
from alerting_common.naming import enum_from_json, enum_json_names, enum_to_json

M = TypeVar("M", bound=Message)

__all__ = ["JSON", "dict_to_message", "enum_choices", "enum_name", "enum_number", "message_to_dict"]


def message_to_dict(message: Message) -> JSONObject:
    """Every field of `message`, unset ones included, as JSON values."""
    return to_json(message)


def dict_to_message(data: Mapping[str, object], message_type: type[M]) -> M:
    """A message built from JSON values; ValueError (alerting_common.jsonmap.MappingError) naming the
    field when one does not fit."""
    message = message_type()
    merge_json(cast(JSON, dict(data)), message)
    return message


def enum_name(enum: EnumDescriptor, number: int) -> str:
    """The short name of an enum value: "firing" for ALERT_STATE_FIRING."""
    return str(enum_to_json(enum, number))


def enum_number(enum: EnumDescriptor, name: str) -> int:
    """The number of a short ("firing") or full ("ALERT_STATE_FIRING") enum value name."""
    number = enum_from_json(enum, name)
    if number is None or number == 0:
        raise ValueError(f"unknown value {name!r}; expected one of: {', '.join(enum_choices(enum))}")
    return number


def enum_choices(enum: EnumDescriptor) -> list[str]:
    """The short names of an enum's values, without the _UNSPECIFIED zero."""
    zero = enum_to_json(enum, 0)
    return [name for name in enum_json_names(enum) if name != zero]
