"""Go's value semantics for Python data: missing values, typed maps, truth, type names.

Python has no static types, so two Go distinctions that templates can observe are carried here:
`NO_VALUE` is Go's invalid reflect.Value (printed `<no value>`), and `StrMap` is a
map[string]string, whose missing keys read as "" (Prometheus' $labels) where a plain dict,
like Go's map[string]interface{}, reads as `<no value>`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Final


class _NoValue:
    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Final = _NoValue()


class StrMap(dict[str, str]):
    """A Go map[string]string: a missing key is the zero value ""."""


def is_missing(value: object) -> bool:
    return value is NO_VALUE or value is None


def map_zero(m: Mapping[object, object]) -> object:
    """The value a missing key of `m` reads as."""
    return "" if isinstance(m, StrMap) else NO_VALUE


def is_struct(value: object) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def truth(value: object) -> bool:
    """Go's template truth: false, 0, nil, and empty strings, slices and maps are false."""
    if value is None or value is NO_VALUE:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | complex):
        return value != 0
    if isinstance(value, str | bytes | list | tuple | Mapping | set | frozenset):
        return len(value) > 0
    return True


def go_type_name(value: object) -> str:
    """The Go type a Python value stands for, as Go prints it in errors and %T."""
    if value is None or value is NO_VALUE:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, complex):
        return "complex128"
    if isinstance(value, str):
        return "string"
    if isinstance(value, StrMap):
        return "map[string]string"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, str) for v in value):
            return "[]string"
        return "[]interface {}"
    go_name = getattr(type(value), "go_type_name", None)
    if isinstance(go_name, str):
        return go_name
    return type(value).__name__


def go_methods(value: object) -> AbstractSet[str]:
    """The Go methods a value's type declares in its `go_methods` attribute (a map or slice type
    with methods, such as Alertmanager's template.KV): templates find them before a map's keys, as
    Go does, and on lists, which otherwise have no fields."""
    methods = getattr(type(value), "go_methods", None)
    return methods if isinstance(methods, AbstractSet) else frozenset()


def struct_fields(value: object) -> Iterable[tuple[str, object]]:
    if is_struct(value):
        for f in dataclasses.fields(value):  # type: ignore[arg-type]
            yield f.name, getattr(value, f.name)
