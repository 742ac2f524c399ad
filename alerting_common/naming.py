"""REST names of enum values: the lowercase value name without the enum's type prefix.

`ALERT_STATE_FIRING` of `AlertState` is "firing", `CHANNEL_TYPE_PAGERDUTY` is "pagerduty": the prefix
is the enum type name in UPPER_SNAKE (buf's ENUM_VALUE_PREFIX rule guarantees it is there).
"""

from __future__ import annotations

import functools
import re

from google.protobuf.descriptor import EnumDescriptor

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


@functools.cache
def _names(enum: EnumDescriptor) -> tuple[dict[int, str], dict[str, int]]:
    prefix = _CAMEL_BOUNDARY.sub("_", enum.name).upper() + "_"
    by_number: dict[int, str] = {}
    by_name: dict[str, int] = {}
    for value in enum.values:
        short = value.name.removeprefix(prefix).lower()
        by_number.setdefault(value.number, short)
        by_name[short] = value.number
        by_name[value.name.lower()] = value.number
    return by_number, by_name


def enum_to_json(enum: EnumDescriptor, number: int) -> str | int:
    """The REST name of a value; an open enum's unknown number stays a number."""
    return _names(enum)[0].get(number, number)


def enum_from_json(enum: EnumDescriptor, text: str) -> int | None:
    """The number of a REST name (case-insensitive; the full proto name is accepted too), or None."""
    return _names(enum)[1].get(text.lower())


def enum_json_names(enum: EnumDescriptor) -> list[str]:
    """Every REST name of the enum, in declaration order."""
    return list(dict.fromkeys(_names(enum)[0].values()))
