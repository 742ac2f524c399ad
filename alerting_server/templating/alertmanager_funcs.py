"""Alertmanager's template functions (template/template.go DefaultFuncs) for notification templates."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable

from alerting_server.templating.gotime import GoDuration, GoTime, load_location
from alerting_server.templating.prometheus_funcs import humanize_duration, safe_html, to_lower, to_upper
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


def url_unescape(s: str) -> str:
    return urllib.parse.unquote_plus(s, errors="strict")


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

    return {
        "toUpper": to_upper,
        "toLower": to_lower,
        "title": title_words,
        "trimSpace": trim_space,
        "join": join,
        "match": match,
        "safeHtml": safe_html,
        "safeUrl": safe_html,
        "urlUnescape": url_unescape,
        "reReplaceAll": re_replace_all,
        "stringSlice": string_slice,
        "date": date,
        "tz": tz,
        "since": since,
        "humanizeDuration": humanize_duration,
        "toJson": to_json,
        "list": list_,
        "append": append,
        "dict": dict_,
    }
