"""Go's fmt package for the values templates handle: Sprint, Sprintln, Sprintf and %v."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal

from alerting_server.templating.strconv import go_quote
from alerting_server.templating.values import NO_VALUE, go_type_name, is_struct, struct_fields


def _shortest_digits(f: float) -> tuple[str, int]:
    """Shortest decimal digits that round-trip `f` (positive, finite), and the decimal point position."""
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    del sign
    ds = "".join(str(d) for d in digits)
    assert isinstance(exp, int)
    return ds, len(ds) + exp


def format_float(f: float, verb: str = "g", prec: int = -1, plus: bool = False, sharp: bool = False) -> str:
    """strconv.FormatFloat as fmt uses it, with fmt's +Inf/NaN spelling."""
    if math.isnan(f):
        return "+NaN" if plus else "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 or plus else "-Inf"
    sign = "-" if math.copysign(1.0, f) < 0 else ("+" if plus else "")
    a = abs(f)
    if verb in "gG" and prec < 0:
        if a == 0:
            return sign + "0"
        digits, dp = _shortest_digits(a)
        exp = dp - 1
        if exp < -4 or exp >= 6:  # strconv: shortest %g switches to %e at precision 6
            mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
            e = "e" if verb == "g" else "E"
            return f"{sign}{mant}{e}{'-' if exp < 0 else '+'}{abs(exp):02d}"
        if dp <= 0:
            return sign + "0." + "0" * (-dp) + digits
        if dp >= len(digits):
            return sign + digits + "0" * (dp - len(digits))
        return sign + digits[:dp] + "." + digits[dp:]
    if verb in "eE" and prec < 0:
        if a == 0:
            mant, exp = "0", 0
        else:
            digits, dp = _shortest_digits(a)
            mant, exp = digits[0] + ("." + digits[1:] if len(digits) > 1 else ""), dp - 1
        return f"{sign}{mant}{verb}{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if verb in "fF" and prec < 0:
        if a == 0:
            return sign + "0"
        digits, dp = _shortest_digits(a)
        if dp <= 0:
            return sign + "0." + "0" * (-dp) + digits
        if dp >= len(digits):
            return sign + digits + "0" * (dp - len(digits))
        return sign + digits[:dp] + "." + digits[dp:]
    spec = ("#" if sharp else "") + f".{prec}" + ("f" if verb == "F" else verb)
    return sign + format(a, spec)


def format_v(value: object, plus: bool = False) -> str:
    """fmt's %v (and Sprint's formatting of one operand)."""
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value, "g", -1, plus)
    if isinstance(value, complex):
        return f"({format_float(value.real, 'g')}{format_float(value.imag, 'g', plus=True)}i)"
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return "[" + " ".join(str(b) for b in value) + "]"
    stringer = getattr(value, "String", None)
    if callable(stringer):
        return str(stringer())
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: _sort_key(kv[0]))
        return "map[" + " ".join(f"{format_v(k)}:{format_v(v)}" for k, v in items) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(format_v(v) for v in value) + "]"
    if is_struct(value):
        return "{" + " ".join(format_v(v) for _, v in struct_fields(value)) + "}"
    return str(value)


def _sort_key(k: object) -> tuple[int, object]:
    if isinstance(k, int | float):
        return (0, k)
    return (1, str(k))


