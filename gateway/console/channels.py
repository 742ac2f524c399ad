"""The channels page (each channel's settings as the API reads them back: secrets redacted by the
server, never seen here) with "Send a test notification" (TestChannel), and the recent deliveries
with their status, attempts and last error."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlencode

import grpc
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from alerting.v1 import channel_service_pb2
from alerting_common.jsonmap import JSON, JSONObject, to_json
from gateway.console.page import PAGE_SIZE, PREFIX, Console, dl, esc, format_time, html_page, refusal
from gateway.errors import guarded

LIST_CHANNELS = "alerting.v1.ChannelService.ListChannels"
TEST_CHANNEL = "alerting.v1.ChannelService.TestChannel"
LIST_DELIVERIES = "alerting.v1.ChannelService.ListDeliveries"
RPCS = frozenset({LIST_CHANNELS, TEST_CHANNEL, LIST_DELIVERIES})
# The deliveries page shows the latest this many, newest first.
RECENT = 100
STATUSES = ("pending", "delivered", "retrying", "failed")
# The group key of TestChannel's notifications (alerting_server/notify/render.py): their alert is made
# up for the test and has no page.
TEST_GROUP_KEY = '{}:{alertname="TestNotification"}'


def _value(value: JSON) -> str:
    return esc(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def channel_item(channel: Mapping[str, JSON], writable: bool) -> str:
    channel_id = str(channel.get("id", ""))
    name = str(channel.get("name", ""))
    config = channel.get("config")
    settings = (
        dl([(str(k), f"<code>{_value(v)}</code>") for k, v in sorted(config.items())])
        if isinstance(config, dict)
        else ""
    )
    facts = [("Type", esc(channel.get("type", ""))), ("Id", f"<code>{esc(channel_id)}</code>")]
    if channel.get("receiver"):
        facts.append(("Receiver", esc(channel["receiver"])))
    if channel.get("source"):
        facts.append(("Loaded from", esc(channel["source"])))
    deliveries = f"{PREFIX}/deliveries?" + urlencode({"channel_id": channel_id})
    test = (
        f'<form method="post" action="{PREFIX}/channels/{quote(channel_id, safe="")}/test">'
        f'<button type="submit" aria-label="Send a test notification to {esc(name)}">Send a test notification'
        "</button></form>"
        if writable
        else ""
    )
    return (
        f'<li class="channel" data-channel="{esc(channel_id)}"><h2>{esc(name)}</h2>{dl(facts)}'
        f"<h3>Settings</h3>{settings or '<p>None.</p>'}"
        f'<div class="actions"><a href="{esc(deliveries)}" aria-label="Deliveries of {esc(name)}">'
        "Deliveries</a>"
        f"{test}</div></li>"
    )


def delivery_row(delivery: Mapping[str, JSON], names: Mapping[str, str]) -> str:
    delivery_id = str(delivery.get("id", ""))
    channel_id = str(delivery.get("channel_id", ""))
    status = str(delivery.get("status", ""))
    fingerprints = delivery.get("fingerprints")
    group_key = str(delivery.get("group_key", ""))
    if group_key == TEST_GROUP_KEY:
        alerts = '<span class="status">test notification</span>'
    else:
        alerts = " ".join(
            f'<a href="{PREFIX}/alerts/{quote(str(f), safe="")}"><code>{esc(f)}</code></a>'
            for f in (fingerprints if isinstance(fingerprints, list) else [])
        )
    when = delivery.get("delivered_at") if status == "delivered" else delivery.get("next_attempt_at")
    return (
        f'<tr data-delivery="{esc(delivery_id)}" data-status="{esc(status)}">'
        f'<td data-label="Created">{esc(format_time(delivery.get("created_at")))}</td>'
        f'<td data-label="Channel">{esc(names.get(channel_id, channel_id))}</td>'
        f'<td data-label="Status"><span class="delivery-{esc(status)}">{esc(status)}</span>'
        f'<div class="status">{esc(format_time(when))}</div></td>'
        f'<td data-label="Attempts">{esc(delivery.get("attempts", 0))}</td>'
        f'<td data-label="Last error">{esc(delivery.get("last_error", ""))}</td>'
        f'<td data-label="Group"><code>{esc(group_key)}</code></td>'
        f'<td data-label="Alerts">{alerts}</td></tr>'
    )


def deliveries_form(channels: Sequence[Mapping[str, JSON]], channel_id: str, status: str) -> str:
    channel_options = '<option value="">every channel</option>' + "".join(
        f'<option value="{esc(c.get("id", ""))}"{" selected" if c.get("id") == channel_id else ""}>'
        f"{esc(c.get('name', ''))}</option>"
        for c in channels
    )
    status_options = '<option value="">any status</option>' + "".join(
        f'<option value="{s}"{" selected" if s == status else ""}>{s}</option>' for s in STATUSES
    )
    return (
        f'<form class="filter" method="get" action="{PREFIX}/deliveries">'
        '<label for="channel_id">Channel'
        f'<select id="channel_id" name="channel_id">{channel_options}</select></label>'
        f'<label for="status">Status<select id="status" name="status">{status_options}</select></label>'
        "<button type=submit>Show</button></form>"
    )


def channel_routes(console: Console) -> list[Route]:
    async def all_channels(request: Request) -> list[JSONObject]:
        channels: list[JSONObject] = []
        first = channel_service_pb2.ListChannelsRequest(page_size=PAGE_SIZE)
        async for listed in console.pages(LIST_CHANNELS, first, request):
            assert isinstance(listed, channel_service_pb2.ListChannelsResponse)
            channels.extend(to_json(c) for c in listed.channels)
        return channels

    @guarded
    async def channels_page(request: Request) -> Response:
        try:
            channels = await all_channels(request)
        except grpc.aio.AioRpcError as error:
            return refusal("Channels", error, f"{PREFIX}/", "channels")
        writable = console.allows(request, "write")
        items = "".join(channel_item(c, writable) for c in sorted(channels, key=lambda c: str(c.get("name"))))
        note = (
            ""
            if writable
            else '<p id="read-only">Read-only token: sending a test notification needs a write token.</p>'
        )
        body = note + (f'<ul class="channels">{items}</ul>' if items else "<p>No channels.</p>")
        return html_page("Channels", body, current="channels")

    @guarded
    async def test_channel(request: Request) -> Response:
        channel_id = request.path_params["id"]
        try:
            sent = await console.call(
                TEST_CHANNEL, channel_service_pb2.TestChannelRequest(id=channel_id), request
            )
        except grpc.aio.AioRpcError as error:
            return refusal("Not sent", error, f"{PREFIX}/channels", "channels")
        assert isinstance(sent, channel_service_pb2.TestChannelResponse)
        query = urlencode({"channel_id": sent.delivery.channel_id, "sent": sent.delivery.id})
        return RedirectResponse(f"{PREFIX}/deliveries?{query}", status_code=303)

    @guarded
    async def deliveries_page(request: Request) -> Response:
        channel_id = request.query_params.get("channel_id", "")
        status = request.query_params.get("status", "")
        sent = request.query_params.get("sent", "")
        if status and status not in STATUSES:
            status = ""
        wanted = channel_service_pb2.DeliveryStatus.Value(
            f"DELIVERY_STATUS_{(status or 'unspecified').upper()}"
        )
        try:
            channels = await all_channels(request)
            latest = await console.call(
                LIST_DELIVERIES,
                channel_service_pb2.ListDeliveriesRequest(
                    channel_id=channel_id, status=wanted, page_size=RECENT, newest_first=True
                ),
                request,
            )
        except grpc.aio.AioRpcError as error:
            return refusal("Deliveries", error, f"{PREFIX}/", "deliveries")
        assert isinstance(latest, channel_service_pb2.ListDeliveriesResponse)
        names = {str(c.get("id")): str(c.get("name")) for c in channels}
        recent: list[JSONObject] = [to_json(d) for d in latest.deliveries]
        banner = ""
        if sent:
            made = next((d for d in recent if d.get("id") == sent), None)
            if made is not None:
                outcome = str(made.get("status", ""))
                why = f": {made.get('last_error')}" if made.get("last_error") else ""
                banner = (
                    f'<p id="test-result" role="status" class="notice">Test notification to '
                    f"{esc(names.get(str(made.get('channel_id')), ''))}: {esc(outcome)}{esc(why)} "
                    f"({esc(made.get('attempts', 0))} attempt{'' if made.get('attempts') == 1 else 's'}).</p>"
                )
        rows = "".join(delivery_row(d, names) for d in recent)
        table = (
            '<div class="table-wrap"><table><caption class="status">The latest deliveries, newest first'
            "</caption><thead><tr><th scope=col>Created</th><th scope=col>Channel</th>"
            "<th scope=col>Status</th>"
            "<th scope=col>Attempts</th><th scope=col>Last error</th><th scope=col>Group</th>"
            "<th scope=col>Alerts</th></tr></thead>"
            f'<tbody id="deliveries-body">{rows}</tbody></table></div>'
            if rows
            else '<p id="deliveries-empty">No deliveries.</p>'
        )
        body = banner + deliveries_form(channels, channel_id, status) + table
        return html_page("Deliveries", body, current="deliveries")

    return [
        Route("/channels", channels_page, methods=["GET"], name="channels"),
        Route("/channels/{id}/test", test_channel, methods=["POST"], name="channel.test"),
        Route("/deliveries", deliveries_page, methods=["GET"], name="deliveries"),
    ]
