"""The after-hours offer through the signed voice webhooks (the Twilio emulator plays Twilio): a request
for a person never ends the call, and the night's callbacks are spread over the first free times after
the opening like the web's (as many at a time as agents can be free), each caller told their own window,
never one that passes closing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from callbacks.promises import window_words
from config import Prompts
from routing import slots
from routing.promise import Window
from storage.models import QueueEntry
from tests.support import agents_api

NIGHT = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)  # Tuesday 22:00 in New York: billing closed
AGENT = "+14155550101"


def offline_agent(app, monkeypatch, state="offline"):
    """One agent with billing, signed off for the night (expected at the opening), added the way an operator
    does: /api/agents with the bearer token (tests/support/agents_api.py)."""
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    agents_api.add(app.test_client(), "Ann", AGENT, ["billing"], wrap_up_seconds=0, state=state)


def callbacks(runtime):
    with runtime.sessions() as s:
        return list(s.scalars(select(QueueEntry).order_by(QueueEntry.id)))


def book_at_opening(twilio, number: str):
    call = twilio.call(number)
    for digit in ("1", "1", "1"):  # billing (closed): call me back; on this number
        call.press(digit)
    assert call.ended, call.heard_text()
    return call


def test_zero_or_agent_at_the_after_hours_offer_hears_nobody_is_in_and_the_offer_again(twilio, runtime, clock):
    clock.set(NIGHT)
    p = Prompts(runtime.ivr_config, "en-US")
    call = twilio.call()
    call.press("1")
    offer = call.last_heard
    assert "Press 1 and we will call you back" in offer
    for _ in range(4):  # however often they ask, the call goes on
        call.press("0")
        assert not call.ended, call.heard_text()
        assert call.heard[-2] == p.text("nobody_in")  # said, then the offer again
        assert "Press 1 and we will call you back" in call.last_heard
    call.press("1")
    call.press("1")
    assert call.ended and "We will call you back" in call.last_heard
    assert [e.state for e in callbacks(runtime)] == ["scheduled"]


def test_dutch_caller_hears_nobody_is_in_in_dutch(twilio, runtime, clock):
    clock.set(NIGHT)
    p = Prompts(runtime.ivr_config, "nl-NL")
    call = twilio.call(to_number="+31201234567")  # the Dutch line
    call.press("1")
    call.press("0")
    assert not call.ended
    assert call.heard[-2] == p.text("nobody_in")
    assert "Druk 1 en we bellen u terug" in call.last_heard


def test_the_nights_callbacks_are_spread_over_the_first_slots_each_told_its_own_window(
        twilio, app, runtime, clock, monkeypatch):
    offline_agent(app, monkeypatch)
    clock.set(NIGHT)
    calls = []
    for n in range(5):
        calls.append(book_at_opening(twilio, f"+1212555{150 + n:04d}"))
        clock.advance(60)
    booked = callbacks(runtime)
    zone = runtime.ivr_config.skills["billing"].timezone
    local = [e.scheduled_for.astimezone(zone).strftime("%H:%M") for e in booked]
    # One agent can be free at 08:00, and keeps each callback 240 s: the next free times are 08:05, 08:10...
    # (routing/slots.py), as for the web's.
    assert local == ["08:00", "08:05", "08:10", "08:15", "08:20"]
    p = Prompts(runtime.ivr_config, "en-US")
    for entry, call in zip(booked, calls):
        window = Window(entry.promised_from, entry.promised_by, entry.promised_zone)
        assert entry.promised_from >= entry.scheduled_for  # never told a time before its slot
        told = window_words(p, window, NIGHT)
        assert told in call.last_heard  # the booking says the stored window
        assert call.heard_text().count(told) == 2  # and the offer said the same one before it
    last = booked[-1]
    assert last.promised_from.astimezone(zone).strftime("%H:%M") == "08:20"
    assert "between 08:20 and" in calls[-1].last_heard


def test_a_slot_that_would_run_past_closing_is_not_used_the_next_openings_is(app, runtime, clock, monkeypatch):
    offline_agent(app, monkeypatch, state="available")  # on now, until closing
    zone = runtime.ivr_config.skills["billing"].timezone
    ten_to_closing = datetime(2026, 11, 24, 17, 50, tzinfo=zone)  # billing closes at 18:00
    with runtime.sessions() as s:
        slot = slots.spread_slot(s, runtime.ivr_config, "billing", ten_to_closing, clock.now())
    assert slot.astimezone(zone) == datetime(2026, 11, 25, 8, 0, tzinfo=zone)
    with runtime.sessions() as s:
        slot = slots.spread_slot(s, runtime.ivr_config, "billing", ten_to_closing - timedelta(minutes=5), clock.now())
    assert slot.astimezone(zone).strftime("%H:%M") == "17:45"  # the last whole slot before closing
