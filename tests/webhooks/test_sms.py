"""SMS: CALL ME / BEL MIJ from a texter books a callback to that number; TwiML replies say what happened."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from storage.models import QueueEntry
from tests.support import agents_api
from tests.support.waiting_links import split_link
from tests.support.twilio_voice import ACCOUNT_SID, new_sid

TEXTER = "+12125550142"


@pytest.fixture(autouse=True)
def generous_limits(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")


def text(twilio, body: str, from_number: str = TEXTER, signature: str | None = None, expect_ok: bool = True):
    params = {"MessageSid": new_sid("SM"), "AccountSid": ACCOUNT_SID, "From": from_number,
              "To": "+15005550006", "Body": body, "NumMedia": "0"}
    return twilio.post("/webhooks/sms", params, signature=signature, expect_ok=expect_ok)


def reply_of(response) -> str:
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    (message,) = root.findall("Message")
    return message.text or ""


def entries(runtime):
    with runtime.sessions() as s:
        # not the callback a busy agent is on (agents_api.put_on_a_call)
        return list(s.scalars(select(QueueEntry).where(QueueEntry.phone_number != agents_api.BUSY_CUSTOMER)
                              .order_by(QueueEntry.id)))


def test_call_me_books_asap_to_the_texters_number(twilio, runtime, busy_agent):
    busy_agent("general")
    answer, _link = split_link(reply_of(text(twilio, "call me")))
    assert answer == ("Booked: we will call you on the number ending in 0142 between 10:00 and 10:20 today, "
                      "Tuesday 24 November, New York time. You are number 1 in line.")
    (entry,) = entries(runtime)
    assert (entry.channel, entry.phone_number, entry.state, entry.language) == ("sms", TEXTER, "queued", "en-US")
    assert entry.context == {"integration": "twilio-sms"}
    assert entry.skill == "general"


def test_bel_mij_with_a_time_tomorrow_in_dutch(twilio, runtime):
    answer, _link = split_link(reply_of(text(twilio, "BEL MIJ morgen om 15:30 over mijn factuur",
                                             from_number="+31201234567")))
    (entry,) = entries(runtime)
    assert entry.language == "nl-NL"
    assert entry.skill == "billing"
    assert entry.state == "scheduled"
    assert entry.reason == "mijn factuur"
    # A Dutch texter's 15:30 is Amsterdam time ([company] zones) on Wednesday 25 November = 14:30 UTC
    # (09:30 for billing in New York), and the reply names the zone and the date.
    assert entry.scheduled_for.isoformat() == "2026-11-25T14:30:00+00:00"
    assert answer == ("Geboekt: we bellen u op het nummer dat eindigt op 4567 tussen 15:30 en 15:45 morgen, "
                      "woensdag 25 november, tijdzone Amsterdam.")


def test_call_me_at_a_time_today(twilio, runtime):
    answer = reply_of(text(twilio, "Call me at 2:30pm"))
    (entry,) = entries(runtime)
    assert entry.scheduled_for.isoformat() == "2026-11-24T19:30:00+00:00"
    assert "between 14:30 and 14:45 today, Tuesday 24 November, New York time" in answer


@pytest.mark.parametrize("body,expected", [
    ("CALL ME 08:00", "Sorry, we cannot call you back then: that time has already passed."),
    ("call me tomorrow 23:00", "Sorry, we cannot call you back then: we are closed at that time."),
    ("BEL MIJ 07:00", "Sorry, op dat moment kunnen we u niet terugbellen: dat tijdstip is al voorbij."),
    ("call me 25:00", "Sorry, we cannot call you back then: that is not a time of day."),
])
def test_refused_times_are_explained_and_nothing_booked(twilio, runtime, body, expected):
    assert reply_of(text(twilio, body)) == expected
    assert entries(runtime) == []


def test_refused_number_is_explained(twilio, runtime):
    answer = reply_of(text(twilio, "CALL ME", from_number="+19005550100"))
    assert answer == "Sorry, we cannot call a premium-rate or shared-cost number."
    assert entries(runtime) == []


@pytest.mark.parametrize("body", ["hello", "", "STOPP", "what are your opening hours?", "recall my order", "BELLEN MIJ"])
def test_unknown_text_is_answered_with_help_in_both_languages(twilio, runtime, body):
    answer = reply_of(text(twilio, body))
    assert "CALL ME" in answer and "BEL MIJ" in answer
    assert entries(runtime) == []


def test_second_text_answers_with_the_existing_callback(twilio, runtime):
    text(twilio, "CALL ME")
    # With the window it was told (nobody is staffed today: tomorrow's first minutes), never a bare promise.
    assert reply_of(text(twilio, "call me")) == (
        "You already have a callback booked: we will call you on the number ending in 0142 between 08:00 and 08:10 "
        "tomorrow, Wednesday 25 November, New York time.")
    assert len(entries(runtime)) == 1


def test_unsigned_text_is_refused(twilio, runtime):
    response = text(twilio, "CALL ME", signature="forged", expect_ok=False)
    assert response.status_code == 403
    assert entries(runtime) == []


def test_hostile_text_is_escaped_in_the_twiml_reply(twilio, runtime):
    response = text(twilio, 'CALL ME <Say>pwned</Say> & "x" 25:00')
    raw = response.get_data(as_text=True)
    assert "<Say>" not in raw
    reply_of(response)  # still well-formed TwiML with one Message




def test_texts_are_limited_per_texter_not_per_twilio_address(app, twilio, runtime):
    app.config.update(CALLBACK_LIMIT_PER_NUMBER="2/hour", CALLBACK_LIMIT_PER_IP="1/hour")
    assert reply_of(text(twilio, "CALL ME"))
    assert reply_of(text(twilio, "CALL ME"))
    # The texter over the limit is told so in a reply (an HTTP 429 would reach nobody).
    assert reply_of(text(twilio, "CALL ME")).startswith("You have already sent us several requests this hour")
    # Other texters, all relayed from the same Twilio address, still get through.
    for n in range(3):
        assert "Booked" in reply_of(text(twilio, "CALL ME", from_number=f"+1212555015{n}"))


def test_bel_mij_at_night_is_told_the_mornings_window_in_amsterdam_time(twilio, runtime, clock):
    from datetime import datetime, timezone

    clock.set(datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc))  # 22:00 in New York: everything is closed
    answer, _link = split_link(reply_of(text(twilio, "BEL MIJ", from_number="+31201234567")))
    # The general team opens at 08:00 in New York, 14:00 in Amsterdam; a Dutch texter reads Amsterdam time,
    # and hears first that the team is closed now and when it opens, as the phone says it.
    assert answer == ("Ons team klantenservice is nu gesloten. We zijn weer open vandaag, woensdag 25 november om "
                      "14:00, tijdzone Amsterdam. Geboekt: we bellen u op het nummer dat eindigt op 4567 tussen 14:00 en 14:10 vandaag, "
                      "woensdag 25 november, tijdzone Amsterdam.")
    assert "minu" not in answer
