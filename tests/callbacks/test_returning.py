"""A caller who rings with a callback still waiting hears it and keeps or cancels it; answered as a holder,
their waiting requests are closed with a note, whichever channel booked them (merge across channels).
Bookings through the public API, the signed chat and SMS webhooks and the IVR; calls through the emulator."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from config import Prompts
from storage.models import QueueEntry
from tests.support.twilio_voice import ACCOUNT_SID, new_sid
from webhooks.chat import signature

CUSTOMER = "+12125550143"
AGENT = "+14155550101"
CHAT_SECRET = "s3cret-for-helpbot"


@pytest.fixture(autouse=True)
def generous(app):
    app.config["CHAT_SECRETS"] = {"helpbot": CHAT_SECRET}
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")


def by_api(app, twilio, clock, **extra):
    answer = app.test_client().post("/api/callbacks", json={"phone": CUSTOMER, "skill": "billing", "channel": "api",
                                                            **extra})
    assert answer.status_code == 201, answer.get_json()


TOMORROW = "2026-11-25T10:00"  # the clock starts Tuesday 24 November, 10:00 New York


def by_chat(app, twilio, clock):
    raw = json.dumps({"phone": CUSTOMER, "skill": "billing", "reason": "my invoice", "preferred_time": TOMORROW,
                      "timezone": "America/New_York"}).encode()
    stamp, nonce = str(int(clock.now().timestamp())), uuid.uuid4().hex
    answer = app.test_client().post("/webhooks/chat/callback", data=raw, headers={
        "Content-Type": "application/json", "X-Chat-Integration": "helpbot", "X-Chat-Timestamp": stamp,
        "X-Chat-Nonce": nonce, "X-Chat-Signature": signature(CHAT_SECRET, stamp, nonce, raw)})
    assert answer.status_code == 201, answer.get_json()


def by_sms(app, twilio, clock):
    twilio.post("/webhooks/sms", {"MessageSid": new_sid("SM"), "AccountSid": ACCOUNT_SID, "From": CUSTOMER,
                                  "To": "+15005550006", "Body": "call me tomorrow 10:00", "NumMedia": "0"})


def by_phone(app, twilio, clock):
    call = twilio.call(from_number=CUSTOMER)
    for digit in ("1", "1", "1", "2", "2", "1000"):  # billing, call me back, this number, later, tomorrow, 10:00
        call.press(digit)
    assert call.ended and "We will call you back" in call.last_heard, call.heard_text()


def waiting(runtime):
    with runtime.sessions() as s:
        return list(s.scalars(select(QueueEntry).where(QueueEntry.phone_number == CUSTOMER)
                              .order_by(QueueEntry.id)))


def test_a_caller_with_a_waiting_callback_hears_it_and_keeps_it(app, twilio, runtime, clock, busy_agent):
    busy_agent("billing")
    by_api(app, twilio, clock)
    [entry] = waiting(runtime)
    call = twilio.call(from_number=CUSTOMER)
    p = Prompts(runtime.ivr_config, "en-US")
    assert "You already have a callback booked: we will call you back between" in call.last_heard
    assert "New York time. Press 1 to keep it, or 2 to cancel it." in call.last_heard
    call.press("1")
    assert call.ended and call.heard[-2].startswith("Your callback stays booked: we will call you back between")
    assert call.last_heard == p.text("goodbye")
    assert [(e.public_id, e.state) for e in waiting(runtime)] == [(entry.public_id, "queued")]  # nothing new


def test_a_caller_cancels_their_waiting_callback_and_is_helped_now(app, twilio, runtime, clock, busy_agent):
    busy_agent("billing")
    by_api(app, twilio, clock)
    call = twilio.call(from_number=CUSTOMER)
    call.press("2")
    assert not call.ended
    assert call.heard[-2] == "Your callback is cancelled."
    assert "1 for billing" in call.last_heard
    with runtime.sessions() as s:
        [entry] = s.scalars(select(QueueEntry).where(QueueEntry.phone_number == CUSTOMER)).all()
        assert entry.state == "cancelled"
        [note] = [e for e in entry.events if e.state == "cancelled"]
    assert (note.actor, note.reason, note.detail["channel"]) == ("caller", "cancelled by the caller", "phone")
    call.press("1")  # billing: the line, as any caller
    assert "Press 2 to hold" in call.last_heard


def test_a_dutch_caller_hears_their_callback_in_dutch_in_the_zone_it_was_told_in(app, twilio, runtime, clock,
                                                                                  busy_agent):
    busy_agent("billing")
    by_api(app, twilio, clock, language="nl-NL", timezone="Europe/Amsterdam")
    call = twilio.call(from_number=CUSTOMER, to_number="+31201234567")
    assert "U hebt al een terugbelverzoek: we bellen u terug tussen" in call.last_heard, call.last_heard
    assert "Amsterdam" in call.last_heard and "Druk 1 om het te houden" in call.last_heard
    call.press("1")
    assert call.ended and waiting(runtime)[0].state == "queued"


def test_a_caller_without_a_waiting_callback_hears_the_menu(twilio, runtime):
    call = twilio.call(from_number=CUSTOMER)
    assert "Press 1 for billing" in call.last_heard  # keys only in these tests: the menu, no callback first
    assert "You already have a callback" not in call.heard_text()


def by_web_later(app, twilio, clock):
    by_api(app, twilio, clock, when="scheduled", preferred_time=TOMORROW, timezone="America/New_York")


# Booked for tomorrow in every channel, so the holder comes first today.
@pytest.mark.parametrize("book", [by_web_later, by_chat, by_sms, by_phone], ids=["web-api", "chat", "sms", "phone"])
def test_answered_as_a_holder_their_callback_from_any_channel_is_closed_with_a_note(
        app, twilio, runtime, clock, dispatcher, outbound, add_agent, book):
    both = ("billing", "general")  # a text without a team goes to general
    add_agent("Bob", "+14155550102", skills=both, state="on_call")  # staffed but busy: the IVR offers the wait
    book(app, twilio, clock)
    [callback] = [e for e in waiting(runtime) if e.kind == "callback" and e.state == "scheduled"]
    caller = twilio.call(from_number=CUSTOMER)
    assert "You already have a callback booked" in caller.last_heard
    caller.press("0")  # a person now: the callback's team
    assert "Press 2 to hold" in caller.last_heard
    caller.press("2")
    with runtime.sessions() as s:
        holder = s.scalar(select(QueueEntry).where(QueueEntry.call_sid == caller.call_sid,
                                                   QueueEntry.kind == "holding"))
    assert holder is not None and holder.state == "holding"
    add_agent("Ann", AGENT, skills=both)
    dispatcher.run_once()
    outbound.to(AGENT).answer().press("1")
    with runtime.sessions() as s:
        served = s.get(QueueEntry, holder.id)
        merged = s.get(QueueEntry, callback.id)
        assert served.state == "connected", served.state
        assert merged.state == "cancelled"
        [note] = [e for e in merged.events if e.event == "merged"]
        assert note.reason == f"served by the phone holding for {callback.skill}"
        assert note.detail["served_by"] == served.public_id
