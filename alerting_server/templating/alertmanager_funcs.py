"""Alertmanager's template functions (template/template.go DefaultFuncs) for notification templates."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from collections.abc import Callable

from alerting_server.templating.gotime import GoDuration, GoTime, load_location, parse_time
from alerting_server.templating.htmlescape import HTML, URL
from alerting_server.templating.prometheus_funcs import humanize_duration, to_lower, to_upper
from alerting_server.templating.textfuncs import match, re_replace_all, title


def title_words(text: str) -> str:
    return title(text, lower_rest=True)


def trim_space(s: str) -> str:
    return s.strip(" \t\n\v\f\r\x85\xa0")


def join(sep: str, s: list[str]) -> str:
    """strings.Join with the arguments swapped, so that `{{ .Names | join "," }}` reads well."""
    return sep.join(s)


def string_slice(*s: str) -> list[str]:
    return list(s)


def date(fmt: str, t: GoTime) -> str:
    return t.Format(fmt)


def tz(name: str, t: GoTime) -> GoTime:
    try:
        return GoTime(t.unix_nano, load_location(name))
    except (KeyError, ValueError):
        raise ValueError(f"unknown time zone {name}") from None


# Go's zero time.Time (0001-01-01T00:00:00Z).
_ZERO_TIME = GoTime(-62_135_596_800 * 1_000_000_000)


def to_date(layout: str, s: str) -> GoTime:
    """time.ParseInLocation in UTC; the zero time when `s` does not fit the layout."""
    try:
        return parse_time(layout, s)
    except ValueError:
        return _ZERO_TIME


def must_to_date(layout: str, s: str) -> GoTime:
    """time.ParseInLocation in UTC; an error when `s` does not fit the layout."""
    return parse_time(layout, s)


def url_unescape(s: str) -> str:
    return urllib.parse.unquote_plus(s, errors="strict")


def safe_html(text: str) -> HTML:
    """html/template.HTML: printed unescaped in an HTML template's text."""
    return HTML(text)


def safe_url(text: str) -> URL:
    """html/template.URL: not filtered in an HTML template's URL attributes."""
    return URL(text)


_URL_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")
_TO_STD_BASE64 = str.maketrans("-_", "+/")


def base64encode(text: str) -> str:
    """base64.URLEncoding (the URL-safe alphabet, padded), to embed in a URL's query."""
    return base64.urlsafe_b64encode(text.encode()).decode()


def base64decode(text: str) -> str:
    """base64.URLEncoding.DecodeString; Go's strings may hold any bytes, a Python str UTF-8 only."""
    bad = next((i for i, c in enumerate(text) if c not in _URL_BASE64 and c not in "\r\n"), None)
    if bad is not None:
        raise ValueError(f"illegal base64 data at input byte {bad}")
    try:
        clean = text.replace("\r", "").replace("\n", "").translate(_TO_STD_BASE64)
        return base64.b64decode(clean, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError, UnicodeEncodeError) as e:
        raise ValueError(f"illegal base64 data: {e}") from None


def to_json(v: object) -> str:
    return json.dumps(v, separators=(",", ":"), default=str)


def list_(*items: object) -> list[object]:
    return list(items)


def append(items: list[object], *more: object) -> list[object]:
    return [*items, *more]


def dict_(*pairs: object) -> dict[str, object]:
    if len(pairs) % 2:
        raise ValueError("dict requires an even number of arguments")
    out: dict[str, object] = {}
    for i in range(0, len(pairs), 2):
        key = pairs[i]
        if not isinstance(key, str):
            raise ValueError("dict keys must be strings")
        out[key] = pairs[i + 1]
    return out


def alertmanager_functions(*, now_ms: int) -> dict[str, Callable[..., object]]:
    """The function map of Alertmanager's notification templates; `since` measures from `now_ms`."""

    def since(t: GoTime) -> GoDuration:
        return GoDuration(now_ms * 1_000_000 - t.unix_nano)

    def now() -> GoTime:
        return GoTime(now_ms * 1_000_000)

    return {
        "toUpper": to_upper,
        "toLower": to_lower,
        "title": title_words,
        "trimSpace": trim_space,
        "join": join,
        "match": match,
        "safeHtml": safe_html,
        "safeUrl": safe_url,
        "urlUnescape": url_unescape,
        "reReplaceAll": re_replace_all,
        "stringSlice": string_slice,
        "date": date,
        "tz": tz,
        "now": now,
        "toDate": to_date,
        "mustToDate": must_to_date,
        "since": since,
        "humanizeDuration": humanize_duration,
        "toJson": to_json,
        "list": list_,
        "append": append,
        "dict": dict_,
        "base64encode": base64encode,
        "base64decode": base64decode,
    }
