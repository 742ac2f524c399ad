"""The Alertmanager v2 API over HTTP, in front of a fake gRPC server that keeps alerts and silences."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import httpx
import pytest
from starlette.applications import Starlette

from alerting.v1 import alert_service_pb2, channel_service_pb2, cluster_service_pb2, silence_service_pb2
from gateway import create_app
from gateway.alertmanager import Identity, alertmanager_routes
from gateway.backend import Backend

from .fakes import NOW_MS, Context, FakeServer, abort_bad_request

# The gateway's clock in these tests: 2023-10-08T18:20:34.567Z.
NOW = "2023-10-08T18:20:34.567Z"


def silence_id(n: int) -> str:
    """Silence ids are UUIDs, as Alertmanager's API requires of the ones in its paths."""
    return f"00000000-0000-4000-8000-{n:012d}"


S1, S2, MISSING = silence_id(1), silence_id(2), silence_id(999)
HOUR = 3_600_000
STATES = alert_service_pb2


def alert(
    fingerprint: str,
    state: alert_service_pb2.AlertState.ValueType = STATES.ALERT_STATE_FIRING,
    *,
    ends_at: int | None = NOW_MS + HOUR,
    silenced_by: tuple[str, ...] = (),
    inhibited_by: tuple[str, ...] = (),
    muted_by: tuple[str, ...] = (),
    generator_url: str = "",
) -> alert_service_pb2.Alert:
    message = alert_service_pb2.Alert(
        fingerprint=fingerprint,
        state=state,
        labels={"alertname": f"A{fingerprint}", "host": "a"},
        annotations={"summary": "s"},
        silenced_by=silenced_by,
        inhibited_by=inhibited_by,
        muted_by=muted_by,
        generator_url=generator_url,
        receivers=["ops"],
    )
    message.started_at.FromMilliseconds(NOW_MS - HOUR)
    message.updated_at.FromMilliseconds(NOW_MS - 1000)
    if ends_at is not None:
        message.ends_at.FromMilliseconds(ends_at)
    return message


def silence(
    silence_id: str, state: silence_service_pb2.SilenceState.ValueType, starts: int, ends: int
) -> Any:
    message = silence_service_pb2.Silence(
        id=silence_id, matchers=['host="a"'], created_by="alice", comment="c", state=state
    )
    message.starts_at.FromMilliseconds(starts)
    message.ends_at.FromMilliseconds(ends)
    message.updated_at.FromMilliseconds(starts)
    return message


