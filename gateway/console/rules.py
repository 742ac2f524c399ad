"""The rules pages: every group with its rules' health, last evaluation and its time, last error and
the alerts each produced; and a rule's page, where its query runs over a range around now against
the query API (QueryRange, on the rule's own datasource) and is drawn with its threshold."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from urllib.parse import quote

import grpc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alerting.v1 import alert_service_pb2, metrics_service_pb2, rule_service_pb2
from alerting_common.durations import format_duration
from alerting_common.jsonmap import JSON, JSONObject, to_json
from gateway.console.page import (
    PAGE_SIZE,
    PREFIX,
    Console,
    dl,
    errors_html,
    esc,
    format_time,
    html_page,
    labels_text,
    refusal,
    rpc_reasons,
)
from gateway.console.plot import Line, split_threshold, svg_plot
from gateway.errors import guarded

LIST_RULES = "alerting.v1.RuleService.ListRules"
GET_RULE = "alerting.v1.RuleService.GetRule"
LIST_ALERTS = "alerting.v1.AlertService.ListAlerts"
QUERY_RANGE = "alerting.v1.MetricsService.QueryRange"
RPCS = frozenset({LIST_RULES, GET_RULE, LIST_ALERTS, QUERY_RANGE})
# ListRules and ListAlerts cap a page at 1000; the rules page reads at most this many pages of each.
# The ranges a rule's plot offers; about 240 points across each.
RANGES = {"15m": 900_000, "1h": 3_600_000, "6h": 21_600_000, "1d": 86_400_000}
DEFAULT_RANGE = "1h"
POINTS = 240
_STATE_RANK = {"firing": 0, "pending": 1, "resolved": 2}


def rule_path(rule_id: str) -> str:
    return f"{PREFIX}/rules/{quote(rule_id, safe='')}"


def evaluation_time(rule: rule_service_pb2.Rule) -> str:
    """How long the last evaluation took ("<1ms", "12ms", "2.5s"); the server counts milliseconds."""
    if not rule.HasField("last_evaluation_duration"):
        return ""
    ms = rule.last_evaluation_duration.ToMilliseconds()
    if ms < 1:
        return "<1ms"
    return f"{ms}ms" if ms < 1000 else f"{ms / 1000:.3g}s"


def health_html(health: JSON) -> str:
    shown = str(health or "unknown")
    return f'<span class="health health-{esc(shown)}">{esc(shown)}</span>'


def _alert_sort(alert: Mapping[str, JSON]) -> tuple[int, str]:
    return (_STATE_RANK.get(str(alert.get("state")), 3), str(alert.get("fingerprint", "")))


def alert_links(alerts: Sequence[Mapping[str, JSON]]) -> str:
    if not alerts:
        return '<span class="status">none</span>'
    items = "".join(
        f'<li><a href="{PREFIX}/alerts/{quote(str(a.get("fingerprint", "")), safe="")}">'
        f'<span class="state-{esc(a.get("state", ""))}">{esc(a.get("state", ""))}</span></a> '
        f'<span class="status">{esc(labels_text(_without_name(a.get("labels"))))}</span></li>'
        for a in sorted(alerts, key=_alert_sort)
    )
    return f'<ul class="produced">{items}</ul>'


def _without_name(labels: JSON) -> JSON:
    if not isinstance(labels, dict):
        return {}
    return {k: v for k, v in labels.items() if k != "alertname"}


def rule_row(rule: rule_service_pb2.Rule, alerts: Sequence[Mapping[str, JSON]]) -> str:
    shown = to_json(rule)
    kind = str(shown.get("type", ""))
    error = str(shown.get("last_error", ""))
    return (
        f'<tr data-rule="{esc(rule.id)}">'
        f'<td data-label="Rule"><a href="{rule_path(rule.id)}"><strong>{esc(rule.name)}</strong></a>'
        f' <span class="status">{esc(kind)}</span><div><code>{esc(rule.query)}</code></div></td>'
        f'<td data-label="Health">{health_html(shown.get("health"))}</td>'
        f'<td data-label="Last evaluation">{esc(format_time(shown.get("last_evaluation")))}'
        f'<div class="status">{esc(evaluation_time(rule))}</div></td>'
        f'<td data-label="For">{esc(shown.get("duration", "") if kind == "alerting" else "")}</td>'
        f'<td data-label="Last error">{f"<span class=error-text>{esc(error)}</span>" if error else ""}</td>'
        f'<td data-label="Alerts">{alert_links(alerts) if kind == "alerting" else ""}</td></tr>'
    )


def group_section(
    name: str, rules: Sequence[rule_service_pb2.Rule], alerts: Mapping[str, list[JSONObject]]
) -> str:
    interval = next(
        (format_duration(r.interval.ToMilliseconds()) for r in rules if r.HasField("interval")), ""
    )
    rows = "".join(rule_row(rule, alerts.get(rule.id, [])) for rule in rules)
    anchor = f"group-{quote(name, safe='')}"
    return (
        f'<section class="rule-group" data-group="{esc(name)}" aria-labelledby="{esc(anchor)}">'
        f'<h2 id="{esc(anchor)}">{esc(name)}</h2>'
        f"{f'<p class=status>Every {esc(interval)}</p>' if interval else ''}"
        '<div class="table-wrap"><table><thead><tr><th scope=col>Rule</th><th scope=col>Health</th>'
        "<th scope=col>Last evaluation</th><th scope=col>For</th><th scope=col>Last error</th>"
        f"<th scope=col>Alerts</th></tr></thead><tbody>{rows}</tbody></table></div></section>"
    )


def range_form(rule_id: str, chosen: str) -> str:
    options = "".join(
        f'<option value="{name}"{" selected" if name == chosen else ""}>{name}</option>' for name in RANGES
    )
    return (
        f'<form class="filter" method="get" action="{rule_path(rule_id)}">'
        f'<label for="range">Range up to now<select id="range" name="range">{options}</select></label>'
        "<button type=submit>Show</button></form>"
    )


def rule_routes(console: Console) -> list[Route]:
    async def all_rules(request: Request) -> list[rule_service_pb2.Rule]:
        rules: list[rule_service_pb2.Rule] = []
        first = rule_service_pb2.ListRulesRequest(page_size=PAGE_SIZE)
        async for listed in console.pages(LIST_RULES, first, request):
            assert isinstance(listed, rule_service_pb2.ListRulesResponse)
            rules.extend(listed.rules)
        return rules

    async def alerts_by_rule(request: Request, rule: str = "") -> dict[str, list[JSONObject]]:
        produced: dict[str, list[JSONObject]] = {}
        first = alert_service_pb2.ListAlertsRequest(rule=rule, page_size=PAGE_SIZE)
        async for listed in console.pages(LIST_ALERTS, first, request):
            assert isinstance(listed, alert_service_pb2.ListAlertsResponse)
            for alert in listed.alerts:
                if alert.rule_id:
                    produced.setdefault(alert.rule_id, []).append(to_json(alert))
        return produced

    @guarded
    async def rules_page(request: Request) -> Response:
        try:
            rules = await all_rules(request)
            produced = await alerts_by_rule(request)
        except grpc.aio.AioRpcError as error:
            return refusal("Rules", error, f"{PREFIX}/", "rules")
        groups: dict[str, list[rule_service_pb2.Rule]] = {}
        for rule in rules:
            groups.setdefault(rule.group or "default", []).append(rule)
        failing = sum(1 for r in rules if r.health == rule_service_pb2.RULE_HEALTH_ERR)
        summary = (
            f'<p class="status" id="rules-summary">{len(rules)} rule{"" if len(rules) == 1 else "s"} in '
            f"{len(groups)} group{'' if len(groups) == 1 else 's'}"
            f"{f', {failing} failing' if failing else ''}.</p>"
        )
        body = "".join(group_section(name, groups[name], produced) for name in sorted(groups))
        return html_page("Rules", summary + (body or "<p>No rules.</p>"), current="rules")

    async def plot(request: Request, rule: rule_service_pb2.Rule, chosen: str) -> str:
        threshold = split_threshold(rule.query)
        expr = threshold.expr if threshold is not None else rule.query
        end_ms = int(time.time() * 1000)
        start_ms = end_ms - RANGES[chosen]
        step_ms = max(1000, RANGES[chosen] // POINTS)
        message = metrics_service_pb2.QueryRangeRequest(query=expr, datasource=rule.datasource)
        message.start.FromMilliseconds(start_ms)
        message.end.FromMilliseconds(end_ms)
        message.step.FromMilliseconds(step_ms)
        shown = f'<p>Plotted: <code id="plotted">{esc(expr)}</code>'
        if threshold is not None:
            shown += (
                f' with the threshold <code id="threshold">{esc(threshold.op)} {threshold.value:g}</code>'
            )
        shown += "</p>"
        try:
            answer = await console.call(QUERY_RANGE, message, request)
        except grpc.aio.AioRpcError as error:
            return shown + errors_html(rpc_reasons(error)[0])
        assert isinstance(answer, metrics_service_pb2.QueryRangeResponse)
        # A native-histogram point has no number to draw: left out, and said so.
        lines = [
            Line(dict(s.labels), [(p.timestamp_ms, p.value) for p in s.points if not p.HasField("histogram")])
            for s in answer.series
        ]
        warnings = "".join(f'<p class="status">Warning: {esc(w)}</p>' for w in answer.warnings)
        if any(p.HasField("histogram") for s in answer.series for p in s.points):
            warnings += (
                '<p class="status">Native-histogram samples are not plotted: plot a number of them, '
                "such as histogram_quantile(0.9, ...) or histogram_count(...).</p>"
            )
        title = f"{rule.name}: {expr} over the last {chosen}"
        return shown + svg_plot(lines, start_ms, end_ms, step_ms, threshold, title) + warnings

    @guarded
    async def rule_page(request: Request) -> Response:
        rule_id = request.path_params["id"]
        chosen = request.query_params.get("range", DEFAULT_RANGE)
        if chosen not in RANGES:
            chosen = DEFAULT_RANGE
        try:
            got = await console.call(GET_RULE, rule_service_pb2.GetRuleRequest(id=rule_id), request)
            assert isinstance(got, rule_service_pb2.GetRuleResponse)
            rule = got.rule
            produced = (await alerts_by_rule(request, rule.name)).get(rule.id, [])
        except grpc.aio.AioRpcError as error:
            return refusal("Rule", error, f"{PREFIX}/rules", "rules")
        shown = to_json(rule)
        alerting = shown.get("type") == "alerting"
        facts = [
            ("Type", esc(shown.get("type", ""))),
            ("Group", esc(rule.group or "default")),
            ("Query", f'<code id="rule-query">{esc(rule.query)}</code>'),
            ("For", esc(shown.get("duration", "")) if alerting else ""),
            ("Keep firing for", esc(shown.get("keep_firing_for", "")) if alerting else ""),
            ("Interval", esc(shown.get("interval", ""))),
            ("Datasource", esc(rule.datasource or "embedded")),
            ("Severity", esc(rule.severity)),
            ("Health", f'<span id="rule-health">{health_html(shown.get("health"))}</span>'),
            ("Last evaluation", esc(format_time(shown.get("last_evaluation")))),
            ("Evaluation time", esc(evaluation_time(rule))),
            (
                "Last error",
                f'<span class="error-text">{esc(rule.last_error)}</span>' if rule.last_error else "",
            ),
        ]
        body = (
            f'<p><a href="{PREFIX}/rules">All rules</a></p>{dl(facts)}'
            f'<h2 id="plot-heading">Query over time</h2>{range_form(rule.id, chosen)}'
            f"{await plot(request, rule, chosen)}"
        )
        if alerting:
            body += f'<h2>Alerts</h2><div id="rule-alerts">{alert_links(produced)}</div>'
        body += f"<h2>Labels</h2>{_pairs(shown.get('labels'))}"
        body += f"<h2>Annotations</h2>{_pairs(shown.get('annotations'))}"
        return html_page(rule.name, body, current="rules")

    return [
        Route("/rules", rules_page, methods=["GET"], name="rules"),
        Route("/rules/{id}", rule_page, methods=["GET"], name="rule"),
    ]


def _pairs(values: JSON) -> str:
    if not isinstance(values, dict) or not values:
        return "<p>None.</p>"
    return dl([(str(k), f"<code>{esc(v)}</code>") for k, v in sorted(values.items())])
