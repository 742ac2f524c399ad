"""The web console at /ui/ in a real browser: headless Chromium (the system's `chromium`, installed by
scripts/browser.sh) driven by Playwright against the real server. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

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
    shot(page, "alerts-live")


def test_server_rendered_rows_match_the_live_ones(
    server: ServerProcess, http: httpx.Client, page: Page
) -> None:
    fingerprint = post_alert(http, {"alertname": "HighLoad", "severity": "warning", "host": "web1"})
    http.post(f"/alerts/{fingerprint}/ack", json={"by": "bob"}).raise_for_status()
    served = httpx.get(f"{server.base_url}/ui/").text
    assert f'data-fingerprint="{fingerprint}"' in served
    assert "acknowledged by bob" in served
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
    shot(page, "alert-page")


def test_ack_and_unack_from_the_alert_page(server: ServerProcess, http: httpx.Client, page: Page) -> None:
    fingerprint = post_alert(http, {"alertname": "DiskFull", "severity": "critical", "host": "db1"})
    page.goto(f"{server.base_url}/ui/alerts/{fingerprint}")
    page.locator("#by").fill("alice")
    page.locator("#comment").fill("looking at it")
    page.locator("#comment").press("Enter")
    page.wait_for_url(f"**/ui/alerts/{fingerprint}")
    expect(page.locator("#alert-markers")).to_have_text("acknowledged by alice")

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
    shot(page, "silence-created")

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


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[ServerProcess]:
    config = tmp_path / "config.yaml"
    config.write_text(
        "auth:\n  tokens:\n"
        f"    - {{name: reader, token: {READ_TOKEN}, scope: read}}\n"
        f"    - {{name: writer, token: {WRITE_TOKEN}, scope: write}}\n"
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
    shot(page, "read-only")

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
    shot(page, "silences")


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
    create_silence(http, ['host="db2"'], 0, 3600_000)
    # The pages' policy allows only their own scripts: the checker comes in around it.
    context = browser.new_context(bypass_csp=True, color_scheme=scheme)
    try:
        page = context.new_page()
        for path in (
            "/ui/",
            f"/ui/alerts/{fingerprint}",
            "/ui/silences",
            "/ui/silences/new?matchers=host%3D%22db1%22",
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