@dataclass
class AlertmanagerServer(FakeServer):
    """Alerts, groups, silences and channels, listed a page of two at a time; `fail` fails every list."""

    alerts: list[alert_service_pb2.Alert] = field(default_factory=list)
    groups: list[alert_service_pb2.AlertGroup] = field(default_factory=list)
    silences: dict[str, silence_service_pb2.Silence] = field(default_factory=dict)
    channels: list[str] = field(default_factory=list)
    fail: grpc.StatusCode | None = None

    async def ListAlerts(
        self, request: alert_service_pb2.ListAlertsRequest, context: Context
    ) -> alert_service_pb2.ListAlertsResponse:
        if self.fail is not None:
            await context.abort(self.fail, "database at /var/lib/secret is locked")
        items, token = page(self.alerts, request.page_token)
        return alert_service_pb2.ListAlertsResponse(alerts=items, next_page_token=token)

    async def CreateAlerts(
        self, request: alert_service_pb2.CreateAlertsRequest, context: Context
    ) -> alert_service_pb2.CreateAlertsResponse:
        for index, posted in enumerate(request.alerts):
            if not posted.labels:
                await abort_bad_request(
                    context,
                    "invalid alerts",
                    [(f"alerts[{index}].labels", "at least one label pair required")],
                )
        return alert_service_pb2.CreateAlertsResponse(
            fingerprints=[str(i) for i in range(len(request.alerts))]
        )

    async def ListAlertGroups(
        self, request: alert_service_pb2.ListAlertGroupsRequest, context: Context
    ) -> alert_service_pb2.ListAlertGroupsResponse:
        items, token = page(self.groups, request.page_token)
        return alert_service_pb2.ListAlertGroupsResponse(groups=items, next_page_token=token)

    async def CreateSilence(
        self, request: silence_service_pb2.CreateSilenceRequest, context: Context
    ) -> silence_service_pb2.CreateSilenceResponse:
        created = silence_service_pb2.Silence()
        created.CopyFrom(request.silence)
        created.id = silence_id(len(self.silences) + 1)
        self.silences[created.id] = created
        return silence_service_pb2.CreateSilenceResponse(silence=created)

    async def GetSilence(
        self, request: silence_service_pb2.GetSilenceRequest, context: Context
    ) -> silence_service_pb2.GetSilenceResponse:
        return silence_service_pb2.GetSilenceResponse(silence=await self._silence(request.id, context))

    async def ListSilences(
        self, request: silence_service_pb2.ListSilencesRequest, context: Context
    ) -> silence_service_pb2.ListSilencesResponse:
        items, token = page(list(self.silences.values()), request.page_token)
        return silence_service_pb2.ListSilencesResponse(silences=items, next_page_token=token)

    async def UpdateSilence(
        self, request: silence_service_pb2.UpdateSilenceRequest, context: Context
    ) -> silence_service_pb2.UpdateSilenceResponse:
        old = await self._silence(request.id, context)
        updated = silence_service_pb2.Silence()
        updated.CopyFrom(request.silence)
        # Alertmanager's rule: other matchers make a new silence.
        updated.id = (
            old.id if list(old.matchers) == list(updated.matchers) else silence_id(len(self.silences) + 1)
        )
        self.silences[updated.id] = updated
        return silence_service_pb2.UpdateSilenceResponse(silence=updated)

    async def ExpireSilence(
        self, request: silence_service_pb2.ExpireSilenceRequest, context: Context
    ) -> silence_service_pb2.ExpireSilenceResponse:
        (await self._silence(request.id, context)).state = silence_service_pb2.SILENCE_STATE_EXPIRED
        return silence_service_pb2.ExpireSilenceResponse()

    async def ListChannels(
        self, request: channel_service_pb2.ListChannelsRequest, context: Context
    ) -> channel_service_pb2.ListChannelsResponse:
        names, token = page(self.channels, request.page_token)
        return channel_service_pb2.ListChannelsResponse(
            channels=[
                # "receiver/name": a channel that is one integration of an Alertmanager receiver.
                channel_service_pb2.Channel(name=n.partition("/")[2], receiver=n.partition("/")[0])
                if "/" in n
                else channel_service_pb2.Channel(name=n)
                for n in names
            ],
            next_page_token=token,
        )

    async def _silence(self, silence_id: str, context: Context) -> silence_service_pb2.Silence:
        if silence_id not in self.silences:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"silence {silence_id!r} not found")
        return self.silences[silence_id]


def page(items: list[Any], token: str) -> tuple[list[Any], str]:
    start = int(token or "0")
    end = start + 2
    return items[start:end], str(end) if end < len(items) else ""


@pytest.fixture
async def am() -> AsyncIterator[AlertmanagerServer]:
    fake = AlertmanagerServer()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def api(am: AlertmanagerServer) -> AsyncIterator[httpx.AsyncClient]:
    """The v2 routes with the clock stopped at NOW_MS, started an hour before."""
    backend = Backend(am.target)
    identity = Identity(started_at_ms=NOW_MS - HOUR, cluster_name="gw-1")
    app = Starlette(routes=alertmanager_routes(backend, 4096, clock=lambda: NOW_MS, identity=identity))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        yield http
    await backend.close()


def calls(server: FakeServer, method: str) -> list[Any]:
    return [c.request for c in server.calls if c.method == method]


# --- POST /api/v2/alerts ------------------------------------------------------------------------


