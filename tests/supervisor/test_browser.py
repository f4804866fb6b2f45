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

from tests.supervisor.conftest import PASSWORD, chat_handover, dispatcher_for, entry
from tests.support import agents_api
from tests.support.browser import PATIENCE_MS

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAPTOP = {"viewport": {"width": 1366, "height": 900}}
TABLET = {"viewport": {"width": 1024, "height": 768}, "has_touch": True}


@pytest.fixture(autouse=True)
def generous_limits(app, monkeypatch):
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)  # staff() adds agents as an operator does
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="1000/minute")


@pytest.fixture
def page_for(browser, live_app, users):
    contexts = []

    def open_page(username: str | None = "sam", clock_at=None, init_script: str | None = None, **options):
        context = browser.new_context(timezone_id="America/New_York", locale="en-US", **(options or LAPTOP))
        contexts.append(context)
        if clock_at is not None:
            context.clock.install(time=clock_at)  # the browser's clock agrees with the app's ManualClock
        if init_script is not None:
            context.add_init_script(init_script)  # runs in every page before the page's own scripts
        page = context.new_page()
        page.set_default_timeout(PATIENCE_MS)
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("console", lambda msg: msg.type == "error" and page.errors.append("console: " + msg.text))
        page.on("response", lambda r: r.status >= 400 and page.errors.append(f"{r.status} {r.url}"))
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
        assert response.status == 201  # booked: every test books a number that has no callback yet
        return json.loads(response.read())


def row(page, text: str):
    return page.locator("tr.row", has_text=text)


def more(page, text: str):
    """The row's More… panel, opened."""
    found = row(page, text)
    if not found.locator("details.more[open]").count():
        found.locator("details.more > summary").click()
    return found


def staff(app, name: str, skills: dict, state: str = "offline") -> None:
    """An agent added through /api/agents with the bearer token (tests/support/agents_api.py)."""
    agents_api.add(app.test_client(), name, "+14155550100", skills, state=state)


BUSY_ADDRESS = "+14155550111"  # not a customer's number in these tests


def test_the_queue_fills_live_and_each_action_works(page_for, app, live_app, twilio, runtime, clock, busy_agent,
                                                    fail):
    staff(app, "Ann Lee", {"billing": 7, "support": 4})
    # Billing is staffed (its one agent on another call), so a wait can be told and a caller can hold.
    busy = busy_agent("billing", name="Bo Busy", address=BUSY_ADDRESS)
    page = page_for("sam")
    page.evaluate("window.__notReloaded = true")

    # Two callbacks fail (the dispatcher's doing: an agent took each attempt, the customer never answered,
    # and it gave up after the last): they stand out and can be retried or closed.
    failed = api_request(live_app, {"phone": "+12125550188", "name": "Alan Turing", "skill": "billing",
                                    "channel": "api"})
    other = api_request(live_app, {"phone": "+12125550199", "name": "Ada Byron", "skill": "billing",
                                   "channel": "api"})
    fail(failed["id"], other["id"])
    turing = row(page, "Alan Turing")
    expect(turing).to_have_class(__import__("re").compile(r"\btrouble\b"))
    expect(turing).to_contain_text("gave up after 4 attempts")  # 3, and one soon inside a window told
    expect(page.locator(".skill-card.trouble")).to_contain_text("2 need attention")
    shot(page, "queue-trouble")

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
    # The API's part: the window the customer was told for the callback, and the wait behind it.
    assert trail[:3] == [("requested", "customer"), ("window_told", "system"), ("wait_announced", "system")]
    assert trail[3:] == [("priority", "sam"), ("note", "sam"), ("rescheduled", "sam"), ("call_now", "sam"),
                         ("moved", "sam"), ("cancelled", "sam")]

    # The failed callbacks, retried or closed.
    turing = row(page, "Alan Turing")
    turing.get_by_role("button", name="Retry").click()
    expect(row(page, "Alan Turing").locator(".badge")).to_have_text("queued")
    row(page, "Ada Byron").get_by_role("button", name="Close").click()
    expect(row(page, "Ada Byron")).to_have_count(0)
    expect(page.locator(".summary")).not_to_contain_text("need attention")
    expect(page.locator(".skill-card.trouble")).to_have_count(0)  # billing's busy agent is still signed in
    # ...until the shift ends: the line stands out as nobody's.
    agents_api.sign_off(app.test_client(), twilio, busy, BUSY_ADDRESS)
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


