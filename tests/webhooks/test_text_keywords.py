"""Texters cancel their open callback, or ask where it stands, with a keyword from the IVR file: by SMS
(signed /webhooks/sms, as Twilio sends it) and by chat (signed /webhooks/chat/message), one text channel."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from storage.models import QueueEntry, QueueEvent
from tests.support.waiting_links import split_link
from tests.webhooks.test_chat import HANDOVER, post, signed_headers
from tests.webhooks.test_sms import TEXTER, entries, reply_of, text


@pytest.fixture(autouse=True)
def setup(app):
    app.config["CHAT_SECRETS"] = {"helpbot": "s3cret-for-helpbot"}
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")


def chat_text(app, clock, phone: str, words: str):
    raw = json.dumps({"phone": phone, "text": words}).encode()
    response = app.test_client().post("/webhooks/chat/message", data=raw, headers=signed_headers(raw, clock))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["reply"]


def cancel_events(runtime):
    with runtime.sessions() as s:
        return [(e.actor, e.detail) for e in s.scalars(select(QueueEvent).where(QueueEvent.event == "cancelled"))]


def test_sms_cancel_keyword_cancels_the_texters_callback(twilio, runtime, busy_agent):
    busy_agent("general")
    reply_of(text(twilio, "call me"))
    assert reply_of(text(twilio, "Cancel callback!")) == "Your callback is cancelled."
    (entry,) = entries(runtime)
    assert entry.state == "cancelled"
    assert cancel_events(runtime) == [("customer", {"channel": "sms"})]
    # Nothing is left to cancel, and the texter is told so.
    assert reply_of(text(twilio, "CANCEL CALLBACK")) == \
        "You have no callback waiting with us, so there was nothing to cancel."


def test_another_number_cannot_cancel(twilio, runtime, busy_agent):
    busy_agent("general")
    reply_of(text(twilio, "call me"))
    assert reply_of(text(twilio, "cancel callback", from_number="+12125550199")).startswith("You have no callback")
    assert [e.state for e in entries(runtime)] == ["queued"]


def test_twilio_opt_out_word_alone_is_not_our_cancel(twilio, runtime, busy_agent):
    # CANCEL on its own is one of Twilio's opt-out words: the IVR file's keyword is another, so a bare
    # CANCEL cancels nothing here (Twilio handles the opt-out itself).
    busy_agent("general")
    reply_of(text(twilio, "call me"))
    assert reply_of(text(twilio, "CANCEL")).startswith("To get a call back, text CALL ME")
    assert [e.state for e in entries(runtime)] == ["queued"]


def test_status_keyword_tells_window_and_place(twilio, runtime, busy_agent):
    assert reply_of(text(twilio, "status")) == "You have no callback waiting with us. To get one, text CALL ME."
    busy_agent("general")
    reply_of(text(twilio, "call me"))
    assert split_link(reply_of(text(twilio, "STATUS")))[0] == (
        "We will call you on the number ending in 0142 between 10:00 and 10:20 today, Tuesday 24 November, "
        "New York time. You are number 1 in line. To cancel, text CANCEL CALLBACK.")
    assert [e.state for e in entries(runtime)] == ["queued"]


def test_dutch_keyword_answers_in_dutch(twilio, runtime):
    reply_of(text(twilio, "BEL MIJ morgen om 15:30", from_number="+31201234567"))
    status = reply_of(text(twilio, "status", from_number="+31201234567"))
    # STATUS is the same word in both languages: answered in the language the callback was booked in.
    assert status.startswith("We bellen u op het nummer dat eindigt op 4567 tussen 15:30 en 15:45 morgen")
    assert reply_of(text(twilio, "annuleer", from_number="+31201234567")) == "Uw terugbelverzoek is geannuleerd."
    assert [e.state for e in entries(runtime)] == ["cancelled"]


def test_chat_cancels_a_callback_booked_by_handover(app, runtime, clock, busy_agent):
    busy_agent("billing")
    assert post(app.test_client(), clock, HANDOVER).status_code == 201
    assert chat_text(app, clock, "+31 20 123 4567", "ANNULEER") == "Uw terugbelverzoek is geannuleerd."
    (entry,) = entries(runtime)
    assert entry.state == "cancelled"
    assert cancel_events(runtime) == [("customer", {"channel": "chat"})]


def test_chat_text_books_like_an_sms(app, runtime, clock, busy_agent):
    busy_agent("general")
    reply = chat_text(app, clock, TEXTER, "call me")
    assert reply.startswith("Booked: we will call you on the number ending in 0142 between 10:00 and 10:20")
    (entry,) = entries(runtime)
    assert (entry.channel, entry.context) == ("chat", {"integration": "helpbot"})
    assert chat_text(app, clock, TEXTER, "call me 25:00") == \
        "Sorry, we cannot call you back then: that is not a time of day."


def test_chat_message_unsigned_or_malformed_is_refused(app, clock):
    raw = json.dumps({"phone": TEXTER, "text": "status"}).encode()
    unsigned = app.test_client().post("/webhooks/chat/message", data=raw,
                                      headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    raw = json.dumps({"phone": TEXTER}).encode()
    missing = app.test_client().post("/webhooks/chat/message", data=raw, headers=signed_headers(raw, clock))
    assert missing.status_code == 422
