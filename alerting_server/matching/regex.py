"""Go RE2 regular expressions, evaluated with Python's `re`.

Matchers in rule files, silences and routes are written for Prometheus and Alertmanager,
which use RE2. Python's `re` reads most of that syntax the same way; this module rewrites
the few spellings that differ (`\\z`, `(?<name>`, `[[:alpha:]]`, `\\x{41}`, `\\Q...\\E`, `$`)
and refuses what RE2 does not have (backreferences, lookarounds, possessive and atomic
forms), so a pattern accepted here is one Alertmanager would accept too.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache

from alerting_server.matching.errors import RegexError

_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_RE2_FLAGS = set("imsU")
_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_MAX_REPEAT = 1000


class _Translator:
    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []
        # RE2's `$` without (?m) only matches at the very end; Python's also matches before a
        # final newline. Scoped multiline flags are rare enough that any `m` keeps `$` as is.
        self.multiline = re.search(r"\(\?[A-Za-z-]*m[A-Za-z-]*[:)]", pattern) is not None
        # Flag groups `(?i)` opened at each nesting depth: RE2 applies them to the rest of
        # the group, Python 3.11 only at the very start, so they become scoped `(?i:...)`.
        self.open_flags: list[list[str]] = [[]]

    def fail(self, what: str) -> RegexError:
        return RegexError(f"invalid regular expression {self.src!r}: {what} (Go RE2 syntax)")

    def run(self) -> str:
        src = self.src
        while self.pos < len(src):
            c = src[self.pos]
            if c == "\\":
                self.escape(in_class=False)
            elif c == "[":
                self.char_class()
            elif c == "(":
                self.group()
            elif c == ")":
                if len(self.open_flags) == 1:
                    raise self.fail(f"unexpected ) at position {self.pos}")
                self.out.append(")" * len(self.open_flags.pop()) + ")")
                self.pos += 1
            elif c == "|":
                flags = self.open_flags[-1]
                self.out.append(")" * len(flags) + "|" + "".join(f"(?{f}:" for f in flags))
                self.pos += 1
            elif c == "$":
                self.out.append("$" if self.multiline else "\\Z")
                self.pos += 1
            elif c in "*+?":
                self.out.append(c)
                self.pos += 1
                self.after_quantifier()
            elif c == "{":
                self.repeat()
            else:
                self.out.append(c)
                self.pos += 1
        if len(self.open_flags) > 1:
            raise self.fail("missing closing )")
        self.out.append(")" * len(self.open_flags[0]))
        return "".join(self.out)

    def repeat(self) -> None:
        m = _REPEAT.match(self.src, self.pos)
        if m is None:
            # Not a repetition, so RE2 reads a literal brace; Python would take `{,3}` as one.
            self.out.append("\\{")
            self.pos += 1
            return
        if any(int(n) > _MAX_REPEAT for n in m.groups() if n):
            raise self.fail(f"invalid repeat count {m.group(0)}: at most {_MAX_REPEAT}")
        self.out.append(m.group(0))
        self.pos = m.end()
        self.after_quantifier()

    def after_quantifier(self) -> None:
        # `?` after a quantifier is RE2's non-greedy form; `+` is Python's possessive form.
        if self.pos < len(self.src) and self.src[self.pos] == "?":
            self.out.append("?")
            self.pos += 1
        if self.src.startswith(("*", "+", "?"), self.pos) or _REPEAT.match(self.src, self.pos):
            raise self.fail(f"invalid nested repetition operator at position {self.pos}")

    def escape(self, in_class: bool) -> None:
        src = self.src
        if self.pos + 1 >= len(src):
            raise self.fail("trailing backslash at end of expression")
        c = src[self.pos + 1]
        if c.isdigit() and c != "0":
            raise self.fail(f"backreference \\{c} is not supported")
        if c in "gk":
            raise self.fail(f"backreference \\{c} is not supported")
        if c == "Z":
            raise self.fail("\\Z is not supported; use \\z for the end of text")
        if c in "pP":
            raise self.fail(f"Unicode class \\{c} is not supported")
        if c == "C":
            raise self.fail("\\C is not supported")
        if c == "z" and not in_class:
            self.out.append("\\Z")
            self.pos += 2
            return
        if c == "x" and src.startswith("{", self.pos + 2):
            end = src.find("}", self.pos + 3)
            digits = src[self.pos + 3 : end] if end != -1 else ""
            if (
                not digits
                or not all(d in "0123456789abcdefABCDEF" for d in digits)
                or int(digits, 16) > 0x10FFFF
            ):
                raise self.fail(f"invalid escape sequence at position {self.pos}")
            self.out.append(f"\\U{int(digits, 16):08x}")
            self.pos = end + 1
            return
        if c == "Q" and not in_class:
            end = src.find("\\E", self.pos + 2)
            literal = src[self.pos + 2 :] if end == -1 else src[self.pos + 2 : end]
            self.out.append(re.escape(literal))
            self.pos = len(src) if end == -1 else end + 2
            return
        self.out.append(src[self.pos : self.pos + 2])
        self.pos += 2

    def char_class(self) -> None:
        src = self.src
        self.out.append("[")
        self.pos += 1
        if src.startswith("^", self.pos):
            self.out.append("^")
            self.pos += 1
        if src.startswith("]", self.pos):  # a leading ] is a literal, in RE2 as in Python
            self.out.append("\\]")
            self.pos += 1
        while True:
            if self.pos >= len(src):
                raise self.fail("missing closing ]")
            c = src[self.pos]
            if c == "]":
                self.out.append("]")
                self.pos += 1
                return
            if c == "\\":
                self.escape(in_class=True)
            elif c == "[" and src.startswith("[:", self.pos):
                end = src.find(":]", self.pos + 2)
                name = src[self.pos + 2 : end] if end != -1 else ""
                negated = name.startswith("^")
                body = _POSIX_CLASSES.get(name.lstrip("^"))
                if body is None:
                    raise self.fail(f"invalid character class range [:{name}:]")
                if negated:
                    raise self.fail(f"negated POSIX class [:{name}:] is not supported")
                self.out.append(body)
                self.pos = end + 2
            elif c in "[&~|":
                # Python warns about (and may one day interpret) these as set operations.
                self.out.append("\\" + c)
                self.pos += 1
            else:
                self.out.append(c)
                self.pos += 1

    def group(self) -> None:
        src = self.src
        if not src.startswith("(?", self.pos):
            self.out.append("(")
            self.open_flags.append([])
            self.pos += 1
            return
        rest = src[self.pos + 2 :]
        if rest.startswith(("=", "!", "<=", "<!")):
            raise self.fail("lookahead and lookbehind assertions are not supported")
        if rest.startswith("P="):
            raise self.fail("backreference (?P=name) is not supported")
        if rest.startswith(("P<", "<")):
            self.out.append("(?P<")
            self.open_flags.append([])
            self.pos += 4 if rest.startswith("P") else 3
            return
        if rest.startswith("("):
            raise self.fail("conditional groups are not supported")
        if rest.startswith(">"):
            raise self.fail("atomic groups are not supported")
        if rest.startswith("#"):
            raise self.fail("comments are not supported")
        m = re.match(r"([A-Za-z-]*)([:)])", rest)
        if m is None:
            raise self.fail(f"invalid or unsupported Perl syntax at position {self.pos}")
        flags = m.group(1).replace("-", "")
        unknown = sorted(set(flags) - _RE2_FLAGS)
        if unknown or (not flags and m.group(2) == ")"):
            raise self.fail(f"invalid or unsupported Perl syntax: flag group (?{m.group(0)}")
        if "U" in flags:
            raise self.fail("the ungreedy flag U is not supported")
        self.pos += 2 + m.end()
        if m.group(2) == ":":
            self.out.append("(?" + m.group(0))
            self.open_flags.append([])
        else:
            self.out.append(f"(?{m.group(1)}:")
            self.open_flags[-1].append(m.group(1))


@lru_cache(maxsize=4096)
def compile_re2(pattern: str) -> re.Pattern[str]:
    """Compile an RE2 pattern as an anchored Python regex (match with `fullmatch`)."""
    translated = _Translator(pattern).run()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # RE2's \d \w \s \b are ASCII-only.
            return re.compile(f"(?:{translated})", re.ASCII)
    except (re.error, FutureWarning, DeprecationWarning) as e:
        raise RegexError(f"invalid regular expression {pattern!r}: {e}") from None
