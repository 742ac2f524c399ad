"""JSON as Go's json.NewEncoder(w).Encode writes it, the bytes Alertmanager's integrations send.

Compact, UTF-8, with '<', '>' and '&' escaped as \\u003c, \\u003e, \\u0026 (HTML-safe), U+2028 and
U+2029 escaped, control characters other than \\n, \\r and \\t as \\u00XX (the Go releases that
Alertmanager 0.25 is built with), and a trailing newline. Objects keep the order they are given in:
callers give structs in their fields' order and maps sorted by key, as Go marshals them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HTML_SAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _string(s: str) -> str:
    out = ['"']
    for c in s:
        escaped = _ESCAPES.get(c) or _HTML_SAFE.get(c)
        if escaped is not None:
            out.append(escaped)
        elif c < " ":
            out.append(f"\\u{ord(c):04x}")
        elif "\ud800" <= c <= "\udfff":
            # A lone surrogate is not UTF-8: Go writes the replacement character.
            out.append("\ufffd")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _value(v: object, out: list[str]) -> None:
    if v is None:
        out.append("null")
    elif isinstance(v, bool):
        out.append("true" if v else "false")
    elif isinstance(v, int):
        out.append(str(v))
    elif isinstance(v, str):
        out.append(_string(v))
    elif isinstance(v, Mapping):
        out.append("{")
        for i, (k, item) in enumerate(v.items()):
            if i:
                out.append(",")
            out.append(_string(str(k)))
            out.append(":")
            _value(item, out)
        out.append("}")
    elif isinstance(v, Sequence):
        out.append("[")
        for i, item in enumerate(v):
            if i:
                out.append(",")
            _value(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(v).__name__} as JSON")


def encode(value: object) -> bytes:
    out: list[str] = []
    _value(value, out)
    out.append("\n")
    return "".join(out).encode()
