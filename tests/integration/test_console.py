"""The web console at /ui/ in a real browser: headless Chromium (the system's `chromium`, installed by
scripts/browser.sh) driven by Playwright against the real server. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from tests.integration.ha.receiver import WebhookReceiver
from tests.integration.server import ServerProcess

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium is not None, "chromium is missing: run `make peers` (scripts/browser.sh installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


PHONE: ViewportSize = {"width": 390, "height": 844}


def shots(page: Page, name: str) -> None:
    """The page at its size and at a phone's, where nothing may be wider than the screen."""
    shot(page, name)
    size = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        shot(page, f"{name}-phone")
    finally:
        if size is not None:
            page.set_viewport_size(size)


def post_alert(http: httpx.Client, labels: dict[str, str]) -> str:
    r = http.post("/api/v2/alerts", json=[{"labels": labels, "annotations": {"summary": "s"}}])
    assert r.status_code == 200, r.text
    [alert] = [a for a in http.get("/alerts").json()["alerts"] if a["labels"] == labels]
    return str(alert["fingerprint"])


def test_posted_alert_appears_live_without_reload(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    page.goto(f"{server.base_url}/ui/")
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.locator("#alerts-empty")).to_be_visible()
    # A reload would lose this.
    page.evaluate("window.notReloaded = true")

    posted = time.monotonic()
    fingerprint = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "<b>db1</b>"})
    alert_row = page.locator(f'tr[data-fingerprint="{fingerprint}"]')
    expect(alert_row).to_be_visible(timeout=1000)
    assert time.monotonic() - posted < 1.0 + 0.5  # the post itself included
    assert page.evaluate("window.notReloaded") is True
    expect(alert_row.locator('td[data-label="State"]')).to_have_text("firing")
    expect(alert_row.locator('td[data-label="Severity"]')).to_have_text("critical")
    # Label values are text, never markup.
    expect(alert_row).to_contain_text('host="<b>db1</b>"')
    assert alert_row.locator("b").count() == 0
    expect(page.locator("#alerts-empty")).to_be_hidden()

    r = http.post(f"/alerts/{fingerprint}/ack", json={"by": "alice", "comment": "on it"})
    assert r.status_code == 200, r.text
    expect(alert_row.locator(".mark-acknowledged")).to_have_text("acknowledged by alice", timeout=1000)
    expect(alert_row.locator(".ack-when")).to_have_text(re.compile(r"^\d+s ago$"))
    shots(page, "alerts-live")


def test_server_rendered_rows_match_the_live_ones(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    fingerprint = post_alert(http, {"alertname": "HighLoad", "severity": "warning", "host": "web1"})
    http.post(f"/alerts/{fingerprint}/ack", json={"by": "bob"}).raise_for_status()
    served = httpx.get(f"{server.base_url}/ui/").text
    assert f'data-fingerprint="{fingerprint}"' in served
    assert "acknowledged by bob" in served
    assert re.search(r'class="status ack-when">\d+s ago<', served)
    page.goto(f"{server.base_url}/ui/")
    expect(page.locator("#live-status")).to_have_text("Live")
    alert_row = page.locator(f'tr[data-fingerprint="{fingerprint}"]')
    expect(alert_row.locator(".mark-acknowledged")).to_have_text("acknowledged by bob")
    expect(alert_row.locator('td[data-label="Value"]')).to_have_text("0")
    assert page.locator("tr[data-fingerprint]").count() == 1


def test_filter_round_trips_through_the_url(server: ServerProcess, http: httpx.Client, page: Page) -> None:
    critical = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    warning = post_alert(http, {"alertname": "HighLoad", "severity": "warning", "host": "web1"})
    page.goto(f"{server.base_url}/ui/")
    expect(page.locator("tr[data-fingerprint]")).to_have_count(2)

    # Typed and submitted with the keyboard.
    page.locator("#filter").fill('severity="critical"')
    page.locator("#filter").press("Enter")
    page.wait_for_url("**/ui/?filter=*")
    assert parse_qs(urlsplit(page.url).query) == {"filter": ['severity="critical"']}
    expect(page.locator("#filter")).to_have_value('severity="critical"')
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.locator(f'tr[data-fingerprint="{critical}"]')).to_be_visible()
    expect(page.locator(f'tr[data-fingerprint="{warning}"]')).to_have_count(0)

    # The stream is filtered too: a new warning stays off the page, a new critical shows up.
    post_alert(http, {"alertname": "HighLoad", "severity": "warning", "host": "web2"})
    second = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db2"})
    expect(page.locator(f'tr[data-fingerprint="{second}"]')).to_be_visible(timeout=1000)
    expect(page.locator("tr[data-fingerprint]")).to_have_count(2)

    # Reloading the URL gives the same page.
    page.reload()
    expect(page.locator("#filter")).to_have_value('severity="critical"')
    expect(page.locator("tr[data-fingerprint]")).to_have_count(2)


def _groups(page: Page) -> dict[str, list[str]]:
    """Each group's heading (without its count) and the fingerprints of its rows, as shown."""
    shown: dict[str, list[str]] = {}
    for body in page.locator("tbody.alert-group").all():
        heading = body.locator("tr.group-head th").inner_text().rsplit(" (", 1)[0]
        shown[heading] = [
            r.get_attribute("data-fingerprint") or "" for r in body.locator("tr[data-fingerprint]").all()
        ]
    return shown