def test_figures_page_shows_charts(page_for, live_app, twilio, clock, busy_agent):
    busy_agent("billing", address=BUSY_ADDRESS)  # staffed: the caller is told a wait and holds
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
    # Every column fits, from a laptop to a phone: nothing cut off, nothing hidden in a sideways scroll;
    # on a phone each skill is a card of labelled figures, and the charts' labels stay readable.
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for wrap in page.locator(".table-wrap").all():
            assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), width
        last = billing.locator("td").last
        assert last.evaluate("el => el.getBoundingClientRect().right <= document.documentElement.clientWidth"), width
        axis = page.locator("svg.chart text.axis").first.evaluate("el => el.getBoundingClientRect().height")
        assert axis >= 11, (width, axis)  # at least 11 px tall on screen
        shot(page, f"figures-{width}")
    expect(billing.locator("td[data-label='Wait error ± / abs']")).to_be_visible()
    page.set_viewport_size(LAPTOP["viewport"])
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


# ---- what the pages show, at every width ---------------------------------------------------------------

WIDTHS = {"phone": 360, "small-tablet": 800, "tablet": 1024, "desktop": 1280}


def fill_the_queue(app, live_app, twilio, runtime, clock, busy_agent) -> dict:
    """A busy line, every entry made by the request that makes it in production."""
    made = {}
    staff(app, "Ann Lee", {"sales": 5}, state="available")
    busy_agent("billing", name="Bo Busy", address=BUSY_ADDRESS)  # billing staffed, on a call: callers can hold
    # Sales: a web callback the dispatcher takes at once (its row is "connecting", with its internals).
    made["connecting"] = api_request(live_app, {
        "phone": "+12125550120", "name": "Connie Nect", "skill": "sales", "channel": "api",
        "reason": "wants the fibre offer", "context": {"page_url": "https://shop.example.com/fibre?ref=mail"}})
    assert len(dispatcher_for(runtime).run_once().claimed) == 1
    # Billing: a caller holding, a caller who asked for a callback, a web visitor, a chat, a scheduled one.
    holder = twilio.call(from_number="+12125550142")
    holder.press("1")
    holder.press("2")
    made["holder"] = holder
    caller = twilio.call(from_number="+12125550161")
    for key in ("1", "1", "1", "1"):  # billing, call me back, on this number, as soon as possible
        caller.press(key)
    made["web"] = api_request(live_app, {
        "phone": "+12125550177", "name": "Grace Hopper", "skill": "billing", "channel": "api",
        "reason": "charged twice for November", "context": {
            "page_url": "https://shop.example.com/account/invoices/2026-11?tab=details&highlight=duplicate-charge",
            "customer_reference": "ACME-20931"}})
    made["chat"] = chat_handover(app, clock, {
        "phone": "+1 212 555 0188", "name": "Joost", "skill": "billing", "reason": "invoice looks wrong",
        "customer_reference": "K-778", "transcript": [
            {"from": "customer", "text": "My invoice looks wrong, it has a line I did not order"},
            {"from": "bot", "text": "Shall I ask someone to call you back?"},
            {"from": "customer", "text": "Yes please"}]})
    made["scheduled"] = api_request(live_app, {
        "phone": "+12125550199", "name": "Sam Later", "skill": "billing", "channel": "api",
        "when": "scheduled", "preferred_time": "2026-11-24T12:26", "timezone": "America/New_York"})
    return made


def assert_fits(page, width: int) -> None:
    """No sideways scrolling, and every action on every row is on screen and can be clicked."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"the page scrolls sideways at {width}px"
    # measured in one go: a live refresh may swap the board between two calls
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll('tr.row button, tr.row summary.btn'))
        .filter(b => b.checkVisibility())
        .map(b => { const r = b.getBoundingClientRect(); return [b.textContent.trim(), r.left, r.right, r.width, r.height]; })""")
    assert len(boxes) >= 5, boxes
    for label, left, right, w, h in boxes:
        assert left >= 0 and right <= width, (width, label, left, right)
        assert w >= 24 and h >= 24, (width, label, w, h)  # big enough to hit with a finger

@pytest.mark.parametrize("name,width", list(WIDTHS.items()))
def test_every_action_is_reachable_from_phone_to_desktop(page_for, app, live_app, twilio, runtime, clock, busy_agent,
                                                        name, width):
    fill_the_queue(app, live_app, twilio, runtime, clock, busy_agent)
    page = page_for("sam", viewport={"width": width, "height": 900})
    grace = row(page, "Grace Hopper")
    expect(grace).to_be_visible()
    expect(page.locator("tr.row")).to_have_count(6)
    assert_fits(page, width)
    shot(page, f"queue-{width}")

    # The More… panel of a row opens on screen, its fields usable, and an action from it works.
    grace = more(page, "Grace Hopper")
    note = grace.get_by_label("Note")
    note.scroll_into_view_if_needed()
    expect(note).to_be_in_viewport()
    box = grace.locator("details.more[open] .panel").bounding_box()
    card = page.locator("section.skill", has=grace).bounding_box()
    assert box["x"] >= card["x"] and box["x"] + box["width"] <= card["x"] + card["width"], (box, card)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"queue-{width}-more-open")
    note.fill(f"seen at {width}px")
    grace.get_by_role("button", name="Add note").click()
    expect(row(page, "Grace Hopper")).to_contain_text(f"seen at {width}px")
    row(page, "Sam Later").get_by_role("button", name="Call now").click()
    expect(page.locator("#toasts")).to_contain_text("Calling now")
    assert_fits(page, width)
    assert page.errors == []


