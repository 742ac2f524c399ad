"""Go's html/template escaping, as Alertmanager's HTML email templates (`html`) are rendered.

html/template escapes each {{action}} for the HTML context it appears in, and drops the comments
of the template's text. Go infers the contexts from the template before it runs; here the context
is followed over the output while it is written, which comes to the same for templates whose
branches end in the same context (html/template refuses the others). The contexts handled are
what notification HTML uses: text, RCDATA (<title>, <textarea>), quoted and unquoted attribute
values, URL attributes (with Go's urlFilter, urlNormalizer and urlEscaper), and HTML comments.
An action inside <script> or <style>, or in a `style`/`on*` attribute, needs Go's JS and CSS
escapers, which this does not have: it fails rather than send text escaped the wrong way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, auto

from alerting_server.templating.gofmt import format_v
from alerting_server.templating.values import NO_VALUE

# What Go replaces on a failed URL filter.
FILTER_FAILSAFE = "ZgotmplZ"

_HTML_REPLACEMENTS = {
    "\0": "\ufffd",
    '"': "&#34;",
    "&": "&amp;",
    "'": "&#39;",
    "+": "&#43;",
    "<": "&lt;",
    ">": "&gt;",
}
_HTML_NORM_REPLACEMENTS = {k: v for k, v in _HTML_REPLACEMENTS.items() if k != "&"}
# Unquoted attribute values also escape whitespace, '=' and '`' (htmlNospaceReplacementTable).
_NOSPACE_REPLACEMENTS = {
    **_HTML_REPLACEMENTS,
    "\t": "&#9;",
    "\n": "&#10;",
    "\v": "&#11;",
    "\f": "&#12;",
    "\r": "&#13;",
    " ": "&#32;",
    "=": "&#61;",
    "`": "&#96;",
}
_HTML_RE = re.compile("[\0\"&'+<>]")
_HTML_NORM_RE = re.compile("[\0\"'+<>]")
_NOSPACE_RE = re.compile("[\0\"&'+<>\t\n\v\f\r =`]")
_TAG_RE = re.compile(r"<[^>]*>?")

# html/template's attrTypeMap entries of type contentTypeURL.
_URL_ATTRS = frozenset(
    {
        "action",
        "archive",
        "background",
        "cite",
        "classid",
        "codebase",
        "data",
        "formaction",
        "href",
        "icon",
        "longdesc",
        "manifest",
        "poster",
        "profile",
        "src",
        "usemap",
        "xmlns",
    }
)
_RCDATA_ELEMENTS = frozenset({"textarea", "title"})
_RAW_ELEMENTS = frozenset({"script", "style"})


class HTML(str):
    """html/template.HTML: trusted markup, printed as is in HTML text (safeHtml's answer)."""

    go_type_name = "template.HTML"


class URL(str):
    """html/template.URL: a trusted URL, not filtered (safeUrl's answer)."""

    go_type_name = "template.URL"


class UnsupportedContext(ValueError):
    pass


class _State(Enum):
    TEXT = auto()
    TAG_OPEN = auto()  # after '<', reading the element name
    TAG = auto()  # inside a start tag, between attributes
    ATTR_NAME = auto()
    AFTER_NAME = auto()
    BEFORE_VALUE = auto()
    VALUE = auto()
    COMMENT = auto()
    RCDATA = auto()
    RAW = auto()


class _UrlPart(Enum):
    NONE = auto()
    PRE_QUERY = auto()
    QUERY = auto()


@dataclass
class HtmlEscaper:
    """The context of one execution's output, fed with the template's text and its values."""

    state: _State = _State.TEXT
    element: str = ""
    closing: bool = False
    attr: str = ""
    quote: str = ""  # '"', "'" or "" for an unquoted value
    url_part: _UrlPart = _UrlPart.NONE
    # An element whose end tag ends RCDATA or RAW text.
    special: str = ""

    def text(self, text: str) -> str:
        """The template's text as html/template writes it (comments dropped); follows its context."""
        out: list[str] = []
        i = 0
        while i < len(text):
            if self.state is _State.COMMENT:
                end = text.find("-->", i)
                if end < 0:
                    return "".join(out)
                i = end + 3
                self.state = _State.TEXT
                continue
            if self.state is _State.TEXT and text.startswith("<!--", i):
                self.state = _State.COMMENT
                i += 4
                continue
            out.append(text[i])
            self._step(text[i], text, i)
            i += 1
        return "".join(out)

    def value(self, value: object, predefined: str | None = None) -> str:
        """The escaped text of an action's value in the current context. `predefined` is the
        escaper ("urlquery" or "html") the action's pipeline ends with: it stands in for the
        escapers that do the same (Go's equivalentEscapers), which are then not applied again."""
        # html/template prints a missing value (nil) as "", not as text/template's "<no value>".
        s = "" if value is NO_VALUE else format_v(value)
        state = self.state
        if predefined == "html" and state in (_State.TEXT, _State.RCDATA):
            escaped = s
        elif state is _State.TEXT:
            escaped = s if isinstance(value, HTML) else _replace(s, _HTML_RE, _HTML_REPLACEMENTS)
        elif state is _State.RCDATA:
            escaped = (
                _replace(s, _HTML_NORM_RE, _HTML_NORM_REPLACEMENTS)
                if isinstance(value, HTML)
                else _replace(s, _HTML_RE, _HTML_REPLACEMENTS)
            )
        elif state is _State.VALUE:
            escaped = self._attr_value(value, s, predefined)
        elif state is _State.COMMENT:
            escaped = ""
        elif state in (_State.TAG, _State.AFTER_NAME, _State.ATTR_NAME):
            raise UnsupportedContext("an action in an attribute name is not supported in HTML templates")
        elif state is _State.BEFORE_VALUE:
            # An unquoted attribute value that begins with the action.
            self.state = _State.VALUE
            self.quote = ""
            self.url_part = _UrlPart.NONE
            escaped = self._attr_value(value, s, predefined)
        else:
            raise UnsupportedContext(
                f"an action inside <{self.special or self.element}> needs JS or CSS escaping, not supported"
            )
        for j, c in enumerate(escaped):
            self._step(c, escaped, j)
        return escaped

    def _attr_value(self, value: object, s: str, predefined: str | None) -> str:
        attr = self.attr
        if attr == "style" or attr.startswith("on"):
            raise UnsupportedContext(
                f"an action in attribute {attr!r} needs CSS or JS escaping, not supported"
            )
        table, pattern = (
            (_HTML_REPLACEMENTS, _HTML_RE) if self.quote else (_NOSPACE_REPLACEMENTS, _NOSPACE_RE)
        )
        if isinstance(value, HTML):
            s = _TAG_RE.sub("", s)
        if _is_url_attr(attr):
            if self.url_part is _UrlPart.NONE and not isinstance(value, URL) and not _is_safe_url(s):
                s = "#" + FILTER_FAILSAFE
            if predefined != "urlquery":
                s = _url_process(s, norm=self.url_part is not _UrlPart.QUERY)
        if predefined == "html" and self.quote:
            return s
        return _replace(s, pattern, table)

    def _step(self, c: str, text: str, i: int) -> None:
        st = self.state
        if st is _State.TEXT:
            if c == "<":
                self.state = _State.TAG_OPEN
                self.element = ""
                self.closing = False
        elif st is _State.TAG_OPEN:
            if c == "/" and not self.element:
                self.closing = True
            elif c.isalnum() or (self.element and c in "-_:"):
                self.element += c.lower()
            elif c == ">":
                self._end_tag()
            elif self.element:
                self.state = _State.TAG
            else:
                # "<" not followed by a name (or "<!DOCTYPE"): text again, or a declaration.
                self.state = _State.TAG if c == "!" else _State.TEXT
        elif st is _State.TAG:
            if c == ">":
                self._end_tag()
            elif not c.isspace() and c != "/":
                self.state = _State.ATTR_NAME
                self.attr = c.lower()
        elif st is _State.ATTR_NAME:
            if c == "=":
                self.state = _State.BEFORE_VALUE
            elif c.isspace():
                self.state = _State.AFTER_NAME
            elif c == ">":
                self._end_tag()
            else:
                self.attr += c.lower()
        elif st is _State.AFTER_NAME:
            if c == "=":
                self.state = _State.BEFORE_VALUE
            elif c == ">":
                self._end_tag()
            elif not c.isspace():
                self.state = _State.ATTR_NAME
                self.attr = c.lower()
        elif st is _State.BEFORE_VALUE:
            if c in "\"'":
                self.state = _State.VALUE
                self.quote = c
                self.url_part = _UrlPart.NONE
            elif c == ">":
                self._end_tag()
            elif not c.isspace():
                self.state = _State.VALUE
                self.quote = ""
                self.url_part = _UrlPart.NONE
                self._url_step(c)
        elif st is _State.VALUE:
            if (self.quote and c == self.quote) or (not self.quote and c.isspace()):
                self.state = _State.TAG
            elif not self.quote and c == ">":
                self._end_tag()
            else:
                self._url_step(c)
        elif st in (_State.RCDATA, _State.RAW):
            end = f"</{self.special}"
            if c == "<" and text[i : i + len(end)].lower() == end:
                self.state = _State.TAG_OPEN
                self.element = ""
                self.closing = False

    def _url_step(self, c: str) -> None:
        if c in "?#":
            self.url_part = _UrlPart.QUERY
        elif self.url_part is _UrlPart.NONE:
            self.url_part = _UrlPart.PRE_QUERY

    def _end_tag(self) -> None:
        if not self.closing and self.element in _RCDATA_ELEMENTS:
            self.state = _State.RCDATA
            self.special = self.element
        elif not self.closing and self.element in _RAW_ELEMENTS:
            self.state = _State.RAW
            self.special = self.element
        else:
            self.state = _State.TEXT
            self.special = ""


def _replace(s: str, pattern: re.Pattern[str], table: dict[str, str]) -> str:
    return pattern.sub(lambda m: table[m.group(0)], s)


def _is_url_attr(name: str) -> bool:
    name = name.removeprefix("data-") if name.startswith("data-") else name
    if ":" in name:
        prefix, _, local = name.partition(":")
        name = name if prefix == "xmlns" else local
    return name in _URL_ATTRS or "src" in name or "uri" in name or "url" in name


def _is_safe_url(s: str) -> bool:
    protocol, sep, _ = s.partition(":")
    if sep and "/" not in protocol:
        return protocol.lower() in ("http", "https", "mailto")
    return True


def _url_process(s: str, *, norm: bool) -> str:
    """Go's urlProcessor: percent-encodes what may not stand in a URL (lower-case hex)."""
    out: list[str] = []
    data = s.encode()
    for i, b in enumerate(data):
        c = chr(b)
        kept = c in _UNRESERVED or (norm and c in _RESERVED)
        if not kept and c == "%" and norm:
            # When normalizing, a valid escape stays as it is.
            kept = i + 2 < len(data) and chr(data[i + 1]) in _HEX and chr(data[i + 2]) in _HEX
        out.append(c if kept else f"%{b:02x}")
    return "".join(out)


_HEX = frozenset("0123456789abcdefABCDEF")
_RESERVED = frozenset("!#$&*+,/:;=?@[]")
_UNRESERVED = frozenset("-._~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
