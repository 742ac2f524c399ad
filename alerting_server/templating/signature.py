"""What Go would know from a function's type: arity, variadic-ness and parameter types.

Read from the Python signature and annotations, so that `{{ toUpper 3 }}` fails as in Go
(`wrong type for value; expected string; got int`) instead of silently working.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# Go type names of the Python annotations we check; anything else is interface{}.
_GO_TYPES: dict[object, str] = {str: "string", float: "float64", int: "int", bool: "bool"}


@dataclass(frozen=True)
class Signature:
    params: tuple[str | None, ...]  # Go type name per fixed parameter; None: any value
    variadic: str | bool | None  # False: not variadic; else the element type as in params

    @property
    def num_fixed(self) -> int:
        return len(self.params)

    def param_type(self, i: int) -> str | None:
        if i < len(self.params):
            return self.params[i]
        return None if self.variadic is False or self.variadic is True else self.variadic


@lru_cache(maxsize=1024)
def signature_of(fn: Callable[..., object]) -> Signature:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return Signature((), True)
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # annotations that cannot be resolved are simply not checked
        hints = {}
    params: list[str | None] = []
    variadic: str | bool | None = False
    for p in sig.parameters.values():
        go_type = _GO_TYPES.get(hints.get(p.name))
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            if p.default is not p.empty:
                continue
            params.append(go_type)
        elif p.kind == p.VAR_POSITIONAL:
            variadic = go_type
    return Signature(tuple(params), variadic)
