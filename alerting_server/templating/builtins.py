"""The functions every Go template has (text/template/funcs.go), with Go's errors.

`and` and `or` short-circuit, so the executor evaluates them itself; they are listed here so
that `call`-style uses and parse-time name checks agree.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping

from alerting_server.templating.gofmt import format_v, sprint, sprintf, sprintln
from alerting_server.templating.values import NO_VALUE, go_type_name, is_missing, map_zero, truth


class BuiltinError(Exception):
    """An error a builtin returns; the executor reports it as `error calling <name>: ...`."""


def _eval_args(args: tuple[object, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*args)


def not_(arg: object) -> bool:
    return not truth(arg)


def and_(arg0: object, *args: object) -> object:
    for a in (arg0, *args):
        if not truth(a):
            return a
    return args[-1] if args else arg0


def or_(arg0: object, *args: object) -> object:
    for a in (arg0, *args):
        if truth(a):
            return a
    return args[-1] if args else arg0


def len_(item: object) -> int:
    if is_missing(item):
        raise BuiltinError("len of nil pointer")
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, list | tuple | Mapping | bytes):
        return len(item)
    raise BuiltinError(f"len of type {go_type_name(item)}")


def _index_arg(index: object, cap: int) -> int:
    if is_missing(index):
        raise BuiltinError("cannot index slice/array with nil")
    if not isinstance(index, int) or isinstance(index, bool):
        raise BuiltinError(f"cannot index slice/array with type {go_type_name(index)}")
    if index < 0 or index > cap:
        raise BuiltinError(f"index out of range: {index}")
    return index


def index(item: object, *indexes: object) -> object:
    if is_missing(item):
        raise BuiltinError("index of untyped nil")
    for idx in indexes:
        if isinstance(item, str | bytes | list | tuple):
            x = _index_arg(idx, len(item))
            if x == len(item):
                raise BuiltinError(f"index out of range: {x}")
            element = item[x]
            item = ord(element) if isinstance(element, str) else element
        elif isinstance(item, Mapping):
            if not isinstance(idx, str):
                raise BuiltinError(f"value has type {go_type_name(idx)}; should be string")
            item = item[idx] if idx in item else map_zero(item)
        elif is_missing(item):
            raise BuiltinError("index of nil pointer")
        else:
            raise BuiltinError(f"can't index item of type {go_type_name(item)}")
    return item


def slice_(item: object, *indexes: object) -> object:
    if is_missing(item):
        raise BuiltinError("slice of untyped nil")
    if len(indexes) > 3:
        raise BuiltinError(f"too many slice indexes: {len(indexes)}")
    if not isinstance(item, str | list | tuple):
        raise BuiltinError(f"can't slice item of type {go_type_name(item)}")
    if isinstance(item, str) and len(indexes) == 3:
        raise BuiltinError("cannot 3-index slice a string")
    cap = len(item)
    idx = [0, len(item)]
    for i, x in enumerate(indexes):
        idx_i = _index_arg(x, cap)
        if i < 2:
            idx[i] = idx_i
        else:
            idx.append(idx_i)
    if idx[0] > idx[1]:
        raise BuiltinError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(idx) == 3 and idx[1] > idx[2]:
        raise BuiltinError(f"invalid slice index: {idx[1]} > {idx[2]}")
    return item[idx[0] : idx[1]]


def print_(*args: object) -> str:
    return sprint(*args)


def printf(fmt: str, *args: object) -> str:
    return sprintf(fmt, *args)


def println(*args: object) -> str:
    return sprintln(*args)


_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


def html(*args: object) -> str:
    return "".join(_HTML.get(c, c) for c in _eval_args(args))


_JS = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def js(*args: object) -> str:
    out = []
    for c in _eval_args(args):
        if c in _JS:
            out.append(_JS[c])
        elif c < " ":
            out.append(f"\\u00{ord(c):02X}")
        elif ord(c) >= 0x80 and not c.isprintable():
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return "".join(out)


def urlquery(*args: object) -> str:
    return urllib.parse.quote_plus(_eval_args(args), safe="")


def call(fn: object, *args: object) -> object:
    if is_missing(fn):
        raise BuiltinError("call of nil")
    if not callable(fn):
        raise BuiltinError(f"non-function {format_v(fn)} of type {go_type_name(fn)}")
    return fn(*args)


# -- comparison ----------------------------------------------------------------------------------


def _kind(v: object) -> str:
    if v is NO_VALUE or v is None:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, complex):
        return "complex"
    if isinstance(v, str):
        return "string"
    return "other"


def eq(arg1: object, *arg2: object) -> bool:
    if not arg2:
        raise BuiltinError("missing argument for comparison")
    k1 = _kind(arg1)
    for arg in arg2:
        k2 = _kind(arg)
        if k1 != k2:
            if k1 != "invalid" and k2 != "invalid":
                raise BuiltinError("incompatible types for comparison")
            continue
        if k1 == "other" and not _comparable(arg1):
            raise BuiltinError(f"non-comparable type {format_v(arg1)}: {go_type_name(arg1)}")
        if arg1 == arg or k1 == "invalid":
            return True
    return False


def _comparable(v: object) -> bool:
    return not isinstance(v, list | tuple | Mapping)


def ne(arg1: object, arg2: object) -> bool:
    return not eq(arg1, arg2)


def lt(arg1: object, arg2: object) -> bool:
    k1, k2 = _kind(arg1), _kind(arg2)
    for k in (k1, k2):
        if k in ("invalid", "other", "bool", "complex"):
            raise BuiltinError("invalid type for comparison")
    if k1 != k2:
        raise BuiltinError("incompatible types for comparison")
    return bool(arg1 < arg2)  # type: ignore[operator]


def le(arg1: object, arg2: object) -> bool:
    return lt(arg1, arg2) or eq(arg1, arg2)


def gt(arg1: object, arg2: object) -> bool:
    return not le(arg1, arg2)


def ge(arg1: object, arg2: object) -> bool:
    return not lt(arg1, arg2)


BUILTINS: Mapping[str, Callable[..., object]] = {
    "and": and_,
    "call": call,
    "html": html,
    "index": index,
    "slice": slice_,
    "js": js,
    "len": len_,
    "not": not_,
    "or": or_,
    "print": print_,
    "printf": printf,
    "println": println,
    "urlquery": urlquery,
    "eq": eq,
    "ge": ge,
    "gt": gt,
    "le": le,
    "lt": lt,
    "ne": ne,
}