def test_alerts_grouped_by_a_label_or_as_the_routing_tree_groups_them(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    hook = {"name": "ops-hook", "type": "webhook", "config": {"url": "http://127.0.0.1:9/ops"}}
    assert http.post("/channels", json=hook).status_code == 201
    tree = {"receiver": "ops-hook", "group_by": ["team"], "group_wait": "0s"}
    assert http.put("/routing", json=tree).status_code == 200
    db1 = post_alert(http, {"alertname": "DiskFull", "team": "db", "host": "db1"})
    web = post_alert(http, {"alertname": "HighLoad", "team": "web", "host": "web1"})
    lone = post_alert(http, {"alertname": "Lonely", "host": "x"})

    # By a label, chosen in the form and kept in the URL.
    page.goto(f"{server.base_url}/ui/")
    page.locator("#group").select_option("team")
    page.locator("#filter").press("Enter")
    page.wait_for_url("**/ui/?*group=team*")
    assert parse_qs(urlsplit(page.url).query) == {"group": ["team"]}
    expect(page.locator("#live-status")).to_have_text("Live")
    assert _groups(page) == {'team="db"': [db1], 'team="web"': [web], "without team": [lone]}
    # A new alert joins its group without a reload.
    page.evaluate("window.notReloaded = true")
    db2 = post_alert(http, {"alertname": "DiskFull", "team": "db", "host": "db2"})
    expect(page.locator(f'tbody[data-group="db"] tr[data-fingerprint="{db2}"]')).to_be_visible(timeout=3000)
    assert page.evaluate("window.notReloaded") is True
    shots(page, "alerts-grouped-by-label")

    # As the routing tree groups them: its aggregation groups, by receiver and group labels.
    page.goto(f"{server.base_url}/ui/?group=%40route&filter=" + quote('alertname!="Lonely"'))
    expect(page.locator("#group")).to_have_value("@route")
    expect(page.locator("#group option:checked")).to_have_text("the routing tree's groups")
    assert page.locator('#group option[value="@route"]').count() == 1
    expect(page.locator("#live-status")).to_have_text("Live")
    expect(page.locator("tbody.alert-group")).to_have_count(2)
    groups = _groups(page)
    assert sorted(groups) == ['ops-hook · {team="db"} · route {}', 'ops-hook · {team="web"} · route {}']
    assert sorted(groups['ops-hook · {team="db"} · route {}']) == sorted([db1, db2])
    # The filter holds in the grouped view too, live.
    post_alert(http, {"alertname": "Lonely", "host": "y"})
    web2 = post_alert(http, {"alertname": "HighLoad", "team": "web", "host": "web2"})
    expect(page.locator(f'tr[data-fingerprint="{web2}"]')).to_be_visible(timeout=3000)
    expect(page.locator("tr[data-fingerprint]")).to_have_count(4)
    shots(page, "alerts-grouped-by-route")

    refused = httpx.get(f"{server.base_url}/ui/", params={"group": "not a label"})
    assert refused.status_code == 400
    assert "neither a label name nor @route" in refused.text


def test_bad_filter_is_refused_with_the_reason(server: ServerProcess, page: Page) -> None:
    response = page.goto(f"{server.base_url}/ui/?filter=" + "host%3D~%22(%22")
    assert response is not None
    assert response.status == 400
    expect(page.locator(".error")).to_contain_text("filter: invalid regular expression")
    expect(page.locator("#filter")).to_have_value('host=~"("')


def test_phone_sized_dark_mode(server: ServerProcess, http: httpx.Client, browser: Browser) -> None:
    post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(f"{server.base_url}/ui/")
        expect(page.locator("#live-status")).to_have_text("Live")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(13, 17, 23)"
        # Nothing wider than the screen: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # The keyboard goes through the navigation, then to the filter.
        for name in ("Alerts", "Silences", "Rules", "Routing", "Channels", "Deliveries"):
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent") == name
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "filter"
        shot(page, "alerts-phone-dark")
    finally:
        context.close()


def test_pages_allow_only_their_own_script_and_style(http: httpx.Client) -> None:
    redirect = http.get("/ui")
    assert redirect.status_code in (307, 308)
    assert redirect.headers["location"].endswith("/ui/")
    page = http.get("/ui/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert http.get("/ui/console.js").headers["content-type"].startswith("text/javascript")
    assert http.get("/ui/console.css").headers["content-type"].startswith("text/css")


def post_annotated(http: httpx.Client, labels: dict[str, str], annotations: dict[str, str]) -> str:
    r = http.post("/api/v2/alerts", json=[{"labels": labels, "annotations": annotations}])
    assert r.status_code == 200, r.text
    [alert] = [a for a in http.get("/alerts").json()["alerts"] if a["labels"] == labels]
    return str(alert["fingerprint"])


def test_alert_page_shows_labels_annotations_and_links_safely(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    fingerprint = post_annotated(
        http,
        {"alertname": "DiskFull", "severity": "critical", "host": "db1"},
        {
            "runbook_url": "https://runbooks.example.org/disk-full",
            "dashboard": "javascript:alert(1)",
            "summary": "<img src=x onerror=alert(1)> disk full",
        },
    )
    page.goto(f"{server.base_url}/ui/")
    page.locator(f'tr[data-fingerprint="{fingerprint}"] a').click()
    page.wait_for_url(f"**/ui/alerts/{fingerprint}")
    expect(page.locator("h1")).to_have_text("DiskFull")
    expect(page.locator("#alert-state")).to_have_text("firing")
    runbook = page.locator('a[href="https://runbooks.example.org/disk-full"]')
    expect(runbook).to_have_attribute("rel", "noopener noreferrer nofollow")
    assert page.locator('a[href^="javascript:"]').count() == 0
    expect(page.locator("dd", has_text="javascript:alert(1)")).to_be_visible()
    assert page.locator("main img").count() == 0
    expect(page.locator("dd", has_text="<img src=x onerror=alert(1)> disk full")).to_be_visible()
    expect(page.locator("dd", has_text="db1")).to_be_visible()
    expect(page.locator("#history li").first).to_contain_text("state change")
    shots(page, "alert-page")


def test_ack_and_unack_from_the_alert_page(server: ServerProcess, http: httpx.Client, page: Page) -> None:
    fingerprint = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    page.goto(f"{server.base_url}/ui/alerts/{fingerprint}")
    page.locator("#by").fill("alice")
    page.locator("#comment").fill("looking at it")
    page.locator("#comment").press("Enter")
    page.wait_for_url(f"**/ui/alerts/{fingerprint}")
    expect(page.locator("#alert-markers")).to_have_text("acknowledged by alice")
    expect(page.locator("dt:text-is('Acknowledged') + dd")).to_contain_text("by alice, 20")

    [listed] = http.get("/alerts", params={"acknowledged": "true"}).json()["alerts"]
    assert listed["fingerprint"] == fingerprint
    assert listed["ack"]["by"] == "alice"
    assert listed["ack"]["comment"] == "looking at it"
    events = http.get(f"/alerts/{fingerprint}/history").json()["events"]
    acks = [e for e in events if e["type"] == "acknowledged"]
    assert [(e["by"], e["comment"]) for e in acks] == [("alice", "looking at it")]
    expect(page.locator('#history li[data-type="acknowledged"]')).to_contain_text("looking at it")

    page.locator("#by").fill("alice")
    page.get_by_role("button", name="Unacknowledge").click()
    page.wait_for_url(f"**/ui/alerts/{fingerprint}")
    expect(page.locator("#alert-markers")).to_have_text("")
    assert http.get(f"/alerts/{fingerprint}").json()["acknowledged"] is False
    expect(page.locator('#history li[data-type="unacknowledged"]')).to_have_count(1)


def test_ack_without_a_name_is_refused_and_changes_nothing(server: ServerProcess, http: httpx.Client) -> None:
    fingerprint = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    r = http.post(f"/ui/alerts/{fingerprint}/ack", data={"by": " ", "comment": "x"})
    assert r.status_code == 400
    assert "by" in r.text
    assert http.get(f"/alerts/{fingerprint}").json()["acknowledged"] is False
    missing = http.get("/ui/alerts/0000000000000000")
    assert missing.status_code == 404


def test_silence_like_this_mutes_the_alert(server: ServerProcess, http: httpx.Client, page: Page) -> None:
    labels = {"alertname": "DiskFull", "severity": "critical", "host": 'db "1"'}
    fingerprint = post_alert(http, labels)
    other = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db2"})
    page.goto(f"{server.base_url}/ui/alerts/{fingerprint}")
    page.locator("#silence-like-this").click()
    page.wait_for_url("**/ui/silences/new?matchers=*")
    expect(page.locator("#matchers")).to_have_value(
        'alertname="DiskFull"\nhost="db \\"1\\""\nseverity="critical"'
    )
    expect(page.locator("#duration")).to_have_value("2h")
    page.locator("#created_by").fill("alice")
    page.locator("#comment").fill("disk replaced tonight")
    page.get_by_role("button", name="Create silence").click()
    expect(page.locator("h1")).to_have_text("Silence created")
    silence_id = page.locator("#silence-id").inner_text()
    shots(page, "silence-created")

    silence = http.get(f"/silences/{silence_id}").json()
    assert silence["created_by"] == "alice"
    assert silence["comment"] == "disk replaced tonight"
    assert silence["state"] == "active"
    assert 2 * 3600_000 - 60_000 < silence["ends_at"] - silence["starts_at"] <= 2 * 3600_000
    muted = http.get(f"/alerts/{fingerprint}").json()
    assert muted["silenced_by"] == [silence_id]
    assert http.get(f"/alerts/{other}").json()["silenced_by"] == []
    page.goto(f"{server.base_url}/ui/")
    expect(page.locator(f'tr[data-fingerprint="{fingerprint}"] .mark-silenced')).to_have_text("silenced")


def test_silence_form_refuses_bad_input_keeping_what_was_typed(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    page.goto(f"{server.base_url}/ui/silences/new?matchers=host%3D%22db1%22")
    page.locator("#created_by").fill("alice")
    page.locator("#comment").fill("maintenance")
    page.locator("#duration").fill("2 hours")
    page.get_by_role("button", name="Create silence").click()
    expect(page.locator(".error")).to_contain_text("duration: not a valid duration string")
    expect(page.locator("#created_by")).to_have_value("alice")
    page.locator("#duration").fill("1h")
    page.locator("#matchers").fill('host=~"("')
    page.get_by_role("button", name="Create silence").click()
    expect(page.locator(".error")).to_have_text(re.compile(r"^matchers\[0\]: invalid regular expression"))
    expect(page.locator("#matchers")).to_have_value('host=~"("')
    assert http.get("/silences").json()["silences"] == []


READ_TOKEN = "console-read-token-0123456789"
WRITE_TOKEN = "console-write-token-0123456789"
ADMIN_TOKEN = "console-admin-token-0123456789"


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[ServerProcess]:
    config = tmp_path / "config.yaml"
    config.write_text(
        "auth:\n  tokens:\n"
        f"    - {{name: reader, token: {READ_TOKEN}, scope: read}}\n"
        f"    - {{name: writer, token: {WRITE_TOKEN}, scope: write}}\n"
        f"    - {{name: admin, token: {ADMIN_TOKEN}, scope: admin}}\n"
    )
    proc = ServerProcess(
        f"sqlite+aiosqlite:///{tmp_path / 'alerting.db'}", tmp_path, ["--config", str(config)]
    )
    proc.start()
    yield proc
    proc.kill()


@pytest.fixture
def api_client(secured: ServerProcess) -> Iterator[httpx.Client]:
    headers = {"authorization": f"Bearer {WRITE_TOKEN}"}
    with httpx.Client(base_url=secured.base_url, timeout=10, headers=headers) as client:
        yield client


def log_in(page: Page, base_url: str, token: str) -> None:
    page.goto(f"{base_url}/ui/login")
    page.locator("#token").fill(token)
    page.locator("#token").press("Enter")
    page.wait_for_url(f"{base_url}/ui/")


def test_console_needs_a_token_and_keeps_it_in_a_strict_cookie(
    secured: ServerProcess, api_client: httpx.Client, page: Page
) -> None:
    refused = page.goto(f"{secured.base_url}/ui/")
    assert refused is not None
    assert refused.status == 401
    page.get_by_role("link", name="Log in with a token").click()
    page.locator("#token").fill("not-a-token-at-all-0000")
    page.locator("#token").press("Enter")
    expect(page.locator(".error")).to_have_text("token: not a valid token")
    assert page.context.cookies() == []
    shots(page, "login")

    log_in(page, secured.base_url, WRITE_TOKEN)
    [cookie] = page.context.cookies()
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/ui/"
    assert page.evaluate("document.cookie") == ""
    expect(page.locator("#live-status")).to_have_text("Live")

    fingerprint = post_alert(api_client, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    expect(page.locator(f'tr[data-fingerprint="{fingerprint}"]')).to_be_visible(timeout=1000)
    page.goto(f"{secured.base_url}/ui/alerts/{fingerprint}")
    page.locator("#by").fill("alice")
    page.locator("#comment").fill("mine")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#alert-markers")).to_have_text("acknowledged by alice")
    assert api_client.get(f"/alerts/{fingerprint}").json()["acknowledged"] is True

    page.goto(f"{secured.base_url}/ui/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/ui/login")
    assert page.context.cookies() == []
    assert httpx.get(f"{secured.base_url}/ui/").status_code == 401


def test_read_only_token_sees_no_write_forms_and_writes_are_refused(
    secured: ServerProcess, api_client: httpx.Client, page: Page
) -> None:
    fingerprint = post_alert(api_client, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    log_in(page, secured.base_url, READ_TOKEN)
    expect(page.locator(f'tr[data-fingerprint="{fingerprint}"]')).to_be_visible()
    page.goto(f"{secured.base_url}/ui/alerts/{fingerprint}")
    expect(page.locator("#read-only")).to_be_visible()
    assert page.locator("form.ack").count() == 0
    assert page.locator("#silence-like-this").count() == 0
    page.goto(f"{secured.base_url}/ui/silences/new?matchers=host%3D%22db1%22")
    assert page.locator("form.silence").count() == 0
    shots(page, "read-only")

    # Posted from the page itself, with its cookie: the server refuses the token's missing scope.
    status = page.evaluate(
        """async (fp) => (await fetch('/ui/alerts/' + fp + '/ack', {method: 'POST',
            body: new URLSearchParams({by: 'mallory', comment: 'x'})})).status""",
        fingerprint,
    )
    assert status == 403
    silenced = page.evaluate(
        """async () => (await fetch('/ui/silences/new', {method: 'POST', body: new URLSearchParams(
            {matchers: 'host="db1"', duration: '1h', created_by: 'mallory', comment: 'x'})})).status"""
    )
    assert silenced == 403
    assert api_client.get(f"/alerts/{fingerprint}").json()["acknowledged"] is False
    assert api_client.get("/silences").json()["silences"] == []


def create_silence(http: httpx.Client, matchers: list[str], starts_in_ms: int, ends_in_ms: int) -> str:
    now = time.time_ns() // 1_000_000
    r = http.post(
        "/silences",
        json={
            "matchers": matchers,
            "starts_at": now + starts_in_ms,
            "ends_at": now + ends_in_ms,
            "created_by": "ops",
            "comment": "planned <work>",
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_silences_list_by_state_and_expire(server: ServerProcess, http: httpx.Client, page: Page) -> None:
    fingerprint = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    active = create_silence(http, ['host="db1"'], 0, 3600_000)
    pending = create_silence(http, ['host="db2"'], 3600_000, 7200_000)
    assert http.get(f"/alerts/{fingerprint}").json()["silenced_by"] == [active]

    page.goto(f"{server.base_url}/ui/")
    page.get_by_role("link", name="Silences").click()
    page.wait_for_url("**/ui/silences")
    expect(page.locator(f'#silences-active li[data-silence="{active}"]')).to_contain_text('host="db1"')
    expect(page.locator(f'#silences-active li[data-silence="{active}"]')).to_contain_text("planned <work>")
    expect(page.locator(f'#silences-pending li[data-silence="{pending}"]')).to_be_visible()
    expect(page.locator("#silences-expired li")).to_have_text("None.")

    page.get_by_role("button", name=f"Expire silence {active}").click()
    page.wait_for_url("**/ui/silences")
    expect(page.locator(f'#silences-expired li[data-silence="{active}"]')).to_be_visible()
    assert page.locator(f'#silences-expired li[data-silence="{active}"] button').count() == 0
    expect(page.locator("#silences-active li")).to_have_text("None.")
    assert http.get(f"/silences/{active}").json()["state"] == "expired"
    shots(page, "silences")


def test_read_only_token_cannot_expire_a_silence(
    secured: ServerProcess, api_client: httpx.Client, page: Page
) -> None:
    active = create_silence(api_client, ['host="db1"'], 0, 3600_000)
    log_in(page, secured.base_url, READ_TOKEN)
    page.goto(f"{secured.base_url}/ui/silences")
    expect(page.locator(f'#silences-active li[data-silence="{active}"]')).to_be_visible()
    assert page.locator("#silences-active button").count() == 0
    status = page.evaluate(
        "async (id) => (await fetch('/ui/silences/' + id + '/expire', {method: 'POST'})).status", active
    )
    assert status == 403
    assert api_client.get(f"/silences/{active}").json()["state"] == "active"


AXE = Path(__file__).resolve().parents[2] / ".tools" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_have_no_serious_accessibility_violations(
    server: ServerProcess, http: httpx.Client, browser: Browser, scheme: Literal["light", "dark"]
) -> None:
    assert AXE.is_file(), "axe-core is missing: run `make setup`"
    fingerprint = post_annotated(
        http,
        {"alertname": "DiskFull", "severity": "critical", "host": "db1"},
        {"runbook_url": "https://runbooks.example.org/disk", "summary": "disk full"},
    )
    http.post(f"/alerts/{fingerprint}/ack", json={"by": "alice", "comment": "on it"}).raise_for_status()
    silence = create_silence(http, ['host="db2"'], 0, 3600_000)
    write_cpu(http)
    rule, _ = create_rules(http)
    with WebhookReceiver() as receiver:
        receiver.status_of = lambda path: 500 if path == "/down" else 200
        channels = []
        for name, url in (("ops-hook", receiver.url()), ("down-hook", receiver.url("/down"))):
            made = http.post("/channels", json={"name": name, "type": "webhook", "config": {"url": url}})
            assert made.status_code == 201, made.text
            channels.append(made.json()["id"])
            assert http.post(f"/channels/{channels[-1]}/test", json={}).status_code == 200
    tree = {
        "receiver": "ops-hook",
        "routes": [{"matchers": ['severity="critical"'], "receiver": "down-hook"}],
    }
    assert http.put("/routing", json=tree).status_code == 200
    # The pages' policy allows only their own scripts: the checker comes in around it.
    context = browser.new_context(bypass_csp=True, color_scheme=scheme)
    try:
        page = context.new_page()
        for path in (
            "/ui/",
            "/ui/?group=severity",
            f"/ui/alerts/{fingerprint}",
            "/ui/silences",
            "/ui/silences/new?matchers=host%3D%22db1%22",
            f"/ui/silences/{silence}/edit",
            "/ui/rules",
            f"/ui/rules/{rule}",
            "/ui/routing?labels=severity%3D%22critical%22",
            "/ui/channels",
            f"/ui/deliveries?channel_id={channels[0]}",
            "/ui/deliveries",
            "/ui/login",
            "/ui/?filter=host%3D~%22(%22",
        ):
            page.goto(f"{server.base_url}{path}")
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            serious = [
                (v["id"], v["impact"], [n["html"] for n in v["nodes"]][:3])
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert serious == [], f"{path} ({scheme}): {serious}"
    finally:
        context.close()


def test_new_silence_previews_the_alerts_it_would_silence(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    db1 = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    db2 = post_alert(http, {"alertname": "DiskFull", "severity": "warning", "host": "db2"})
    web1 = post_alert(http, {"alertname": "HighLoad", "severity": "critical", "host": "web1"})
    page.goto(f"{server.base_url}/ui/silences")
    page.get_by_role("link", name="New silence").click()
    page.wait_for_url("**/ui/silences/new")
    expect(page.locator("#preview-status")).to_have_text("Type a matcher to see the alerts it would silence.")

    # Typed, not submitted: the preview follows each edit.
    page.locator("#matchers").fill('alertname="DiskFull"')
    expect(page.locator("#preview-status")).to_have_text("2 alerts would be silenced now.")
    expect(page.locator("#preview-list li")).to_have_count(2)
    page.locator("#matchers").press("Enter")
    page.locator("#matchers").type('severity=~"crit.*"')
    expect(page.locator("#preview-status")).to_have_text("1 alert would be silenced now.")
    expect(page.locator(f'#preview-list li[data-fingerprint="{db1}"]')).to_contain_text('host="db1"')
    expect(page.locator("#preview-list li")).to_have_count(1)
    page.locator("#matchers").fill('host=~"("')
    expect(page.locator("#preview-status")).to_contain_text("matchers[0]: invalid regular expression")
    expect(page.locator("#preview-list li")).to_have_count(0)
    page.locator("#matchers").fill('alertname="DiskFull"\nseverity=~"crit.*"')
    expect(page.locator(f'#preview-list li[data-fingerprint="{db1}"]')).to_be_visible()
    assert http.get("/silences").json()["silences"] == []
    page.locator("#created_by").fill("alice")
    page.locator("#comment").fill("disk swap")
    shots(page, "silence-new-preview")

    page.get_by_role("button", name="Create silence").click()
    expect(page.locator("h1")).to_have_text("Silence created")
    silence_id = page.locator("#silence-id").inner_text()
    assert http.get(f"/alerts/{db1}").json()["silenced_by"] == [silence_id]
    assert http.get(f"/alerts/{db2}").json()["silenced_by"] == []
    assert http.get(f"/alerts/{web1}").json()["silenced_by"] == []
    page.goto(f"{server.base_url}/ui/")
    expect(page.locator(f'tr[data-fingerprint="{db1}"] .mark-silenced')).to_have_text("silenced")
    expect(page.locator(f'tr[data-fingerprint="{db2}"] .mark-silenced')).to_have_count(0)

    # The server renders the same preview, for a page opened with matchers (and without script).
    served = http.get("/ui/silences/new", params={"matchers": 'host="web1"'}).text
    assert f'data-fingerprint="{web1}"' in served
    assert "1 alert would be silenced now." in served
    answer = http.get("/ui/silences/preview", params={"matchers": "host=~("})
    assert answer.status_code == 400
    assert answer.json()["errors"][0].startswith("matchers[0]: ")


def test_edit_a_silence_in_place_then_its_matchers_replacing_it(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    db1 = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    db2 = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db2"})
    active = create_silence(http, ['host="db1"'], 0, 3600_000)
    page.goto(f"{server.base_url}/ui/silences")
    page.get_by_role("link", name=f"Edit silence {active}").click()
    page.wait_for_url(f"**/ui/silences/{active}/edit")
    expect(page.locator("#matchers")).to_have_value('host="db1"')
    expect(page.locator("#duration")).to_have_value("1h")
    expect(page.locator("#comment")).to_have_value("planned <work>")
    expect(page.locator(f'#preview-list li[data-fingerprint="{db1}"]')).to_be_visible()
    shots(page, "silence-edit")

    # Same matchers: the silence changes in place and keeps its id.
    page.locator("#comment").fill("planned work, longer")
    page.locator("#duration").fill("3h")
    page.get_by_role("button", name="Save silence").click()
    expect(page.locator("h1")).to_have_text("Silence updated")
    expect(page.locator("#silence-id")).to_have_text(active)
    kept = http.get(f"/silences/{active}").json()
    assert (kept["state"], kept["comment"]) == ("active", "planned work, longer")
    assert 3 * 3600_000 - 60_000 < kept["ends_at"] - time.time() * 1000 <= 3 * 3600_000

    # Other matchers: as Alertmanager, the active silence expires and a new one replaces it.
    page.goto(f"{server.base_url}/ui/silences/{active}/edit")
    page.locator("#matchers").fill('host="db2"')
    expect(page.locator(f'#preview-list li[data-fingerprint="{db2}"]')).to_be_visible()
    page.get_by_role("button", name="Save silence").click()
    expect(page.locator("h1")).to_have_text("Silence replaced")
    expect(page.locator("#replaced")).to_contain_text(active)
    replacement = page.locator("#silence-id").inner_text()
    assert replacement != active
    assert http.get(f"/silences/{active}").json()["state"] == "expired"
    made = http.get(f"/silences/{replacement}").json()
    assert (made["state"], made["matchers"], made["comment"]) == (
        "active",
        ['host="db2"'],
        "planned work, longer",
    )
    assert http.get(f"/alerts/{db1}").json()["silenced_by"] == []
    assert http.get(f"/alerts/{db2}").json()["silenced_by"] == [replacement]

    # A refusal comes back on the form with what was typed.
    page.goto(f"{server.base_url}/ui/silences/{replacement}/edit")
    page.locator("#comment").fill(" ")
    page.get_by_role("button", name="Save silence").click()
    expect(page.locator(".error")).to_have_text("comment: is required")
    expect(page.locator("#matchers")).to_have_value('host="db2"')


def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"waited {seconds}s for {what}"
        time.sleep(0.1)


def write_cpu(http: httpx.Client) -> None:
    """Half an hour of cpu_usage of two hosts, web1 climbing past 80, web2 flat at 20."""
    now = time.time_ns() // 1_000_000
    samples = [
        {"name": "cpu_usage", "labels": {"host": host}, "value": value, "timestamp": now - (60 - i) * 30_000}
        for i in range(61)
        for host, value in (("web1", 40 + i), ("web2", 20))
    ]
    r = http.post("/samples", json={"samples": samples})
    assert r.status_code == 200, r.text
    assert r.json()["rejected"] == 0, r.text


def create_rules(http: httpx.Client) -> tuple[str, str]:
    """An alerting rule that fires for web1, and one whose evaluation fails (many-to-many matching)."""
    rule = {"group": "infra", "interval": "1s", "duration": "0s", "severity": "warning"}
    high = http.post("/rules", json={**rule, "name": "HighCpu", "query": "avg by (host) (cpu_usage) > 80"})
    assert high.status_code == 201, high.text
    broken = http.post("/rules", json={**rule, "name": "Broken", "query": "cpu_usage + on() cpu_usage"})
    assert broken.status_code == 201, broken.text
    high_id, broken_id = str(high.json()["id"]), str(broken.json()["id"])

    def evaluated() -> bool:
        rules = {r["id"]: r for r in http.get("/rules").json()["rules"]}
        return bool(rules[high_id]["health"] == "ok" and rules[broken_id]["health"] == "err")

    eventually(evaluated, 15, "both rules to be evaluated")
    eventually(lambda: bool(http.get("/alerts", params={"rule": "HighCpu"}).json()["alerts"]), 15, "HighCpu")
    return high_id, broken_id


def test_rules_page_and_a_rules_plot_with_its_threshold(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    write_cpu(http)
    high, broken = create_rules(http)
    [alert] = http.get("/alerts", params={"rule": "HighCpu"}).json()["alerts"]
    assert alert["labels"]["host"] == "web1"

    page.goto(f"{server.base_url}/ui/")
    page.get_by_role("link", name="Rules").click()
    page.wait_for_url("**/ui/rules")
    expect(page.locator("#rules-summary")).to_have_text("2 rules in 1 group, 1 failing.")
    group = page.locator('section[data-group="infra"]')
    expect(group.locator("h2")).to_have_text("infra")
    row = group.locator(f'tr[data-rule="{high}"]')
    expect(row.locator('td[data-label="Health"]')).to_have_text("ok")
    expect(row.locator('td[data-label="Last evaluation"]')).to_contain_text(" UTC")
    expect(row.locator('td[data-label="For"]')).to_have_text("0s")
    expect(row.locator('td[data-label="Alerts"]')).to_contain_text('host="web1"')
    expect(row.locator(f'td[data-label="Alerts"] a[href="/ui/alerts/{alert["fingerprint"]}"]')).to_have_text(
        "firing"
    )
    failing = group.locator(f'tr[data-rule="{broken}"]')
    expect(failing.locator('td[data-label="Health"]')).to_have_text("err")
    expect(failing.locator('td[data-label="Last error"]')).to_contain_text("many-to-many")
    shots(page, "rules")

    row.get_by_role("link", name="HighCpu").click()
    page.wait_for_url(f"**/ui/rules/{high}")
    expect(page.locator("h1")).to_have_text("HighCpu")
    expect(page.locator("#rule-health")).to_have_text("ok")
    expect(page.locator("#plotted")).to_have_text("avg by (host) (cpu_usage)")
    expect(page.locator("#threshold")).to_have_text("> 80")
    plot = page.locator("svg#plot")
    expect(plot.locator("path.series")).to_have_count(2)
    assert plot.locator("path.series").first.get_attribute("d", timeout=1000) is not None
    assert re.match(
        r"^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+){10,}", plot.locator("path.series").first.get_attribute("d") or ""
    )
    expect(plot.locator("line.threshold")).to_have_count(1)
    expect(plot.locator(".threshold-label")).to_have_text("> 80")
    expect(page.locator("figure.plot .legend")).to_contain_text('{host="web1"}')
    expect(page.locator("#rule-alerts")).to_contain_text('host="web1"')
    shots(page, "rule")
    page.goto(f"{server.base_url}/ui/alerts/{alert['fingerprint']}")
    expect(page.locator("#alert-rule")).to_have_text("HighCpu")
    page.locator("#alert-rule").click()
    page.wait_for_url(f"**/ui/rules/{high}")

    # The threshold line sits where 80 is on the drawn scale: above web2 (flat at 20), below web1's top
    # (100); SVG's y grows downwards.
    ys = {}
    for n in range(2):
        path = plot.locator("path.series").nth(n)
        name = path.locator("title").text_content() or ""
        ys[name] = [float(y) for y in re.findall(r"[ML][\d.]+ ([\d.]+)", path.get_attribute("d") or "")]
    threshold_y = float(plot.locator("line.threshold").get_attribute("y1") or "nan")
    assert set(ys['{host="web2"}']) == {max(ys['{host="web2"}'])}
    assert min(ys['{host="web1"}']) < threshold_y < max(ys['{host="web2"}'])
    page.locator("#range").select_option("15m")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/ui/rules/{high}?range=15m")
    expect(page.locator("#range")).to_have_value("15m")
    expect(page.locator("svg#plot path.series")).to_have_count(2)

    # No threshold: the whole expression is run, and what the query API refuses is said in place.
    page.goto(f"{server.base_url}/ui/rules/{broken}")
    expect(page.locator("#plotted")).to_have_text("cpu_usage + on() cpu_usage")
    assert page.locator("#threshold").count() == 0
    expect(page.locator(".error")).to_contain_text("many-to-many matching not allowed")


def test_routing_tree_and_which_receivers_get_an_alert(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    ids = {}
    for name in ("ops-hook", "db-pager", "critical-pager"):
        hook = {"name": name, "type": "webhook", "config": {"url": f"http://127.0.0.1:9/{name}"}}
        made = http.post("/channels", json=hook)
        assert made.status_code == 201, made.text
        ids[name] = made.json()["id"]
    tree = {
        "receiver": "ops-hook",
        "group_by": ["alertname"],
        "group_wait": "10s",
        "routes": [
            {
                "matchers": ['severity="critical"'],
                "receiver": "critical-pager",
                "continue": True,
                "repeat_interval": "1h",
                "routes": [
                    {"matchers": ['team="db"'], "receiver": "db-pager", "group_by": ["alertname", "host"]}
                ],
            },
            # A receiver may be a channel's id: the page names it.
            {"matchers": ['team=~"db|storage"'], "receiver": ids["ops-hook"]},
        ],
    }
    assert http.put("/routing", json=tree).status_code == 200, http.put("/routing", json=tree).text
    page.goto(f"{server.base_url}/ui/")
    page.get_by_role("link", name="Routing").click()
    page.wait_for_url("**/ui/routing")
    root = page.locator('#routing-tree > li.route[data-route="root"]')
    expect(root.locator("> .node .receiver")).to_have_text("ops-hook")
    expect(root.locator('> .node [data-setting="timings"]')).to_contain_text("group_wait 10s")
    expect(root.locator('> .node [data-setting="timings"]')).to_contain_text("repeat_interval 4h (default)")
    critical = root.locator('> ul > li.route[data-route="routes[0]"]')
    expect(critical.locator("> .node .matchers")).to_have_text('severity="critical"')
    expect(critical.locator('> .node [data-setting="continue"]')).to_contain_text("yes")
    expect(critical.locator('> .node [data-setting="group_by"]')).to_contain_text("alertname (inherited)")
    nested = critical.locator('> ul > li.route[data-route="routes[0].routes[0]"]')
    expect(nested.locator("> .node .receiver")).to_have_text("db-pager")
    expect(nested.locator('> .node [data-setting="group_by"]')).to_have_text("group_by: alertname, host")
    expect(nested.locator('> .node [data-setting="timings"]')).to_contain_text(
        "repeat_interval 1h (inherited)"
    )
    storage = root.locator('> ul > li.route[data-route="routes[1]"]')
    expect(storage.locator("> .node .matchers")).to_have_text('team=~"db|storage"')
    expect(storage.locator("> .node .receiver")).to_have_text("ops-hook")

    page.locator("#labels").fill('severity="critical", team="db"')
    page.locator("#labels").press("Enter")
    page.wait_for_url("**/ui/routing?labels=*")
    labels = ["severity=critical", "team=db"]
    cli = subprocess.run(
        [sys.executable, "-m", "alerting.cli", "--server", server.grpc_target, "routes", "test", *labels],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == "db-pager,ops-hook"
    expect(page.locator("#receivers-answer")).to_have_text(cli.stdout.strip())
    expect(page.locator("#labels")).to_have_value('severity="critical", team="db"')
    # The routes it reaches are marked in the tree (the nested db route, and routes[1] after continue).
    expect(page.locator("#routing-tree li.route.matched")).to_have_count(2)
    expect(nested).to_have_class(re.compile(r"\bmatched\b"))
    expect(storage).to_have_class(re.compile(r"\bmatched\b"))
    expect(nested.locator("> .node .matched-mark")).to_have_text("matches the alert")
    page.get_by_role("link", name='{}/{severity="critical"}/{team="db"}').click()
    page.wait_for_url("**#route-routes[0].routes[0]")
    shots(page, "routing")

    page.locator("#labels").fill("team=web")
    page.locator("#labels").press("Enter")
    expect(page.locator("#receivers-answer")).to_have_text("ops-hook")
    expect(page.locator("#routing-tree li.route.matched")).to_have_count(1)
    expect(root).to_have_class(re.compile(r"\bmatched\b"))
    refused = page.goto(f"{server.base_url}/ui/routing?labels=" + quote("severity critical"))
    assert refused is not None
    assert refused.status == 400
    expect(page.locator(".error")).to_contain_text("labels: not a label")


def test_channels_hide_secrets_and_a_test_notification_reaches_the_receiver(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    secret_path = "/hook/secret-path-5f0c9d"
    hmac_secret = "hmac-secret-7e1a44"
    with WebhookReceiver() as receiver:
        receiver.status_of = lambda path: 404 if path == "/gone" else 200
        for name, url in (("ops-hook", receiver.url(secret_path)), ("gone-hook", receiver.url("/gone"))):
            config = {"url": url, "hmac_secret": hmac_secret}
            assert (
                http.post("/channels", json={"name": name, "type": "webhook", "config": config}).status_code
                == 201
            )
        page.goto(f"{server.base_url}/ui/")
        page.get_by_role("link", name="Channels").click()
        page.wait_for_url("**/ui/channels")
        channel = page.locator("li.channel", has=page.locator("h2", has_text="ops-hook"))
        channel_id = channel.get_attribute("data-channel")
        expect(channel.locator("dd").filter(has_text="<secret>")).to_have_count(2)
        html = page.content()
        assert secret_path not in html
        assert hmac_secret not in html
        assert str(receiver.port) not in html
        shots(page, "channels")

        page.get_by_role("button", name="Send a test notification to ops-hook").click()
        page.wait_for_url("**/ui/deliveries?channel_id=*")
        expect(page.locator("#test-result")).to_have_text(
            re.compile(r"^Test notification to ops-hook: delivered \(1 attempt\)")
        )
        [request] = receiver.requests
        assert request.path == secret_path
        # Another site's page cannot make the console send one.
        forged = http.post(
            f"/ui/channels/{channel_id}/test", headers={"origin": "https://evil.example"}, data={}
        )
        assert forged.status_code == 403
        assert len(receiver.requests) == 1
        assert request.json()["alerts"][0]["labels"]["alertname"] == "TestNotification"

        page.goto(f"{server.base_url}/ui/channels")
        page.get_by_role("button", name="Send a test notification to gone-hook").click()
        expect(page.locator("#test-result")).to_contain_text("gone-hook: failed: HTTP 404")

        # An alert's notification, routed to ops-hook.
        tree = {"receiver": "ops-hook", "group_wait": "0s"}
        assert http.put("/routing", json=tree).status_code == 200
        fingerprint = post_alert(http, {"alertname": "DiskFull", "host": "db1"})
        eventually(
            lambda: bool(http.get("/deliveries", params={"fingerprint": fingerprint}).json()["deliveries"]),
            15,
            "the alert's delivery",
        )

    page.goto(f"{server.base_url}/ui/deliveries")
    rows = page.locator("#deliveries-body tr")
    expect(rows).to_have_count(3)
    # Newest first.
    expect(rows.nth(0).locator('td[data-label="Channel"]')).to_have_text("ops-hook")
    expect(rows.nth(0).locator(f'td[data-label="Alerts"] a[href="/ui/alerts/{fingerprint}"]')).to_have_text(
        fingerprint
    )
    rows = page.locator("#deliveries-body tr:not(:first-child)")
    expect(rows.nth(0).locator('td[data-label="Channel"]')).to_have_text("gone-hook")
    expect(rows.nth(0).locator('td[data-label="Status"]')).to_contain_text("failed")
    expect(rows.nth(0).locator('td[data-label="Last error"]')).to_contain_text("HTTP 404")
    expect(rows.nth(0).locator('td[data-label="Attempts"]')).to_have_text("1")
    expect(rows.nth(1).locator('td[data-label="Channel"]')).to_have_text("ops-hook")
    expect(rows.nth(1).locator('td[data-label="Status"]')).to_contain_text("delivered")
    expect(rows.nth(1).locator('td[data-label="Alerts"]')).to_have_text("test notification")
    page.locator("#status").select_option("failed")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/ui/deliveries?*status=failed*")
    expect(page.locator("#deliveries-body tr")).to_have_count(1)
    expect(page.locator('#deliveries-body tr[data-status="failed"]')).to_have_count(1)
    page.goto(f"{server.base_url}/ui/deliveries")
    shots(page, "deliveries")
    assert secret_path not in page.content()


def test_read_only_token_sees_no_write_buttons_on_the_new_pages_and_forged_writes_are_refused(
    secured: ServerProcess, api_client: httpx.Client, page: Page
) -> None:
    admin = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    with WebhookReceiver() as receiver:
        made = api_client.post(
            "/channels",
            json={"name": "ops-hook", "type": "webhook", "config": {"url": receiver.url()}},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        channel_id = made.json()["id"]
        assert api_client.put("/routing", json={"receiver": "ops-hook"}, headers=admin).status_code == 200
        active = create_silence(api_client, ['host="db1"'], 0, 3600_000)
        log_in(page, secured.base_url, READ_TOKEN)

        page.goto(f"{secured.base_url}/ui/channels")
        expect(page.locator(f'li.channel[data-channel="{channel_id}"]')).to_be_visible()
        expect(page.locator("#read-only")).to_be_visible()
        assert page.get_by_role("button").count() == 0
        status = page.evaluate(
            "async (id) => (await fetch('/ui/channels/' + id + '/test', {method: 'POST'})).status", channel_id
        )
        assert status == 403
        assert receiver.requests == []
        assert api_client.get("/deliveries").json()["deliveries"] == []

        page.goto(f"{secured.base_url}/ui/silences")
        expect(page.locator(f'#silences-active li[data-silence="{active}"]')).to_be_visible()
        assert page.locator("#silences-active a", has_text="Edit").count() == 0
        page.goto(f"{secured.base_url}/ui/silences/{active}/edit")
        expect(page.locator("#read-only")).to_be_visible()
        assert page.locator("form.silence").count() == 0
        status = page.evaluate(
            """async (id) => (await fetch('/ui/silences/' + id + '/edit', {method: 'POST',
                body: new URLSearchParams({matchers: 'host="db2"', duration: '1h',
                created_by: 'mallory', comment: 'x'})})).status""",
            active,
        )
        assert status == 403
        kept = api_client.get(f"/silences/{active}").json()
        assert (kept["state"], kept["matchers"], kept["created_by"]) == ("active", ['host="db1"'], "ops")
        assert len(api_client.get("/silences").json()["silences"]) == 1

        # Which receivers an alert reaches is a question a read token may ask.
        page.goto(f"{secured.base_url}/ui/routing?labels=alertname%3DX")
        expect(page.locator("#labels")).to_be_visible()
        expect(page.locator("#receivers-answer")).to_have_text("ops-hook")
        expect(page.locator('#routing-tree li[data-route="root"] .receiver')).to_have_text("ops-hook")
        page.goto(f"{secured.base_url}/ui/rules")
        expect(page.locator("#rules-summary")).to_have_text("0 rules in 0 groups.")
        page.goto(f"{secured.base_url}/ui/deliveries")
        expect(page.locator("#deliveries-empty")).to_be_visible()