def test_scheduled_callbacks_count_down_to_their_time_and_waits_count_up(page_for, live_app, runtime, clock,
                                                                         busy_agent):
    busy_agent("billing", address=BUSY_ADDRESS)  # staffed: a callback past its time is late, not just unreachable
    api_request(live_app, {"phone": "+12125550177", "name": "Grace Hopper", "skill": "billing", "channel": "api"})
    api_request(live_app, {"phone": "+12125550199", "name": "Sam Later", "skill": "billing", "channel": "api",
                           "when": "scheduled", "preferred_time": "2026-11-24T12:26",
                           "timezone": "America/New_York"})
    page = page_for("sam", clock_at=clock.now())
    later, waiting = row(page, "Sam Later"), row(page, "Grace Hopper")
    expect(later.locator("td.time")).to_have_text("due in 2h 26m")
    expect(waiting.locator("td.time .tick")).to_have_text("0s")
    page.clock.fast_forward("01:00")  # the page stays open a minute
    expect(later.locator("td.time")).to_have_text("due in 2h 25m")
    expect(waiting.locator("td.time .tick")).to_have_text(__import__("re").compile(r"^1m 0[01]s$"))
    page.clock.fast_forward("20:00")
    expect(later.locator("td.time")).to_have_text("due in 2h 05m")
    shot(page, "queue-countdown")
    # Its time comes and goes: the row joins the line by itself and says how late it is.
    clock.advance(2 * 3600 + 30 * 60)  # 12:30, four minutes past the agreed 12:26
    page.clock.fast_forward("02:09:00")
    expect(later).to_have_class(__import__("re").compile(r"\bsec-line\b"))
    expect(later.locator("td.time")).to_contain_text(__import__("re").compile(r"late by 4m 0\ds"))
    expect(later).to_contain_text("past the agreed time")
    shot(page, "queue-late")
    assert page.errors == []


def test_the_entry_page_says_what_the_customer_said_and_keeps_internals_behind_details(
        page_for, app, live_app, twilio, runtime, clock, busy_agent):
    made = fill_the_queue(app, live_app, twilio, runtime, clock, busy_agent)
    page = page_for("sam")
    connie = row(page, "Connie Nect")
    expect(connie).to_contain_text("Page shop.example.com/fibre?ref=mail")
    joost = row(page, "Joost")
    expect(joost).to_contain_text("Their reference K-778")
    joost.get_by_text("Chat: customer: My invoice looks wrong").click()
    expect(joost).to_contain_text("bot: Shall I ask someone to call you back?")
    # The caller's way through the IVR, each answer in words (the entry's ivr_path).
    caller = row(page, "+12125550161")
    caller.locator("details.ctx > summary").click()
    for answer in ("Menu Keyed 1 → billing", "Callback instead of holding? Keyed 1 → yes",
                   "Call this number? Keyed 1 → yes", "When? Keyed 1 → as soon as possible"):
        expect(caller.locator("ol.path")).to_contain_text(answer)
    board_text = page.locator("#board").inner_text()
    for internal in ("Leg", "Claimed at", "agent_first", "Mode", "Ivr heard", "Page url", "+00:00"):
        assert internal not in board_text, internal

    more(page, "Connie Nect").get_by_role("link", name="Audit trail").click()
    expect(page.get_by_role("heading", name="Connie Nect")).to_be_visible()
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("wants the fibre offer")
    page_link = facts.get_by_role("link", name="shop.example.com/fibre?ref=mail")
    expect(page_link).to_have_attribute("href", "https://shop.example.com/fibre?ref=mail")
    details = page.locator("details.ctx-details")
    expect(details.locator("dl")).not_to_be_visible()  # folded away until asked for
    card = page.locator("section.card", has=page.get_by_role("heading", name="Details")).inner_text()
    for internal in ("Leg", "leg", "claimed_at", "Claimed", "agent_first", "Mode", "+00:00"):
        assert internal not in card, internal
    trail = page.locator("ol.trail").inner_text()
    assert "+00:00" not in trail and "T15:00" not in trail  # the trail's times are in the supervisor's zone too
    details.get_by_text("Technical details").click()
    expect(details).to_contain_text("Dial attempt (leg)")
    expect(details).to_contain_text("Taken by the dispatcher")
    expect(details).to_contain_text("10:00 EST")  # the supervisor's zone, not the stored UTC
    expect(details).to_contain_text("agent first")
    shot(page, "entry-internals-open")
    for name, width in (("phone", 360), ("desktop", 1280)):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"entry-{width}")
    assert page.errors == []
    made["holder"].hang_up()
