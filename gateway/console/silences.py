"""The silences pages: the list by state with expire, the new-silence form with a preview of the
alerts its matchers would silence, and edit.

The preview is ListAlerts with the form's matchers as the filter: the server's own matcher code says
which alerts match, as it does when the silence is made. Editing is UpdateSilence, with Alertmanager's
rule: a silence that has not expired and keeps its matchers changes in place; otherwise the old one
expires and a new one (a new id) takes its place, which the result page says.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from alerting.v1 import alert_service_pb2, silence_service_pb2
from alerting_common.durations import format_duration, parse_duration
from alerting_common.jsonmap import JSON, JSONObject, to_json
from alerting_common.matchers import MatcherError, format_matcher, split_matcher
from gateway.console.page import (
    PREFIX,
    SECURITY_HEADERS,
    Console,
    errors_html,
    esc,
    field,
    format_time,
    html_page,
    labels_text,
    not_a_form,
    refusal,
    rpc_reasons,
)
from gateway.errors import guarded

LIST_ALERTS = "alerting.v1.AlertService.ListAlerts"
CREATE_SILENCE = "alerting.v1.SilenceService.CreateSilence"
GET_SILENCE = "alerting.v1.SilenceService.GetSilence"
LIST_SILENCES = "alerting.v1.SilenceService.ListSilences"
UPDATE_SILENCE = "alerting.v1.SilenceService.UpdateSilence"
EXPIRE_SILENCE = "alerting.v1.SilenceService.ExpireSilence"
RPCS = frozenset({LIST_ALERTS, CREATE_SILENCE, GET_SILENCE, LIST_SILENCES, UPDATE_SILENCE, EXPIRE_SILENCE})
# One page of each state; ListSilences caps a page at 1000.
SILENCES_PAGE_SIZE = 1000
# The preview shows this many of the matching alerts and counts the rest.
PREVIEW_SIZE = 50
_SILENCE_STATES = (
    ("active", silence_service_pb2.SILENCE_STATE_ACTIVE),
    ("pending", silence_service_pb2.SILENCE_STATE_PENDING),
    ("expired", silence_service_pb2.SILENCE_STATE_EXPIRED),
)
DEFAULT_SILENCE = "2h"
_MINUTE_MS = 60_000


def silence_path(silence_id: str) -> str:
    return f"{PREFIX}/silences/{quote(silence_id, safe='')}"


def silence_like(labels: Mapping[str, JSON]) -> str:
    """The new-silence form pre-filled with one equality matcher per label of an alert."""
    matchers = [format_matcher(k, "=", str(v)) for k, v in sorted(labels.items())]
    return f"{PREFIX}/silences/new?" + urlencode([("matchers", m) for m in matchers])


def silence_item(silence: Mapping[str, JSON], writable: bool) -> str:
    silence_id = str(silence.get("id", ""))
    matchers = silence.get("matchers")
    shown = " ".join(f"<code>{esc(m)}</code>" for m in (matchers if isinstance(matchers, list) else []))
    actions = (
        f'<div class="actions"><a href="{silence_path(silence_id)}/edit" '
        f'aria-label="Edit silence {esc(silence_id)}">Edit</a>'
        f'<form method="post" action="{silence_path(silence_id)}/expire">'
        f'<button type="submit" aria-label="Expire silence {esc(silence_id)}">Expire</button></form></div>'
        if writable
        else ""
    )
    return (
        f'<li data-silence="{esc(silence_id)}">{shown}<div class="status">'
        f"{esc(format_time(silence.get('starts_at')))} to {esc(format_time(silence.get('ends_at')))}"
        f" · by {esc(silence.get('created_by', ''))} · {esc(silence.get('comment', ''))}</div>"
        f"{actions}</li>"
    )


def preview_html(alerts: Sequence[Mapping[str, JSON]], errors: Sequence[str], asked: bool) -> str:
    """The preview as the server renders it; the script renders its updates the same way."""
    if errors:
        status = "Not a valid matcher: " + "; ".join(errors)
    elif not asked:
        status = "Type a matcher to see the alerts it would silence."
    else:
        status = f"{len(alerts)} alert{'' if len(alerts) == 1 else 's'} would be silenced now."
    items = "".join(
        f'<li data-fingerprint="{esc(a.get("fingerprint", ""))}">'
        f'<a href="{PREFIX}/alerts/{quote(str(a.get("fingerprint", "")), safe="")}">'
        f"<strong>{esc(_alertname(a))}</strong></a> "
        f'<span class="state-{esc(a.get("state", ""))}">{esc(a.get("state", ""))}</span>'
        f'<div class="status">{esc(labels_text(a.get("labels")))}</div></li>'
        for a in alerts[:PREVIEW_SIZE]
    )
    more = len(alerts) - PREVIEW_SIZE
    return (
        '<section class="preview" aria-labelledby="preview-title">'
        '<h2 id="preview-title">Alerts these matchers silence</h2>'
        f'<p id="preview-status" class="status" role="status" aria-live="polite">{esc(status)}</p>'
        f'<ul id="preview-list" class="silences">{items}</ul>'
        f'<p id="preview-more" class="status"{"" if more > 0 else " hidden"}>'
        f"{f'and {more} more' if more > 0 else ''}</p></section>"
    )


def _alertname(alert: Mapping[str, JSON]) -> str:
    labels = alert.get("labels")
    name = labels.get("alertname") if isinstance(labels, dict) else None
    return str(name or alert.get("fingerprint", ""))


def silence_form(
    action: str,
    button: str,
    matchers: Sequence[str],
    duration: str,
    by: str,
    comment: str,
    errors: Sequence[str],
    preview: str,
) -> str:
    return (
        f'{errors_html(errors)}<form method="post" action="{esc(action)}" class="silence">'
        '<label for="matchers">Matchers, one a line (<code>name="value"</code>, <code>=~</code>, '
        "<code>!=</code>, <code>!~</code>)</label>"
        f'<textarea id="matchers" name="matchers" rows="5" required spellcheck="false" '
        f'aria-describedby="preview-status" data-preview="{PREFIX}/silences/preview">'
        f"{esc(chr(10).join(matchers))}</textarea>"
        '<label for="duration">Duration from now (e.g. <code>2h</code>, <code>30m</code>)</label>'
        f'<input id="duration" name="duration" value="{esc(duration)}" required>'
        '<label for="created_by">Your name</label>'
        f'<input id="created_by" name="created_by" value="{esc(by)}" required maxlength="255">'
        '<label for="comment">Comment</label>'
        f'<input id="comment" name="comment" value="{esc(comment)}" required>'
        f'<button type="submit">{esc(button)}</button></form>{preview}'
    )


def matcher_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def remaining(ends_at: JSON, now_ms: int) -> str:
    """The time from now to `ends_at` in whole minutes, rounded up, as a duration ("1h59m")."""
    left = ends_at - now_ms if isinstance(ends_at, int) else 0
    return format_duration(max(1, math.ceil(left / _MINUTE_MS)) * _MINUTE_MS)


def _silence(
    matchers: Sequence[str], by: str, comment: str, times: tuple[int, int]
) -> silence_service_pb2.Silence:
    silence = silence_service_pb2.Silence(matchers=matchers, created_by=by, comment=comment)
    silence.starts_at.FromMilliseconds(times[0])
    silence.ends_at.FromMilliseconds(times[1])
    return silence


def silence_routes(console: Console) -> list[Route]:
    async def matching(request: Request, matchers: Sequence[str]) -> tuple[list[JSONObject], list[str]]:
        """The unresolved alerts the matchers select, or why they are not matchers."""
        errors = []
        parsed = []
        for i, line in enumerate(matchers):
            try:
                name, op, value, _ = split_matcher(line)
            except MatcherError as exc:
                errors.append(f"matchers[{i}]: {exc}")
            else:
                parsed.append(format_matcher(name, op, value))
        if errors or not parsed:
            return [], errors
        try:
            listed = await console.call(
                LIST_ALERTS,
                alert_service_pb2.ListAlertsRequest(filter=", ".join(parsed), page_size=SILENCES_PAGE_SIZE),
                request,
            )
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise
            # The server checks regular expressions: which line it refused, asked one at a time.
            for i, one in enumerate(parsed):
                try:
                    await console.call(
                        LIST_ALERTS, alert_service_pb2.ListAlertsRequest(filter=one, page_size=1), request
                    )
                except grpc.aio.AioRpcError as refused:
                    reasons, _ = rpc_reasons(refused)
                    return [], [f"matchers[{i}]: {r.removeprefix('filter: ')}" for r in reasons]
            return [], rpc_reasons(error)[0]
        assert isinstance(listed, alert_service_pb2.ListAlertsResponse)
        alerts = [to_json(a) for a in listed.alerts]
        return [a for a in alerts if a.get("state") != "resolved"], []

    @guarded
    async def preview(request: Request) -> Response:
        matchers = [m.strip() for m in request.query_params.getlist("matchers") if m.strip()]
        alerts, errors = await matching(request, matchers)
        shown: list[JSON] = [
            {k: a.get(k) for k in ("fingerprint", "state", "labels")} for a in alerts[:PREVIEW_SIZE]
        ]
        body: JSONObject = {"alerts": shown, "total": len(alerts), "errors": [*errors]}
        return JSONResponse(body, status_code=400 if errors else 200, headers=SECURITY_HEADERS)

    async def form_page(
        request: Request,
        title: str,
        action: str,
        button: str,
        values: tuple[Sequence[str], str, str, str],
        errors: Sequence[str] = (),
        status: int = 200,
    ) -> Response:
        matchers, duration, by, comment = values
        try:
            alerts, preview_errors = await matching(request, matchers)
        except grpc.aio.AioRpcError as error:
            alerts, preview_errors = [], rpc_reasons(error)[0]
        body = silence_form(
            action, button, matchers, duration, by, comment, errors,
            preview_html(alerts, preview_errors, bool(matchers)),
        )  # fmt: skip
        back = f'<p><a href="{PREFIX}/silences">All silences</a></p>'
        return html_page(title, back + body, status, script=True, current="silences")

    @guarded
    async def silences_page(request: Request) -> Response:
        writer = console.allows(request, "write")
        sections = []
        for name, state in _SILENCE_STATES:
            message = silence_service_pb2.ListSilencesRequest(state=state, page_size=SILENCES_PAGE_SIZE)
            try:
                listed = await console.call(LIST_SILENCES, message, request)
            except grpc.aio.AioRpcError as error:
                return refusal("Silences", error, f"{PREFIX}/", "silences")
            assert isinstance(listed, silence_service_pb2.ListSilencesResponse)
            items = "".join(
                silence_item(to_json(silence), writer and name != "expired") for silence in listed.silences
            )
            sections.append(
                f'<section id="silences-{name}"><h2>{name.capitalize()} ({len(listed.silences)})</h2>'
                f'<ul class="silences">{items or "<li>None.</li>"}</ul></section>'
            )
        nav = f'<p><a href="{PREFIX}/silences/new">New silence</a></p>' if writer else ""
        return html_page("Silences", nav + "".join(sections), current="silences")

    @guarded
    async def expire_silence(request: Request) -> Response:
        message = silence_service_pb2.ExpireSilenceRequest(id=request.path_params["id"])
        try:
            await console.call(EXPIRE_SILENCE, message, request)
        except grpc.aio.AioRpcError as error:
            return refusal("Not done", error, f"{PREFIX}/silences", "silences")
        return RedirectResponse(f"{PREFIX}/silences", status_code=303)

    def read_only(title: str) -> Response:
        return html_page(
            title, '<p id="read-only">Read-only token: silencing needs a write token.</p>', current="silences"
        )

    @guarded
    async def new_silence(request: Request) -> Response:
        if not console.allows(request, "write"):
            return read_only("New silence")
        matchers = [m.strip() for m in request.query_params.getlist("matchers") if m.strip()]
        action = f"{PREFIX}/silences/new"
        return await form_page(
            request, "New silence", action, "Create silence", (matchers, DEFAULT_SILENCE, "", "")
        )

    def window(duration: str, starts_at: int | None) -> tuple[int, int] | str:
        """(starts_at, ends_at) of a silence lasting `duration` from now, or what is wrong with it."""
        try:
            length_ms = parse_duration(duration)
        except ValueError as exc:
            return f"duration: {exc}"
        if length_ms <= 0:
            return "duration: must be longer than 0s"
        now_ms = int(time.time() * 1000)
        return (now_ms if starts_at is None else starts_at), now_ms + length_ms

    def posted(fields: Mapping[str, list[str]]) -> tuple[list[str], str, str, str]:
        return (
            matcher_lines(field(fields, "matchers")),
            field(fields, "duration"),
            field(fields, "created_by"),
            field(fields, "comment"),
        )

    @guarded
    async def create_silence(request: Request) -> Response:
        fields = await console.form(request)
        if fields is None:
            return not_a_form()
        values = posted(fields)
        matchers, duration, by, comment = values
        action = f"{PREFIX}/silences/new"

        async def again(errors: Sequence[str], status: int) -> Response:
            return await form_page(request, "New silence", action, "Create silence", values, errors, status)

        times = window(duration, None)
        if isinstance(times, str):
            return await again([times], 400)
        silence = _silence(matchers, by, comment, times)
        try:
            created = await console.call(
                CREATE_SILENCE, silence_service_pb2.CreateSilenceRequest(silence=silence), request
            )
        except grpc.aio.AioRpcError as error:
            reasons, status = rpc_reasons(error)
            return await again(reasons, status)
        assert isinstance(created, silence_service_pb2.CreateSilenceResponse)
        made = to_json(created.silence)
        return html_page("Silence created", _made(made, matchers, ""), 201, current="silences")

    async def get_silence(request: Request) -> JSONObject:
        got = await console.call(
            GET_SILENCE, silence_service_pb2.GetSilenceRequest(id=request.path_params["id"]), request
        )
        assert isinstance(got, silence_service_pb2.GetSilenceResponse)
        return to_json(got.silence)

    @guarded
    async def edit_silence(request: Request) -> Response:
        if not console.allows(request, "write"):
            return read_only("Edit silence")
        try:
            old = await get_silence(request)
        except grpc.aio.AioRpcError as error:
            return refusal("Edit silence", error, f"{PREFIX}/silences", "silences")
        matchers = old.get("matchers")
        values = (
            [str(m) for m in matchers] if isinstance(matchers, list) else [],
            remaining(old.get("ends_at"), int(time.time() * 1000)),
            str(old.get("created_by", "")),
            str(old.get("comment", "")),
        )
        action = f"{silence_path(str(old.get('id', '')))}/edit"
        return await form_page(request, "Edit silence", action, "Save silence", values)

    @guarded
    async def update_silence(request: Request) -> Response:
        fields = await console.form(request)
        if fields is None:
            return not_a_form()
        silence_id = request.path_params["id"]
        values = posted(fields)
        matchers, duration, by, comment = values
        action = f"{silence_path(silence_id)}/edit"

        async def again(errors: Sequence[str], status: int) -> Response:
            return await form_page(request, "Edit silence", action, "Save silence", values, errors, status)

        try:
            old = await get_silence(request)
        except grpc.aio.AioRpcError as error:
            return refusal("Edit silence", error, f"{PREFIX}/silences", "silences")
        # An active or pending silence keeps its start; an expired one starts again now.
        starts = old.get("starts_at")
        times = window(
            duration, starts if isinstance(starts, int) and old.get("state") != "expired" else None
        )
        if isinstance(times, str):
            return await again([times], 400)
        silence = _silence(matchers, by, comment, times)
        try:
            updated = await console.call(
                UPDATE_SILENCE,
                silence_service_pb2.UpdateSilenceRequest(id=silence_id, silence=silence),
                request,
            )
        except grpc.aio.AioRpcError as error:
            reasons, status = rpc_reasons(error)
            return await again(reasons, status)
        assert isinstance(updated, silence_service_pb2.UpdateSilenceResponse)
        made = to_json(updated.silence)
        if made.get("id") == silence_id:
            return html_page("Silence updated", _made(made, matchers, ""), current="silences")
        replaced = (
            f'<p id="replaced">Silence <code>{esc(silence_id)}</code> has expired and a new silence replaces '
            "it: a silence whose matchers change, or that had expired, is not changed in place "
            "(as in Alertmanager).</p>"
        )
        return html_page("Silence replaced", _made(made, matchers, replaced), current="silences")

    return [
        Route("/silences/new", new_silence, methods=["GET"], name="silence.new"),
        Route("/silences/new", create_silence, methods=["POST"], name="silence.create"),
        Route("/silences/preview", preview, methods=["GET"], name="silence.preview"),
        Route("/silences", silences_page, methods=["GET"], name="silences"),
        Route("/silences/{id}/edit", edit_silence, methods=["GET"], name="silence.edit"),
        Route("/silences/{id}/edit", update_silence, methods=["POST"], name="silence.update"),
        Route("/silences/{id}/expire", expire_silence, methods=["POST"], name="silence.expire"),
    ]


def _made(made: Mapping[str, JSON], matchers: Sequence[str], before: str) -> str:
    listed = "".join(f"<li><code>{esc(m)}</code></li>" for m in matchers)
    return (
        f'{before}<p>Silence <code id="silence-id">{esc(made.get("id", ""))}</code> mutes alerts '
        "matching:</p>"
        f"<ul>{listed}</ul><p>Until {esc(format_time(made.get('ends_at')))}.</p>"
        f'<p><a href="{PREFIX}/">All alerts</a> · <a href="{PREFIX}/silences">Silences</a></p>'
    )
