"""The queue page in a real browser (Debian chromium via Playwright) against the app on a real port.

Calls arrive through the real signed voice webhooks (TwilioDouble on the same app) and callbacks
through the public API (POST /api/callbacks over real HTTP); the page must show them without a
reload. Screenshots go to test-artifacts/ (gitignored) for a person to look at.
"""
from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from agents import services as agents
from callbacks import services as callbacks
from storage.db import transaction
from tests.supervisor.conftest import PASSWORD, entry

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAPTOP = {"viewport": {"width": 1366, "height": 900}}
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}


@pytest.fixture(autouse=True)
def generous_limits(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="1000/minute")


@pytest.fixture
def page_for(browser, live_app, users):
    contexts = []

    def open_page(username: str | None = "sam", **options):
        context = browser.new_context(timezone_id="America/New_York", locale="en-US", **(options or LAPTOP))
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.goto(live_app + "/supervisor/")
        if username:
            sign_in(page, username)
        return page

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, username: str) -> None:
    expect(page).to_have_url(__import__("re").compile(r"/supervisor/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # signing in works from the keyboard
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    expect(page.locator("#live-status")).to_have_text("● live")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays on top in a full-page shot
    page.screenshot(path=str(ARTIFACTS / f"supervisor-{name}.png"), full_page=True)


def api_request(base: str, body: dict) -> dict:
    request = urllib.request.Request(base + "/api/callbacks", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)
        return json.loads(response.read())


def row(page, text: str):
    return page.locator("tr.row", has_text=text)


def more(page, text: str):
    """The row's More… panel, opened."""
    found = row(page, text)
    if not found.locator("details.more[open]").count():
        found.locator("details.more > summary").click()
    return found


def staff(runtime, clock, name: str, skills: dict, state: str = "offline") -> None:
    with transaction(runtime.sessions) as db:
        agents.add_agent(db, name=name, address="+14155550100", skills=skills, now=clock.now(), state=state)


def test_the_queue_fills_live_and_each_action_works(page_for, live_app, twilio, runtime, clock):
    staff(runtime, clock, "Ann Lee", {"billing": 7, "support": 4})
    page = page_for("sam")
    page.evaluate("window.__notReloaded = true")

    # A phone call through the real (signed) voice webhooks: billing, then "hold".
    call = twilio.call(from_number="+12125550142")
    call.press("1")
    call.press("2")
    holder = row(page, "+12125550142")
    expect(holder).to_be_visible()
    expect(holder).to_contain_text("holding live")
    expect(page.get_by_test_id("count-billing")).to_have_text("1")

    # A callback through the public API, with the page the customer was on.
    clock.advance(30)
    booked = api_request(live_app, {"phone": "+12125550177", "name": "Grace Hopper", "skill": "billing",
                                    "reason": "charged twice for November", "channel": "api",
                                    "context": {"page_url": "https://shop.example.com/invoices/7"}})
    grace = row(page, "Grace Hopper")
    # Shown without a reload (how fast is measured in bench/supervisor_bench.py, not asserted here).
    expect(grace).to_be_visible()
    expect(grace).to_contain_text("+12125550177")
    expect(grace).to_contain_text("charged twice for November")
    expect(page.get_by_test_id("count-billing")).to_have_text("2")
    assert page.evaluate("window.__notReloaded") is True  # updated in place, not reloaded
    shot(page, "queue-laptop")

    pid = booked["id"]
    # Raise priority: Grace moves ahead of the earlier holder.
    grace.get_by_role("button", name="raise priority").click()
    expect(page.locator("#toasts")).to_contain_text("Priority is now 1.")
    expect(page.locator("tr.row").first).to_contain_text("Grace Hopper")

    # A note, from the More… panel.
    grace = more(page, "Grace Hopper")
    grace.get_by_label("Note").fill("VIP: second time this month")
    grace.get_by_role("button", name="Add note").click()
    expect(row(page, "Grace Hopper")).to_contain_text("VIP: second time this month")

    # Reschedule to tomorrow 10:30 in the customer's zone.
    grace = more(page, "Grace Hopper")
    grace.get_by_label("New time").fill("2026-11-25T10:30")
    grace.get_by_role("button", name="Reschedule").click()
    expect(page.locator("#toasts")).to_contain_text("Rescheduled to")
    expect(row(page, "Grace Hopper")).to_contain_text("scheduled")
    assert entry(runtime, pid).scheduled_for.isoformat() == "2026-11-25T15:30:00+00:00"

    # Call now: back in line, first.
    row(page, "Grace Hopper").get_by_role("button", name="Call now").click()
    expect(page.locator("#toasts")).to_contain_text("Calling now")
    expect(row(page, "Grace Hopper").locator(".badge")).to_have_text("queued")
    expect(page.locator("#skill-billing tr.row").first).to_contain_text("Grace Hopper")

    # Move to support.
    grace = more(page, "Grace Hopper")
    grace.get_by_label("Move to").select_option("support")
    grace.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("#skill-support")).to_contain_text("Grace Hopper")
    expect(page.locator("#skill-billing")).not_to_contain_text("Grace Hopper")

    # Cancel with a reason.
    grace = more(page, "Grace Hopper")
    grace.get_by_label("Cancel because").fill("solved by e-mail")
    grace.get_by_role("button", name="Cancel entry").click()
    expect(row(page, "Grace Hopper")).to_have_count(0)
    trail = [(e.event, e.actor) for e in entry(runtime, pid).events]
    assert trail[:2] == [("requested", "customer"), ("wait_announced", "system")]  # the API's part
    assert trail[2:] == [("priority", "sam"), ("note", "sam"), ("rescheduled", "sam"), ("call_now", "sam"),
                         ("moved", "sam"), ("cancelled", "sam")]

    # A callback fails (the dispatcher's doing): it stands out and can be retried or closed.
    failed = api_request(live_app, {"phone": "+12125550188", "name": "Alan Turing", "skill": "billing",
                                    "channel": "api"})
    other = api_request(live_app, {"phone": "+12125550199", "name": "Ada Byron", "skill": "billing",
                                   "channel": "api"})
    with transaction(runtime.sessions) as db:
        for public_id, why in ((failed["id"], "voicemail answered"), (other["id"], "no answer after 3 attempts")):
            callbacks.change_state(db, callbacks.get_entry(db, public_id), "failed", now=clock.now(), reason=why,
                                   actor="dispatcher")
    turing = row(page, "Alan Turing")
    expect(turing).to_have_class(__import__("re").compile(r"\btrouble\b"))
    expect(turing).to_contain_text("voicemail answered")
    expect(page.locator(".skill-card.trouble")).to_contain_text("2 need attention")
    shot(page, "queue-trouble")
    turing.get_by_role("button", name="Retry").click()
    expect(row(page, "Alan Turing").locator(".badge")).to_have_text("queued")
    row(page, "Ada Byron").get_by_role("button", name="Close").click()
    expect(row(page, "Ada Byron")).to_have_count(0)
    expect(page.locator(".summary")).not_to_contain_text("need attention")
    expect(page.locator(".skill-card.trouble")).to_contain_text("nobody staffed for 2 waiting")

    # Agents panel: Ann is offline; set her available.
    ann = page.locator("tr[data-agent]", has_text="Ann Lee")
    expect(ann.locator(".badge")).to_have_text("offline")
    expect(ann).to_contain_text("billing 7")
    ann.get_by_role("button", name="Set available").click()
    expect(page.locator("tr[data-agent]", has_text="Ann Lee").locator(".badge")).to_have_text("available")
    expect(page.locator(".skill-card.trouble")).to_have_count(0)  # billing is staffed now

    # The holder hangs up: their row goes away by itself.
    call.hang_up()
    expect(row(page, "+12125550142")).to_have_count(0)
    assert page.evaluate("window.__notReloaded") is True
    assert page.errors == []

    # Sign out: the page is gone, and coming back asks to sign in.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Supervisor sign-in")).to_be_visible()
    page.goto(live_app + "/supervisor/")
    expect(page.get_by_role("heading", name="Supervisor sign-in")).to_be_visible()
    assert "+12125550188" not in page.content()


def test_two_supervisors_on_one_entry(page_for, live_app, runtime):
    booked = api_request(live_app, {"phone": "+12125550177", "name": "Grace Hopper", "skill": "billing",
                                    "channel": "api"})
    sam = page_for("sam")
    kim = page_for("kim", **TABLET)
    for page in (sam, kim):
        expect(row(page, "Grace Hopper")).to_be_visible()

    # Sam starts typing a cancel reason (the page holds its updates while he types)...
    grace = more(sam, "Grace Hopper")
    grace.get_by_label("Cancel because").fill("duplicate")
    # ...while Kim raises the priority.
    row(kim, "Grace Hopper").get_by_role("button", name="raise priority").click()
    expect(kim.locator("#toasts")).to_contain_text("Priority is now 1.")

    shot(kim, "queue-tablet")
    row(sam, "Grace Hopper").get_by_role("button", name="Cancel entry").click()
    expect(sam.locator(".toast.error")).to_contain_text("changed since your page showed it (priority by kim")
    e = entry(runtime, booked["id"])
    assert e.state == "queued" and e.priority == 1  # Kim's change stands; Sam's did not overwrite it
    # Sam's page now shows the latest version; a second try works.
    expect(row(sam, "Grace Hopper").locator(".pval")).to_have_text("1")
    grace = more(sam, "Grace Hopper")
    grace.get_by_label("Cancel because").fill("duplicate")
    grace.get_by_role("button", name="Cancel entry").click()
    expect(row(sam, "Grace Hopper")).to_have_count(0)
    expect(row(kim, "Grace Hopper")).to_have_count(0)  # and Kim's page follows live


def test_figures_page_shows_charts(page_for, live_app, twilio, clock):
    call = twilio.call(from_number="+12125550142")
    call.press("1")
    call.press("2")
    clock.advance(90)
    call.hang_up()
    api_request(live_app, {"phone": "+12125550177", "name": "Grace Hopper", "skill": "billing", "channel": "api"})
    page = page_for("ada")
    page.get_by_role("link", name="Figures").click()
    expect(page.get_by_role("heading", name="Figures")).to_be_visible()
    billing = page.locator("table.figures tr", has_text="billing")
    expect(billing).to_contain_text("100%")  # the one holder who left hung up
    expect(page.locator("svg.chart").first).to_be_visible()
    shot(page, "figures")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")

    # Admin pages work without the queue's script: a user's time zone changed on the Users page.
    page.get_by_role("link", name="Users").click()
    page.get_by_label("time zone of sam").fill("Europe/London")
    page.locator("tr", has_text="sam").get_by_role("button", name="Save").click()
    expect(page.locator("#toasts")).to_contain_text("User sam saved.")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()  # back where they were
    expect(page.get_by_label("time zone of sam")).to_have_value("Europe/London")


def test_the_queue_can_be_steered_from_the_keyboard(page_for, live_app, runtime):
    booked = api_request(live_app, {"phone": "+12125550177", "name": "Grace Hopper", "skill": "billing",
                                    "channel": "api"})
    page = page_for("sam")
    expect(row(page, "Grace Hopper")).to_be_visible()
    for _ in range(60):  # Tab through the page: skip link, menu, filters, cards... to the row's buttons
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Call now":
            break
    else:
        pytest.fail("no 'Call now' button is reachable with Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("Calling now")
    # focus stays on the button through the live refresh: the next Tab is the row's More…
    expect(row(page, "Grace Hopper").locator(".badge")).to_have_text("queued")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "More…"
    page.keyboard.press("Enter")
    expect(row(page, "Grace Hopper").locator("details.more[open]")).to_have_count(1)
    expect(row(page, "Grace Hopper").get_by_label("Note")).to_be_in_viewport()
    shot(page, "queue-more-open")
    assert entry(runtime, booked["id"]).events[-1].event == "call_now"
    # The row's audit trail, in the supervisor's time zone, newest first.
    row(page, "Grace Hopper").get_by_role("link", name="Audit trail").click()
    trail = page.locator("ol.trail li")
    expect(trail.first).to_contain_text("call now by sam")
    expect(trail.last).to_contain_text("requested by customer")
    expect(trail.first).to_contain_text("10:00 EST")
    shot(page, "entry")
