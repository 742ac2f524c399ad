"""Prometheus' template functions (template/template.go and prometheus/common helpers/templates)."""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from alerting_common.durations import parse_duration as parse_duration_ms
from alerting_server.templating.gofmt import format_float, format_v
from alerting_server.templating.gotime import GoDuration, GoTime
from alerting_server.templating.strconv import go_quote, parse_float
from alerting_server.templating.textfuncs import match, re_replace_all, strip_domain, strip_port, title
from alerting_server.templating.values import StrMap, go_type_name

_INT64_LIMIT = float(2**63)


class QuerySample(Protocol):
    """One element of an instant vector, as the `query` callable returns it."""

    @property
    def Labels(self) -> Mapping[str, str]: ...

    @property
    def Value(self) -> float: ...


QueryFunc = Callable[[str], Sequence[QuerySample]]


@dataclass
class Sample:
    """Prometheus' template `sample`: what `query`, `first` and `range` hand to a template."""

    go_type_name = "*template.sample"
    Labels: StrMap
    Value: float


class FunctionError(ValueError):
    """An error a Prometheus function returns (Go's `error` result)."""


def convert_to_float(i: object) -> float:
    """common_templates.ConvertToFloat."""
    if isinstance(i, bool):
        raise FunctionError(f"can't convert {go_type_name(i)} to float")
    if isinstance(i, float):
        return i
    if isinstance(i, int):
        return float(i)
    if isinstance(i, str):
        return parse_float(i)
    if isinstance(i, GoDuration):
        return i.Seconds()
    if isinstance(i, GoTime):
        return float(i.Unix())
    raise FunctionError(f"can't convert {go_type_name(i)} to float")


def _g4(v: float) -> str:
    return format_float(v, "g", 4)


def humanize(i: object) -> str:
    v = convert_to_float(i)
    if v == 0 or not math.isfinite(v):
        return _g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return _g4(v) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return _g4(v) + prefix


def humanize1024(i: object) -> str:
    v = convert_to_float(i)
    if abs(v) <= 1 or not math.isfinite(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return _g4(v) + prefix


def humanize_duration(i: object) -> str:
    v = convert_to_float(i)
    if not math.isfinite(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = ""
        if v < 0:
            sign, v = "-", -v
        duration = int(v)
        seconds = duration % 60
        minutes = (duration // 60) % 60
        hours = (duration // 3600) % 24
        days = duration // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


def humanize_percentage(i: object) -> str:
    return _g4(convert_to_float(i) * 100) + "%"


def float_to_time(v: float) -> GoTime:
    """model.TimeFromUnixNano(int64(v*1e9)).Time(): millisecond precision, truncated toward zero."""
    if not math.isfinite(v):
        raise FunctionError("value is NaN or Inf")
    ts = v * 1e9
    if ts > _INT64_LIMIT or ts < -_INT64_LIMIT:
        raise FunctionError(
            f"{format_v(v)} cannot be represented as a nanoseconds timestamp since it overflows int64"
        )
    ns = int(ts)
    ms = abs(ns) // 1_000_000 * (1 if ns >= 0 else -1)
    return GoTime(ms * 1_000_000)


def humanize_timestamp(i: object) -> str:
    v = convert_to_float(i)
    if not math.isfinite(v):
        return _g4(v)
    return float_to_time(v).String()


def to_time(i: object) -> GoTime:
    return float_to_time(convert_to_float(i))


def to_duration(i: object) -> GoDuration:
    v = convert_to_float(i)
    if not math.isfinite(v):
        raise FunctionError("value is NaN or Inf")
    d = v * 1e9
    if d > _INT64_LIMIT or d < -_INT64_LIMIT:
        raise FunctionError(
            f"{format_v(v)} cannot be represented as a nanoseconds duration since it overflows int64"
        )
    return GoDuration(int(d))


def parse_duration(d: str) -> float:
    """model.ParseDuration, in seconds."""
    try:
        return parse_duration_ms(d) / 1000.0
    except ValueError:
        if d == "":
            raise FunctionError("empty duration string") from None
        raise FunctionError(f"not a valid duration string: {go_quote(d)}") from None


def first(v: Sequence[Sample]) -> Sample:
    if len(v) > 0:
        return v[0]
    raise FunctionError("first() called on vector with no elements")


def label(name: str, s: Sample) -> str:
    return s.Labels.get(name, "")


def value(s: Sample) -> float:
    return s.Value


def strvalue(s: Sample) -> str:
    return s.Labels.get("__value__", "")


def args(*values: object) -> dict[str, object]:
    return {f"arg{i}": a for i, a in enumerate(values)}


def sort_by_label(name: str, v: list[Sample]) -> list[Sample]:
    v.sort(key=lambda s: s.Labels.get(name, ""))
    return v


def safe_html(text: str) -> str:
    return text


def graph_link(expr: str) -> str:
    return f"/graph?g0.expr={urllib.parse.quote_plus(expr, safe='')}&g0.tab=0"


def table_link(expr: str) -> str:
    return f"/graph?g0.expr={urllib.parse.quote_plus(expr, safe='')}&g0.tab=1"


def prometheus_functions(
    *,
    external_url: str = "",
    query: QueryFunc | None = None,
    now_ms: int = 0,
) -> dict[str, Callable[..., object]]:
    """The function map of Prometheus' NewTemplateExpander for one evaluation.

    `now_ms` is the evaluation timestamp (what `now` returns, in seconds); `query` runs PromQL
    at that time. Without `query`, calling `query` fails at execution as it would with no engine.
    """

    def run_query(q: str) -> list[Sample]:
        if query is None:
            raise FunctionError("no query engine available to templates")
        return [Sample(StrMap(s.Labels), s.Value) for s in query(q)]

    def path_prefix() -> str:
        return urllib.parse.urlsplit(external_url).path

    def external_url_() -> str:
        return external_url

    def now() -> float:
        return now_ms / 1000.0

    return {
        "query": run_query,
        "first": first,
        "label": label,
        "value": value,
        "strvalue": strvalue,
        "args": args,
        "reReplaceAll": re_replace_all,
        "safeHtml": safe_html,
        "match": match,
        "title": title_no_lower,
        "toUpper": to_upper,
        "toLower": to_lower,
        "graphLink": graph_link,
        "tableLink": table_link,
        "sortByLabel": sort_by_label,
        "stripPort": strip_port,
        "stripDomain": strip_domain,
        "humanize": humanize,
        "humanize1024": humanize1024,
        "humanizeDuration": humanize_duration,
        "humanizePercentage": humanize_percentage,
        "humanizeTimestamp": humanize_timestamp,
        "toTime": to_time,
        "toDuration": to_duration,
        "now": now,
        "pathPrefix": path_prefix,
        "externalURL": external_url_,
        "parseDuration": parse_duration,
    }


def title_no_lower(text: str) -> str:
    return title(text, lower_rest=False)


def to_upper(s: str) -> str:
    return s.upper()


def to_lower(s: str) -> str:
    return s.lower()
