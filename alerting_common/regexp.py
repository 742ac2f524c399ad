"""Go's `regexp` package on RE2: the regular expressions of Prometheus and Alertmanager.

Matchers, `label_replace`, template functions and silences come from callers, and Python's
backtracking `re` takes exponential time on patterns like `(a+)+b`. RE2 matches in time linear
in the text and reads exactly the syntax Go's `regexp` does, so a pattern means here what it
means to Prometheus. Errors carry Go's messages (`error parsing regexp: missing closing ]: ...`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import re2

__all__ = ["Match", "Regexp", "RegexpError", "compile"]

# RE2's messages as Go's regexp/syntax spells them.
_GO_MESSAGES = {
    "invalid escape sequence": "invalid escape sequence",
    "invalid character class": "invalid character class",
    "invalid character class range": "invalid character class range",
    "missing ]": "missing closing ]",
    "missing )": "missing closing )",
    "unexpected )": "unexpected )",
    "trailing \\": "trailing backslash at end of expression",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid repetition size": "invalid repeat count",
    "bad repetition operator": "invalid nested repetition operator",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid UTF-8": "invalid UTF-8",
    "invalid named capture group": "invalid named capture",
    "pattern too large - compile failed": "expression too large",
    "pattern too large - reverse compile failed": "expression too large",
}

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False

_ANCHOR_NONE = re2._Anchor.UNANCHORED


class RegexpError(ValueError):
    """A pattern Go's regexp.Compile rejects; `reason` is the text after `error parsing regexp: `."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"error parsing regexp: {reason}")
        self.reason = reason


def _encode(text: str) -> bytes:
    # A str may hold lone surrogates (from JSON `\ud800`); they become bytes that are not
    # UTF-8, which RE2 matches like Go matches invalid UTF-8: as no character of a class.
    return text.encode("utf-8", "surrogatepass")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _go_reason(message: str, pattern: str) -> str:
    code, _, arg = message.partition(": ")
    go = _GO_MESSAGES.get(code)
    if go is None:
        return f"{message}: `{pattern}`"
    return f"{go}: `{arg}`" if arg else go


def _reject_byte_class(pattern: str) -> None:
    # RE2 knows `\C` (any byte); Go does not.
    i = pattern.find("\\")
    while i != -1:
        if pattern.startswith("\\C", i):
            raise RegexpError("invalid escape sequence: `\\C`")
        if pattern.startswith("\\Q", i):
            end = pattern.find("\\E", i + 2)
            if end == -1:
                return
            i = end
        i = pattern.find("\\", i + 2)


@dataclass(frozen=True)
class Match:
    """The spans of one match; `group(i)` is None for a group that took no part in it."""

    regexp: Regexp
    data: bytes
    spans: tuple[tuple[int, int], ...]

    def group(self, index: int) -> str | None:
        start, end = self.spans[index]
        return None if start < 0 else _decode(self.data[start:end])

    def expand(self, template: str) -> str:
        """regexp.Expand: `$1`, `${1}`, `$name`, `${name}`, `$$`; the longest name wins (`$1x` is `1x`)."""
        out: list[str] = []
        i = 0
        while True:
            j = template.find("$", i)
            if j < 0:
                out.append(template[i:])
                return "".join(out)
            out.append(template[i:j])
            if template.startswith("$$", j):
                out.append("$")
                i = j + 2
                continue
            name, i = _name(template, j + 1)
            if not name:
                out.append("$")
                i = j + 1
                continue
            index = self._index(name)
            value = self.group(index) if index is not None else None
            out.append(value or "")

    def _index(self, name: str) -> int | None:
        if name.isascii() and name.isdigit():
            num = int(name)
            return num if num < len(self.spans) else None
        return self.regexp.group_index.get(name)


def _is_name_char(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or unicodedata.category(ch) == "Nd"


def _name(template: str, start: int) -> tuple[str, int]:
    """The group name after a `$` at `start - 1` and where the text goes on; "" for none."""
    braced = template.startswith("{", start)
    i = start + 1 if braced else start
    end = i
    while end < len(template) and _is_name_char(template[end]):
        end += 1
    name = template[i:end]
    if not braced:
        return name, end
    if not name or not template.startswith("}", end):
        return "", start
    return name, end + 1


class Regexp:
    """A compiled Go regular expression: leftmost-first, unanchored unless the pattern anchors."""

    __slots__ = ("_re", "group_index", "pattern")

    def __init__(self, pattern: str) -> None:
        _reject_byte_class(pattern)
        try:
            compiled = re2.compile(_encode(pattern), _OPTIONS)
        except re2.error as exc:
            message = exc.args[0] if exc.args else ""
            text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
            raise RegexpError(_go_reason(text, pattern)) from None
        self._re = compiled._regexp
        self.pattern = pattern
        self.group_index: dict[str, int] = {
            _decode(name): index for name, index in self._re.NamedCapturingGroups()
        }

    def _spans(self, data: bytes, pos: int) -> tuple[tuple[int, int], ...]:
        spans: list[tuple[int, int]] = self._re.Match(_ANCHOR_NONE, data, pos, len(data))
        return tuple(spans)

    def search(self, text: str) -> bool:
        """regexp.MatchString: does `text` contain a match."""
        data = _encode(text)
        return bool(self._re.Match(_ANCHOR_NONE, data, 0, len(data))[0][0] >= 0)

    def find(self, text: str) -> Match | None:
        """regexp.FindStringSubmatchIndex: the leftmost match and its groups."""
        data = _encode(text)
        spans = self._spans(data, 0)
        return Match(self, data, spans) if spans[0][0] >= 0 else None

    def replace_all(self, text: str, repl: str | Callable[[Match], str]) -> str:
        """regexp.ReplaceAllString: every match replaced by `repl`, `$` expanded as in Expand."""
        data = _encode(text)
        out: list[bytes] = []
        last_end = 0
        pos = 0
        while pos <= len(data):
            spans = self._spans(data, pos)
            start, end = spans[0]
            if start < 0:
                break
            out.append(data[last_end:start])
            # No replacement for an empty match right after another match, as in Go.
            if end > last_end or start == 0:
                m = Match(self, data, spans)
                out.append(_encode(repl(m) if callable(repl) else m.expand(repl)))
            last_end = end
            pos = max(_next_char(data, pos), end)
        out.append(data[last_end:])
        return _decode(b"".join(out))


def _next_char(data: bytes, pos: int) -> int:
    """The byte offset after the UTF-8 character at `pos` (one byte past the end at the end)."""
    pos += 1
    while pos < len(data) and data[pos] & 0xC0 == 0x80:
        pos += 1
    return pos


@lru_cache(maxsize=1024)
def compile(pattern: str) -> Regexp:
    """regexp.Compile; RegexpError with Go's message."""
    return Regexp(pattern)
