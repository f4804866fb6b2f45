"""The waiting page in a real browser (Debian chromium via Playwright), at phone and desktop widths, in
both languages, across closing time and a daylight-saving change (the app's ManualClock).

Callbacks are booked through the public API (and by phone through the emulator); the page is opened at the
link the booking gave. Screenshots go to test-artifacts/ (gitignored) for a person to look at.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import partial
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from config import Prompts
from tests.support.browser import Pages, screenshot
from tests.support.ivr_file import Edit

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
DEVICES = [("phone", PHONE), ("desktop", DESKTOP)]
LANGUAGES = {"en-US": ("+12125550142", "America/New_York"), "nl-NL": ("+31201234567", "Europe/Amsterdam")}


@pytest.fixture(autouse=True)
def generous_limits(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="1000/minute", WAITING_PAGE_REFRESH_SECONDS=1)


@pytest.fixture
def open_page(browser, live_app):
    """A waiting page in the caller's language and zone; a refused move is a test's own business."""
    with Pages(browser, live_app, failed=lambda r: r.status >= 400 and "/move" not in r.url) as pages:
        yield lambda path, language, **options: pages.open(path, locale=language,
                                                           timezone_id=LANGUAGES[language][1], **options)


shot = partial(screenshot, prefix="waiting-", full_page=True)


def book(app, language: str, **extra) -> dict:
    number, zone = LANGUAGES[language]
    answer = app.test_client().post("/api/callbacks", json={
        "phone": number, "skill": "billing", "channel": "api", "language": language, "timezone": zone,
        "reason": "De factuur is dubbel" if language == "nl-NL" else "The invoice is charged twice", **extra})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("device,options", DEVICES)
def test_place_window_move_cancel_and_book_again(app, runtime, open_page, busy_agent, device, options, language):
    busy_agent("billing")
    p = Prompts(runtime.ivr_config, language)
    booked = book(app, language)
    page = open_page(path_of(booked["waiting_url"]), language, **options)
    state = page.locator("#wait-state")
    expect(state).to_have_text(p.fragment("waiting_place", position=1))
    window = page.locator("#wait-window")
    expect(window).to_have_text(p.fragment("waiting_window", window=booked["window"]["text"]))
    zone_word = "Amsterdam" if language == "nl-NL" else "New York"
    assert zone_word in window.inner_text()
    expect(page.locator(".wait-told blockquote")).to_have_text(booked_reason(language))
    assert page.locator("html").get_attribute("lang") == language.split("-")[0]
    shot(page, f"{device}-{language}-waiting")
    # Fits the width: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("button", name=p.fragment("waiting_move")).click()
    slots = page.locator("#wait-slots li")
    expect(slots.first).to_be_visible()
    label = slots.nth(1).locator("span").inner_text()
    assert zone_word in label
    shot(page, f"{device}-{language}-slots")
    slots.nth(1).get_by_role("button").click()
    expect(window).to_contain_text(p.table["waiting_moved"].split("{")[0])
    moved = app.test_client().get(f"/api/callbacks/{booked['id']}?{urlsplit(booked['waiting_url']).query}").get_json()
    assert moved["state"] == "scheduled" and moved["window"]["text"] in window.inner_text()
    expect(state).to_have_text(p.fragment("waiting_scheduled"))

    page.get_by_role("button", name=p.fragment("waiting_cancel")).click()
    expect(state).to_have_text(p.fragment("waiting_cancelled"))
    expect(window).to_be_hidden()
    again = page.get_by_role("button", name=p.fragment("waiting_again"))
    expect(again).to_be_visible()
    shot(page, f"{device}-{language}-cancelled")
    again.click()
    page.wait_for_url(lambda url: booked["id"] not in url)
    expect(state).to_have_text(p.fragment("waiting_place", position=1))
    assert page.errors == []


@pytest.mark.ivr(Edit(lambda raw: raw["defaults"].update(assumed_handle_seconds=2400)))
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_a_slot_taken_while_the_list_is_open_is_refused_in_the_page_words(app, runtime, open_page, busy_agent,
                                                                           language):
    """One agent, a callback keeping them 40 minutes: someone else books the slot the customer is looking
    at. Their pick is refused (409 full), the page says so in its own words (not the API's English), and
    lists the slots again without the one taken."""
    busy_agent("billing")
    p = Prompts(runtime.ivr_config, language)
    booked = book(app, language)
    page = open_page(path_of(booked["waiting_url"]), language, **PHONE)
    page.get_by_role("button", name=p.fragment("waiting_move")).click()
    slots = page.locator("#wait-slots li")
    expect(slots.nth(2)).to_be_visible()
    wanted = slots.nth(1).get_by_role("button").get_attribute("data-slot")
    other = app.test_client().post("/api/callbacks", json={
        "phone": "+12125550150", "skill": "billing", "when": "scheduled", "preferred_time": wanted,
        "timezone": LANGUAGES[language][1]})
    assert other.status_code == 201, other.get_json()
    slots.nth(1).get_by_role("button").click()
    alert = page.locator("#wait-alert")
    expect(alert).to_have_text(p.fragment("waiting_full"))
    expect(page.locator(f'#wait-slots button[data-slot="{wanted}"]')).to_have_count(0)
    expect(slots.first).to_be_visible()
    shot(page, f"phone-{language}-slot-taken")
    query = urlsplit(booked["waiting_url"]).query
    assert app.test_client().get(f"/api/callbacks/{booked['id']}?{query}").get_json()["state"] == "queued"
    assert page.errors == []


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_a_cancel_too_late_says_so_and_the_page_shows_the_call(app, runtime, browser, live_app, twilio, language,
                                                               monkeypatch):
    """The page still shows the callback waiting (its polls held back here) when the customer is already
    talking with an agent: Cancel is refused (409 transition_refused) and the page says, in its own words,
    that it can no longer be changed, then shows what is happening."""
    from tests.support import agents_api
    from tests.support.outbound_legs import Outbound

    booked = book(app, language)
    p = Prompts(runtime.ivr_config, language)
    with Pages(browser, live_app, failed=lambda r: r.status >= 400 and "/cancel" not in r.url) as pages:
        page = pages.open(path_of(booked["waiting_url"]), locale=language, timezone_id=LANGUAGES[language][1],
                          **PHONE)
        expect(page.locator("#wait-state")).to_have_text(p.fragment("waiting_place", position=1))
        status = re.compile(r"/api/callbacks/[0-9a-f]+\?token=")
        page.route(status, lambda route: route.abort())  # offline for the polls: the page shows what it had
        monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
        agents_api.add_available(app.test_client(), "Ann", "+14155550101", ["billing"], wrap_up_seconds=0)
        runtime.extras["dispatcher"].run_once()  # Ann's phone rings for this callback
        legs = Outbound(twilio)
        legs.to("+14155550101").answer().press("1")
        legs.to(LANGUAGES[language][0]).answer().amd("human")
        page.get_by_role("button", name=p.fragment("waiting_cancel")).click()
        expect(page.locator("#wait-alert")).to_have_text(p.fragment("waiting_too_late"))
        page.unroute(status)
        expect(page.locator("#wait-state")).to_have_text(p.fragment("waiting_connected"))
        expect(page.locator("#wait-cancel")).to_be_hidden()
        shot(page, f"phone-{language}-too-late")
        assert page.errors == []
    query = urlsplit(booked["waiting_url"]).query
    assert app.test_client().get(f"/api/callbacks/{booked['id']}?{query}").get_json()["state"] == "connected"


def booked_reason(language: str) -> str:
    return "De factuur is dubbel" if language == "nl-NL" else "The invoice is charged twice"


def test_the_page_follows_the_callback_live(app, runtime, open_page, busy_agent):
    busy_agent("billing")
    booked = book(app, "en-US")
    page = open_page(path_of(booked["waiting_url"]), "en-US", **PHONE)
    expect(page.locator("#wait-state")).to_have_text("You are number 1 in line.")
    # Cancelled elsewhere (the status link's API, as the web button would): the open page follows.
    query = urlsplit(booked["waiting_url"]).query
    assert app.test_client().delete(f"/api/callbacks/{booked['id']}?{query}").status_code == 200
    expect(page.locator("#wait-state")).to_have_text(Prompts(runtime.ivr_config, "en-US").fragment("waiting_cancelled"))


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_while_only_the_agent_rings_the_page_does_not_say_we_are_calling(app, runtime, open_page, language,
                                                                         monkeypatch):
    from tests.support import agents_api

    booked = book(app, language)
    page = open_page(path_of(booked["waiting_url"]), language, **PHONE)
    p = Prompts(runtime.ivr_config, language)
    expect(page.locator("#wait-state")).to_have_text(p.fragment("waiting_place", position=1))
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    agents_api.add_available(app.test_client(), "Ann", "+14155550101", ["billing"], wrap_up_seconds=0)
    runtime.extras["dispatcher"].run_once()  # agent first: Ann's phone rings, the customer's does not yet
    expect(page.locator("#wait-state")).to_have_text(p.fragment("waiting_connecting"))
    assert p.fragment("waiting_calling") not in page.locator("main").inner_text()
    shot(page, f"phone-{language}-connecting")
    assert page.errors == []


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("device,options", DEVICES)
def test_booked_at_closing_time_the_page_tells_the_next_openings_window(app, runtime, clock, open_page, busy_agent,
                                                                        device, options, language):
    busy_agent("billing")
    clock.set(datetime(2026, 11, 24, 22, 55, tzinfo=timezone.utc))  # 17:55 in New York: billing closes at 18:00
    booked = book(app, language)
    page = open_page(path_of(booked["waiting_url"]), language, **options)
    window = page.locator("#wait-window")
    expect(window).to_be_visible()
    text = window.inner_text()
    zone = runtime.ivr_config.skills["billing"].timezone
    start = datetime.fromisoformat(booked["window"]["from"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(booked["window"]["by"].replace("Z", "+00:00"))
    assert start.astimezone(zone).strftime("%Y-%m-%d %H:%M") == "2026-11-25 08:00"  # never past closing
    assert end.astimezone(zone).hour >= 8
    told = "14:00" if language == "nl-NL" else "08:00"  # Amsterdam is six hours ahead of New York
    assert told in text and ("morgen" if language == "nl-NL" else "tomorrow") in text, text
    closed = page.locator("#wait-closed")
    expect(closed).to_be_hidden()  # still open: nothing to say about opening hours
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc))  # 18:30: closed; the page follows by itself
    expect(closed).to_have_text({
        "en-US": "Our billing team is closed right now. We open again tomorrow, Wednesday 25 November at 08:00, "
                 "New York time.",
        # 18:30 in New York is already Wednesday in Amsterdam.
        "nl-NL": "Ons team facturen is nu gesloten. We zijn weer open vandaag, woensdag 25 november om 14:00, "
                 "tijdzone Amsterdam."}[language])
    # The same window as before closing, same times and date (in Amsterdam its day is now "today").
    clock_times = re.compile(r"\d\d:\d\d|\b25\b")
    assert clock_times.findall(window.inner_text()) == clock_times.findall(text)
    assert clock_times.findall(text)[0] == told and "25" in clock_times.findall(text)
    shot(page, f"{device}-{language}-closing")


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_across_a_daylight_saving_change_the_window_keeps_its_clock_time(app, runtime, clock, open_page, busy_agent,
                                                                         language):
    busy_agent("billing")
    # Friday 30 October 2026, 19:00 in New York (closed). New York leaves summer time on Sunday 1 November,
    # Amsterdam left it on 25 October: Monday's 08:00 New York is 14:00 Amsterdam (five hours apart on Friday).
    clock.set(datetime(2026, 10, 30, 23, 0, tzinfo=timezone.utc))
    booked = book(app, language)
    start = datetime.fromisoformat(booked["window"]["from"].replace("Z", "+00:00"))
    assert start == datetime(2026, 11, 2, 13, 0, tzinfo=timezone.utc)  # 08:00 EST, after the change
    page = open_page(path_of(booked["waiting_url"]), language, **PHONE)
    expect(page.locator("#wait-window")).to_be_visible()  # the first read of the status API has come back
    text = page.locator("#wait-window").inner_text()
    if language == "nl-NL":
        assert "14:00" in text and "maandag 2 november" in text and "Amsterdam" in text, text
    else:
        assert "08:00" in text and "Monday 2 November" in text and "New York" in text, text
    shot(page, f"phone-{language}-dst")