async def test_posted_alerts_are_created(api: httpx.AsyncClient, am: AlertmanagerServer) -> None:
    body = [
        {
            "labels": {"alertname": "Disk", "host": "a", "empty": ""},
            "annotations": {"summary": "full"},
            "startsAt": "2023-10-08T18:20:34.567891234Z",
            "endsAt": "2023-10-08T19:20:34.567Z",
            "generatorURL": "http://prometheus/graph",
        },
        {"labels": {"alertname": "Up"}},
    ]

    response = await api.post("/api/v2/alerts", json=body, headers={"Authorization": "Bearer t"})

    assert (response.status_code, response.content) == (200, b"")
    sent = am.last("CreateAlerts")
    assert isinstance(sent, alert_service_pb2.CreateAlertsRequest)
    first, second = sent.alerts
    assert dict(first.labels) == {"alertname": "Disk", "host": "a"}  # empty values dropped
    assert dict(first.annotations) == {"summary": "full"}
    assert first.starts_at.ToMilliseconds() == NOW_MS
    assert first.ends_at.ToMilliseconds() == NOW_MS + HOUR
    assert first.generator_url == "http://prometheus/graph"
    # Unset times stay unset: the server applies Alertmanager's defaults.
    assert not second.HasField("starts_at")
    assert not second.HasField("ends_at")
    assert am.calls[-1].authorization == "Bearer t"


async def test_an_invalid_alert_is_a_400_with_the_reason(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v2/alerts", json=[{"labels": {"a": "b"}}, {"labels": {"only": ""}}])

    assert response.status_code == 400
    assert response.json() == "alerts[1].labels: at least one label pair required"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"labels": {}}, 400, "cannot unmarshal object into PostableAlerts"),
        ([{"annotations": {}}], 422, "0.labels in body is required"),
        ([{"labels": {"a": 1}}], 400, "cannot unmarshal object into LabelSet (labels)"),
        (
            [{"labels": {"a": "b"}, "startsAt": "yesterday"}],
            400,
            "startsAt in body must be of type date-time",
        ),
    ],
)
async def test_bodies_outside_the_schema_are_refused_before_any_call(
    api: httpx.AsyncClient, am: AlertmanagerServer, body: Any, status: int, message: str
) -> None:
    response = await api.post("/api/v2/alerts", json=body)

    assert response.status_code == status
    assert message in response.json()["message"]
    assert response.json()["code"] == (602 if status == 422 else 400)
    assert calls(am, "CreateAlerts") == []