def sprint(*args: object) -> str:
    """fmt.Sprint: spaces between operands when neither side is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i > 0 and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(format_v(arg))
    return "".join(out)


def sprintln(*args: object) -> str:
    return " ".join(format_v(a) for a in args) + "\n"


_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.)?", re.DOTALL)


def _bad(verb: str, arg: object) -> str:
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type_name(arg)}={format_v(arg)})"


def _pad(s: str, width: int | None, minus: bool, zero: bool, numeric: bool) -> str:
    if width is None or len(s) >= width:
        return s
    fill = width - len(s)
    if minus:
        return s + " " * fill
    if zero and numeric:
        sign = s[0] if s[:1] in ("+", "-", " ") else ""
        body = s[len(sign) :]
        if body.startswith(("0x", "0X")):
            return sign + body[:2] + "0" * fill + body[2:]
        return sign + "0" * fill + body
    if zero and not numeric:
        return "0" * fill + s
    return " " * fill + s


def _format_one(verb: str, flags: str, width: int | None, prec: int | None, arg: object) -> str:
    plus, minus, sharp, space, zero = "+" in flags, "-" in flags, "#" in flags, " " in flags, "0" in flags
    if verb == "T":
        return _pad(go_type_name(arg), width, minus, False, False)
    if (verb == "v" and not isinstance(arg, float | int)) or (verb == "s" and isinstance(arg, str)):
        s = format_v(arg)
        if prec is not None:
            s = s[:prec]
        return _pad(s, width, minus, zero, False)
    if isinstance(arg, list | tuple) and verb not in "vT":
        return "[" + " ".join(_format_one(verb, flags, width, prec, a) for a in arg) + "]"
    if isinstance(arg, bool):
        if verb in "tv":
            return _pad(format_v(arg), width, minus, False, False)
        return _bad(verb, arg)
    if isinstance(arg, int):
        return _format_int(verb, arg, plus, sharp, space, zero and prec is None, minus, width, prec)
    if isinstance(arg, float):
        if verb not in "vbeEfFgGxX":
            return _bad(verb, arg)
        v = "g" if verb == "v" else verb
        if v in "xXb":
            return _bad(verb, arg)
        default_prec = 6 if v in "eEfF" else -1
        s = format_float(arg, v, default_prec if prec is None else prec, plus, sharp)
        if space and not s.startswith(("+", "-")):
            s = " " + s
        numeric = math.isfinite(arg)
        return _pad(s, width, minus, zero, numeric)
    if isinstance(arg, str):
        if verb == "q":
            s = go_quote(arg if prec is None else arg[:prec])
            if sharp and "`" not in arg:
                s = "`" + arg + "`"
            return _pad(s, width, minus, False, False)
        if verb in "xX":
            data = (arg if prec is None else arg[:prec]).encode()
            sep = " " if space else ""
            h = sep.join(f"{b:02x}" for b in data)
            if verb == "X":
                h = h.upper()
            return _pad(h, width, minus, False, False)
        return _bad(verb, arg)
    if verb == "s" or verb == "v":
        s = format_v(arg)
        return _pad(s if prec is None else s[:prec], width, minus, False, False)
    return _bad(verb, arg)


def _format_int(
    verb: str,
    n: int,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    minus: bool,
    width: int | None,
    prec: int | None,
) -> str:
    if verb in "eEfFgG":
        return _bad(verb, n)
    if verb == "c":
        return _pad(chr(n), width, minus, False, False)
    if verb == "q":
        return _pad(go_quote(chr(n), "'"), width, minus, False, False)
    if verb == "U":
        s = f"U+{n:04X}"
        return _pad(s + (f" '{chr(n)}'" if sharp else ""), width, minus, False, False)
    base = {"d": 10, "v": 10, "x": 16, "X": 16, "o": 8, "O": 8, "b": 2}.get(verb)
    if base is None:
        return _bad(verb, n)
    body = format(abs(n), {10: "d", 16: "x", 8: "o", 2: "b"}[base])
    if verb == "X":
        body = body.upper()
    if prec is not None:
        body = "" if prec == 0 and n == 0 else body.rjust(prec, "0")
    if sharp or verb == "O":
        body = {16: "0x" if verb == "x" else "0X", 8: "0o" if verb == "O" else "0", 2: "0b", 10: ""}[
            base
        ] + body
    sign = "-" if n < 0 else ("+" if plus else (" " if space else ""))
    return _pad(sign + body, width, minus, zero, True)


_MAX_NUM = 1_000_000  # fmt's tooLarge: a width or precision past this is an error, not a huge pad


def _parsenum(digits: str) -> int | None:
    """fmt's parsenum: None when the number overflows (Go then reads no verb at all)."""
    num = 0
    for d in digits:
        if num > _MAX_NUM:
            return None
        num = num * 10 + int(d)
    return num


def sprintf(fmt: str, *args: object) -> str:
    """fmt.Sprintf with Go's verbs and Go's in-band error notes (%!d(string=x), %!v(MISSING))."""
    out: list[str] = []
    argi = 0
    i = 0
    while i < len(fmt):
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        m = _VERB.match(fmt, j)
        assert m is not None
        flags, width_s, prec_s, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        i = m.end()
        if verb is None:
            out.append("%!(NOVERB)")
            break
        width: int | None = None
        prec: int | None = None
        if (width_s and width_s != "*" and _parsenum(width_s) is None) or (
            prec_s and prec_s != "*" and _parsenum(prec_s) is None
        ):
            out.append("%!(NOVERB)")
            break
        if width_s == "*":
            w = args[argi] if argi < len(args) else None
            if isinstance(w, int) and abs(w) <= _MAX_NUM:
                width = abs(w)
                if w < 0:
                    flags += "-"
            else:
                out.append("%!(BADWIDTH)")
            argi += 1
        elif width_s:
            width = int(width_s)
        if prec_s == "*":
            p = args[argi] if argi < len(args) else None
            if isinstance(p, int) and abs(p) <= _MAX_NUM:
                prec = p if p >= 0 else None
            else:
                out.append("%!(BADPREC)")
            argi += 1
        elif prec_s is not None:
            prec = int(prec_s) if prec_s else 0
        if verb == "%":
            out.append("%")
            continue
        if argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_format_one(verb, flags, width, prec, args[argi]))
        argi += 1
    if argi < len(args):
        extra = ", ".join(
            f"{go_type_name(a)}={format_v(a)}" if a is not None else "<nil>" for a in args[argi:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
