"""Names of the functions a template may call, known before any value exists (parse time)."""

from __future__ import annotations

BUILTIN_FUNCTIONS = frozenset(
    {
        "and",
        "call",
        "html",
        "index",
        "slice",
        "js",
        "len",
        "not",
        "or",
        "print",
        "printf",
        "println",
        "urlquery",
        "eq",
        "ge",
        "gt",
        "le",
        "lt",
        "ne",
    }
)

# Prometheus' template/template.go (rules, consoles); `query` needs a query source to run.
PROMETHEUS_FUNCTIONS = frozenset(
    {
        "query",
        "first",
        "label",
        "value",
        "strvalue",
        "args",
        "reReplaceAll",
        "safeHtml",
        "match",
        "title",
        "toUpper",
        "toLower",
        "graphLink",
        "tableLink",
        "sortByLabel",
        "stripPort",
        "stripDomain",
        "humanize",
        "humanize1024",
        "humanizeDuration",
        "humanizePercentage",
        "humanizeTimestamp",
        "toTime",
        "toDuration",
        "now",
        "pathPrefix",
        "externalURL",
        "parseDuration",
        "tmpl",
    }
)

# Alertmanager's template/template.go (notification templates).
ALERTMANAGER_FUNCTIONS = frozenset(
    {
        "toUpper",
        "toLower",
        "title",
        "trimSpace",
        "join",
        "match",
        "safeHtml",
        "safeUrl",
        "urlUnescape",
        "reReplaceAll",
        "stringSlice",
        "date",
        "tz",
        "now",
        "toDate",
        "mustToDate",
        "since",
        "humanizeDuration",
        "toJson",
        "list",
        "append",
        "dict",
        "base64encode",
        "base64decode",
    }
)