async def test_an_empty_list_is_accepted_without_a_call(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    assert (await api.post("/api/v2/alerts", json=[])).status_code == 200
    assert calls(am, "CreateAlerts") == []


# --- GET /api/v2/alerts -------------------------------------------------------------------------


async def test_alerts_have_alertmanagers_shape(api: httpx.AsyncClient, am: AlertmanagerServer) -> None:
    am.alerts = [alert("f1", generator_url="http://prometheus/graph", silenced_by=(S1,))]

    response = await api.get("/api/v2/alerts")

    assert response.status_code == 200
    assert response.json() == [
        {
            "annotations": {"summary": "s"},
            "endsAt": "2023-10-08T19:20:34.567Z",
            "fingerprint": "f1",
            "receivers": [{"name": "ops"}],
            "startsAt": "2023-10-08T17:20:34.567Z",
            "status": {"inhibitedBy": [], "mutedBy": [], "silencedBy": [S1], "state": "suppressed"},
            "updatedAt": "2023-10-08T18:20:33.567Z",
            "labels": {"alertname": "Af1", "host": "a"},
            "generatorURL": "http://prometheus/graph",
        }
    ]


async def test_only_firing_alerts_that_have_not_ended_are_listed_from_every_page(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    am.alerts = [
        alert("f5"),
        alert("f1", STATES.ALERT_STATE_PENDING),
        alert("f4", STATES.ALERT_STATE_RESOLVED, ends_at=NOW_MS - 1),
        alert("f3", ends_at=NOW_MS - 1),  # ended, not yet resolved by the server: Alertmanager hides it
        alert("f2", ends_at=None),
        alert("f0"),
    ]

    alerts = (await api.get("/api/v2/alerts")).json()

    assert [a["fingerprint"] for a in alerts] == ["f0", "f2", "f5"]
    assert alerts[1]["endsAt"] == "0001-01-01T00:00:00.000Z"
    assert "generatorURL" not in alerts[0]
    assert len(calls(am, "ListAlerts")) == 3


async def test_filters_become_the_list_request(api: httpx.AsyncClient, am: AlertmanagerServer) -> None:
    params: list[tuple[str, str | int | float | bool | None]] = [
        ("filter", "alertname=Disk"),
        ("filter", 'job=~"api.*"'),
        ("filter", r'msg!="say \"hi\""'),
        ("silenced", "false"),
        ("receiver", "ops|pager"),
    ]

    response = await api.get("/api/v2/alerts", params=params)

    assert response.status_code == 200
    sent = am.last("ListAlerts")
    assert isinstance(sent, alert_service_pb2.ListAlertsRequest)
    assert sent.filter == r'{alertname="Disk",job=~"api.*",msg!="say \"hi\""}'
    assert sent.HasField("silenced")
    assert sent.silenced is False
    assert not sent.HasField("inhibited")
    assert sent.receiver == "ops|pager"


async def test_no_filter_sends_an_empty_selector(api: httpx.AsyncClient, am: AlertmanagerServer) -> None:
    await api.get("/api/v2/alerts", params={"silenced": "true", "inhibited": "1"})

    sent = am.last("ListAlerts")
    assert isinstance(sent, alert_service_pb2.ListAlertsRequest)
    assert (sent.filter, sent.receiver) == ("", "")
    assert not sent.HasField("silenced")
    assert not sent.HasField("inhibited")


async def test_active_false_shows_only_suppressed_alerts(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    am.alerts = [alert("f1"), alert("f2", inhibited_by=("f9",))]

    alerts = (await api.get("/api/v2/alerts", params={"active": "false"})).json()

    assert [(a["fingerprint"], a["status"]["state"]) for a in alerts] == [("f2", "suppressed")]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filter": "alertname"}, "bad matcher format: alertname"),
        ({"filter": 'a="b'}, 'matcher value contains unescaped double quote: "b'),
        ({"active": "maybe"}, "active in query must be of type bool"),
    ],
)
async def test_bad_parameters_are_400(
    api: httpx.AsyncClient, am: AlertmanagerServer, params: dict[str, str], message: str
) -> None:
    response = await api.get("/api/v2/alerts", params=params)

    assert response.status_code == 400
    body = response.json()
    assert message in (body if isinstance(body, str) else body["message"])
    assert calls(am, "ListAlerts") == []


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        (grpc.StatusCode.INTERNAL, 500, "internal error"),
        (grpc.StatusCode.UNAVAILABLE, 503, "database at /var/lib/secret is locked"),
        (grpc.StatusCode.PERMISSION_DENIED, 403, "database at /var/lib/secret is locked"),
    ],
)
async def test_server_errors_map_to_statuses(
    api: httpx.AsyncClient, am: AlertmanagerServer, code: grpc.StatusCode, status: int, message: str
) -> None:
    am.fail = code

    response = await api.get("/api/v2/alerts")

    assert (response.status_code, response.json()) == (status, message)


# --- GET /api/v2/alerts/groups ------------------------------------------------------------------


async def test_groups_have_alertmanagers_shape_and_filters(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    am.groups = [
        alert_service_pb2.AlertGroup(labels={"alertname": "Af1"}, receiver="ops", alerts=[alert("f1")]),
        alert_service_pb2.AlertGroup(
            labels={"alertname": "Af2"}, receiver="pager", alerts=[alert("f2", silenced_by=(S1,))]
        ),
        alert_service_pb2.AlertGroup(
            labels={}, receiver="ops", alerts=[alert("f3", STATES.ALERT_STATE_PENDING)]
        ),
    ]

    every = (await api.get("/api/v2/alerts/groups")).json()
    unsilenced = (await api.get("/api/v2/alerts/groups", params={"silenced": "false"})).json()
    pager = (await api.get("/api/v2/alerts/groups", params={"receiver": "pag.*"})).json()
    filtered = (await api.get("/api/v2/alerts/groups", params={"filter": "alertname=~Af[12]"})).json()

    assert [g["receiver"] for g in every] == [
        {"name": "ops"},
        {"name": "pager"},
    ]  # the empty group is left out
    assert every[0]["labels"] == {"alertname": "Af1"}
    assert [a["fingerprint"] for a in every[0]["alerts"]] == ["f1"]
    assert set(every[0]["alerts"][0]) >= {"labels", "fingerprint", "status", "receivers", "startsAt"}
    assert [g["labels"] for g in unsilenced] == [{"alertname": "Af1"}]
    assert [g["labels"] for g in pager] == [{"alertname": "Af2"}]
    assert len(filtered) == 2


async def test_a_group_muted_by_a_time_interval_shows_it_on_its_alerts_as_suppressed(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    muted = alert("f1", muted_by=("weekend",))
    am.groups = [
        alert_service_pb2.AlertGroup(
            labels={"alertname": "Af1"}, receiver="ops", alerts=[muted], muted_by=["weekend"]
        ),
        alert_service_pb2.AlertGroup(labels={"alertname": "Af2"}, receiver="ops", alerts=[alert("f2")]),
    ]
    am.alerts = [muted]

    every = (await api.get("/api/v2/alerts/groups")).json()
    unmuted = (await api.get("/api/v2/alerts/groups", params={"muted": "false"})).json()
    alerts = (await api.get("/api/v2/alerts")).json()

    assert [a["status"] for g in every for a in g["alerts"]] == [
        {"inhibitedBy": [], "mutedBy": ["weekend"], "silencedBy": [], "state": "suppressed"},
        {"inhibitedBy": [], "mutedBy": [], "silencedBy": [], "state": "active"},
    ]
    assert [g["labels"] for g in unmuted] == [{"alertname": "Af2"}]
    # As Alertmanager 0.28: /alerts does not tell the time intervals of the alert's groups.
    assert [a["status"] for a in alerts] == [
        {"inhibitedBy": [], "mutedBy": [], "silencedBy": [], "state": "active"}
    ]
    bad = await api.get("/api/v2/alerts/groups", params={"muted": "maybe"})
    assert bad.status_code == 400


async def test_a_bad_receiver_regex_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v2/alerts/groups", params={"receiver": "("})

    assert response.status_code == 400
    assert response.json().startswith("failed to parse receiver param: ")


# --- silences -----------------------------------------------------------------------------------


POSTED_SILENCE = {
    "matchers": [
        {"name": "host", "value": "a", "isRegex": False, "isEqual": True},
        {"name": "job", "value": "api.*", "isRegex": True, "isEqual": False},
        {"name": "msg", "value": 'say "hi"', "isRegex": False},
    ],
    "startsAt": "2023-10-08T18:20:34.567Z",
    "endsAt": "2023-10-08T19:20:34.567Z",
    "createdBy": "alice",
    "comment": "maintenance",
}


async def test_a_posted_silence_is_created_with_our_matcher_strings(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    response = await api.post("/api/v2/silences", json=POSTED_SILENCE)

    assert (response.status_code, response.json()) == (200, {"silenceID": S1})
    created = am.silences[S1]
    assert list(created.matchers) == ['host="a"', 'job!~"api.*"', r'msg="say \"hi\""']
    assert (created.created_by, created.comment) == ("alice", "maintenance")
    assert (created.starts_at.ToMilliseconds(), created.ends_at.ToMilliseconds()) == (NOW_MS, NOW_MS + HOUR)


async def test_silences_read_back_in_alertmanagers_shape(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    await api.post("/api/v2/silences", json=POSTED_SILENCE)
    am.silences[S1].state = silence_service_pb2.SILENCE_STATE_ACTIVE
    am.silences[S1].updated_at.FromMilliseconds(NOW_MS)
    expected = {
        "id": S1,
        "status": {"state": "active"},
        "updatedAt": NOW,
        "comment": "maintenance",
        "createdBy": "alice",
        "endsAt": "2023-10-08T19:20:34.567Z",
        "matchers": [
            {"name": "host", "value": "a", "isRegex": False, "isEqual": True},
            {"name": "job", "value": "api.*", "isRegex": True, "isEqual": False},
            {"name": "msg", "value": 'say "hi"', "isRegex": False, "isEqual": True},
        ],
        "startsAt": NOW,
    }

    assert (await api.get(f"/api/v2/silence/{S1}")).json() == expected
    assert (await api.get("/api/v2/silences")).json() == [expected]


async def test_silences_are_filtered_by_their_own_matchers_and_sorted(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    S = silence_service_pb2
    am.silences = {
        "old": silence("old", S.SILENCE_STATE_EXPIRED, NOW_MS - 3 * HOUR, NOW_MS - 2 * HOUR),
        "late": silence("late", S.SILENCE_STATE_ACTIVE, NOW_MS - HOUR, NOW_MS + 2 * HOUR),
        "later": silence("later", S.SILENCE_STATE_PENDING, NOW_MS + 2 * HOUR, NOW_MS + 3 * HOUR),
        "recent": silence("recent", S.SILENCE_STATE_EXPIRED, NOW_MS - 2 * HOUR, NOW_MS - HOUR),
        "soon": silence("soon", S.SILENCE_STATE_PENDING, NOW_MS + HOUR, NOW_MS + 3 * HOUR),
        "early": silence("early", S.SILENCE_STATE_ACTIVE, NOW_MS - HOUR, NOW_MS + HOUR),
    }
    am.silences["other"] = silence("other", S.SILENCE_STATE_ACTIVE, NOW_MS - HOUR, NOW_MS + HOUR)
    am.silences["other"].matchers[:] = ['host=~"a"']

    listed = (await api.get("/api/v2/silences", params={"filter": 'host="a"'})).json()
    regex = (await api.get("/api/v2/silences", params={"filter": "host=~a"})).json()

    assert [s["id"] for s in listed] == ["early", "late", "soon", "later", "recent", "old"]
    assert [s["id"] for s in regex] == ["other"]


async def test_a_silence_with_an_id_is_updated(api: httpx.AsyncClient, am: AlertmanagerServer) -> None:
    await api.post("/api/v2/silences", json=POSTED_SILENCE)

    same = await api.post("/api/v2/silences", json={**POSTED_SILENCE, "id": S1, "comment": "longer"})
    changed = await api.post(
        "/api/v2/silences",
        json={**POSTED_SILENCE, "id": S1, "matchers": [{"name": "host", "value": "b", "isRegex": False}]},
    )

    assert same.json() == {"silenceID": S1}
    assert am.silences[S1].comment == "longer"
    assert changed.json() == {"silenceID": S2}
    sent = am.last("UpdateSilence")
    assert isinstance(sent, silence_service_pb2.UpdateSilenceRequest)
    assert (sent.id, list(sent.silence.matchers)) == (S1, ['host="b"'])


async def test_updating_a_missing_silence_is_404(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v2/silences", json={**POSTED_SILENCE, "id": "nope"})

    assert (response.status_code, response.json()) == (404, "not found")


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        (
            {"endsAt": "2023-10-08T18:20:34.567Z"},
            400,
            "Failed to create silence: start time must be before end time",
        ),
        (
            {"startsAt": "2023-10-08T16:20:34.567Z", "endsAt": "2023-10-08T17:20:34.567Z"},
            400,
            "Failed to create silence: end time can't be in the past",
        ),
    ],
)
async def test_bad_silence_times_are_400(
    api: httpx.AsyncClient, am: AlertmanagerServer, change: dict[str, str], status: int, message: str
) -> None:
    response = await api.post("/api/v2/silences", json={**POSTED_SILENCE, **change})

    assert (response.status_code, response.json()) == (status, message)
    assert am.silences == {}


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"matchers": []}, 422, "matchers in body should have at least 1 items"),
        ({"comment": None}, 422, "comment in body is required"),
        ({"matchers": [{"name": "a", "value": "b"}]}, 422, "matchers.0.isRegex in body is required"),
    ],
)
async def test_silences_outside_the_schema_are_refused(
    api: httpx.AsyncClient, am: AlertmanagerServer, change: dict[str, Any], status: int, message: str
) -> None:
    response = await api.post("/api/v2/silences", json={**POSTED_SILENCE, **change})

    assert response.status_code == status
    assert message in response.json()["message"]
    assert am.silences == {}


async def test_a_bad_silence_regex_is_alertmanagers_400(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    matchers = [{"name": "a", "value": "(", "isRegex": True}]

    response = await api.post("/api/v2/silences", json={**POSTED_SILENCE, "matchers": matchers})

    assert response.status_code == 400
    assert response.json().startswith(
        "failed to convert API silence to internal silence: error parsing regexp"
    )
    assert am.silences == {}


async def test_a_silence_is_expired_and_a_missing_one_is_404(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    await api.post("/api/v2/silences", json=POSTED_SILENCE)

    deleted = await api.delete(f"/api/v2/silence/{S1}")
    missing_delete = await api.delete(f"/api/v2/silence/{MISSING}")
    missing_get = await api.get(f"/api/v2/silence/{MISSING}")

    assert (deleted.status_code, deleted.content) == (200, b"")
    assert am.silences[S1].state == silence_service_pb2.SILENCE_STATE_EXPIRED
    assert (await api.get(f"/api/v2/silence/{S1}")).json()["status"] == {"state": "expired"}
    assert (missing_delete.status_code, missing_delete.content) == (404, b"")
    assert (missing_get.status_code, missing_get.content) == (404, b"")


async def test_a_silence_id_that_is_no_uuid_is_refused_as_alertmanager_does(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    await api.post("/api/v2/silences", json=POSTED_SILENCE)
    expected = {"code": 601, "message": 'silenceID in path must be of type uuid: "s-1"'}

    for method in ("GET", "DELETE"):
        response = await api.request(method, "/api/v2/silence/s-1")
        assert (response.status_code, response.json()) == (422, expected)
    assert am.silences[S1].state != silence_service_pb2.SILENCE_STATE_EXPIRED
    # Any case, dashes optional, as go-openapi's uuid format.
    assert (await api.get(f"/api/v2/silence/{S1.upper().replace('-', '')}")).status_code == 404


# --- status and receivers -----------------------------------------------------------------------


async def test_status_describes_a_ready_single_instance(api: httpx.AsyncClient) -> None:
    status = (await api.get("/api/v2/status")).json()

    # A server without the cluster API (this fake has none): one instance.
    assert status["cluster"] == {"name": "gw-1", "peers": [], "status": "ready"}
    assert status["config"] == {"original": ""}
    assert status["uptime"] == "2023-10-08T17:20:34.567Z"
    # No Alertmanager version to claim: null is what amtool reads as "unknown" and does not warn of.
    assert status["versionInfo"] is None


@dataclass
class ReplicatedServer(AlertmanagerServer):
    """A server of several replicas: its cluster API lists them."""

    replicas: list[cluster_service_pb2.Replica] = field(default_factory=list)

    async def GetCluster(
        self, request: cluster_service_pb2.GetClusterRequest, context: Context
    ) -> cluster_service_pb2.GetClusterResponse:
        return cluster_service_pb2.GetClusterResponse(replicas=self.replicas)


async def test_status_lists_the_replicas_as_alertmanager_peers() -> None:
    server = ReplicatedServer(
        replicas=[
            cluster_service_pb2.Replica(id="r1", address="10.0.0.1:50051"),
            cluster_service_pb2.Replica(id="r2", address="10.0.0.2:50051", this_replica=True),
        ]
    )
    await server.start()
    backend = Backend(server.target)
    app = Starlette(routes=alertmanager_routes(backend, 4096, clock=lambda: NOW_MS))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
            status = (await http.get("/api/v2/status")).json()
    finally:
        await backend.close()
        await server.stop()

    assert status["cluster"] == {
        "name": "r2",
        "peers": [{"name": "r1", "address": "10.0.0.1:50051"}, {"name": "r2", "address": "10.0.0.2:50051"}],
        "status": "ready",
    }


async def test_receivers_are_the_channel_names_of_every_page(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    am.channels = ["ops", "pager", "mail"]

    assert (await api.get("/api/v2/receivers")).json() == [
        {"name": "ops"},
        {"name": "pager"},
        {"name": "mail"},
    ]


async def test_receivers_of_a_loaded_configuration_list_once(
    api: httpx.AsyncClient, am: AlertmanagerServer
) -> None:
    am.channels = ["pager/pager-email-0", "ops", "pager/pager-pagerduty-0"]

    assert (await api.get("/api/v2/receivers")).json() == [{"name": "pager"}, {"name": "ops"}]


# --- wiring -------------------------------------------------------------------------------------


async def test_the_gateway_serves_and_documents_the_v2_api(am: AlertmanagerServer) -> None:
    channel = grpc.aio.insecure_channel(am.target)
    app = create_app(am.target, channel=channel, sse_keepalive=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as http:
        status = await http.get("/api/v2/status")
        posted = await http.post("/api/v2/alerts", json=[{"labels": {"a": "b"}}])
        document = (await http.get("/openapi.json")).json()
    await channel.close(None)

    assert status.status_code == 200
    assert status.json()["cluster"]["status"] == "ready"
    assert posted.status_code == 200
    assert document["paths"]["/api/v2/silence/{silence_id}"]["delete"]["operationId"] == "deleteSilence"
