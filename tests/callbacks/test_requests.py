"""callbacks/requests.py: the service every non-phone channel uses, and what becomes of its callbacks
afterwards: the same dispatcher dials them, and what the customer typed reaches the agent escaped."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from callbacks import requests as service
from refusals import RequestRefused
from storage.db import transaction

AGENT = "+14155550101"
CUSTOMER = "+12125550143"
HOSTILE = '</Say><Dial>+19005550100</Dial><Say>"&amp;'


@pytest.fixture
def call_center(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")
    return app.test_client()


def test_web_callback_is_dialled_by_the_dispatcher_and_whispered_escaped(
        call_center, dispatcher, outbound, add_agent, entry_of, clock):
    add_agent("Ann", AGENT, skills=("billing",))
    booked = call_center.post("/api/callbacks", json={
        "phone": "+1 212 555 0143", "name": HOSTILE, "reason": "invoice " + HOSTILE, "channel": "api",
        "context": {"page_url": "https://shop.example.com/account"}})
    assert booked.status_code == 201
    pid = booked.get_json()["id"]
    assert booked.get_json()["skill"] == "billing"

    report = dispatcher.run_once()
    assert [c.public_id for c in report.claimed] == [pid]
    agent = outbound.to(AGENT).ring().answer()
    # The whisper is valid TwiML with one Say holding the customer's words as text: no injected <Dial>.
    whisper = ET.fromstring(agent.documents[-1])
    assert whisper.findall(".//Dial") == []
    assert HOSTILE in agent.heard_text()
    agent.press("1")
    customer = outbound.to(CUSTOMER)
    customer.ring().answer()
    customer.amd("human")
    entry = entry_of(pid)
    assert entry.channel == "api" and entry.state == "connected"
    assert [e.event for e in entry.events][:4] == ["requested", "window_told", "wait_announced", "dialing_agent"]


# ---- the service on its own ------------------------------------------------------------------------------

def book(runtime, body, caller=service.Caller(channel="api")):
    with transaction(runtime.sessions) as s:
        outcome = service.request_callback(s, runtime.ivr_config, body, now=runtime.clock.now(),
                                           allowed_countries=runtime.settings.allowed_countries, caller=caller)
        return outcome


@pytest.mark.parametrize("reason,language,skill", [
    ("I was charged twice on my invoice", "en-US", "billing"),
    ("my internet is not working", "en-US", "support"),
    ("ik wil een nieuw abonnement", "nl-NL", "sales"),
    ("something entirely different", "en-US", "general"),
])
def test_reason_is_classified_like_the_ivr(runtime, reason, language, skill):
    assert service.pick_skill(runtime.ivr_config, None, reason, language) == skill
    assert service.pick_skill(runtime.ivr_config, "sales", reason, language) == "sales"  # a named skill wins


def test_integration_is_recorded_in_context(runtime):
    outcome = book(runtime, {"phone": CUSTOMER, "context": {"customer_reference": "C-9", "chat_transcript": ""}},
                   caller=service.Caller(channel="chat", integration="helpbot"))
    assert outcome.entry.context == {"customer_reference": "C-9", "integration": "helpbot"}
    assert set(outcome.entry.context) <= set(service.schemas.CONTEXT_KEYS)


def test_closed_time_names_the_next_opening(runtime):
    with pytest.raises(RequestRefused) as refused:
        book(runtime, {"phone": CUSTOMER, "skill": "sales", "preferred_time": "2026-11-25T18:00",
                       "timezone": "America/New_York"})
    assert refused.value.code == "closed"
    assert "the next opening is 2026-11-26 09:00 America/New_York" in str(refused.value)


def test_open_slots_follow_hours_lead_time_and_days(runtime, clock):
    zone = ZoneInfo("America/New_York")
    slots = service.open_slots(runtime.ivr_config, "sales", zone, clock.now())  # Tue 10:00 New York
    assert slots[0] == datetime(2026, 11, 24, 10, 30, tzinfo=zone)  # 10:05 earliest, next half hour
    assert {s.date().isoformat() for s in slots} == {"2026-11-24", "2026-11-25", "2026-11-26"}
    assert all(9 <= s.hour < 17 for s in slots)
    clock.set(datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc))  # Friday evening: the weekend is closed
    slots = service.open_slots(runtime.ivr_config, "sales", zone, clock.now())
    assert slots[0] == datetime(2026, 11, 30, 9, 0, tzinfo=zone)


def test_confirmation_texts(runtime, clock, add_agent):
    add_agent("Ann", AGENT, skills=("support",), state="on_call")
    outcome = book(runtime, {"phone": CUSTOMER, "language": "nl-NL", "skill": "support"})
    # A Dutch customer reads the window in Amsterdam time ([company] zones), with the date: 10:00 in New
    # York is 16:00 in Amsterdam; one busy agent, nobody ahead: about 4 minutes.
    assert service.confirmation(runtime.ivr_config, outcome, clock.now()) == (
        "Geboekt: we bellen u op het nummer dat eindigt op 0143 tussen 16:00 en 16:20 vandaag, dinsdag 24 november, "
        "tijdzone Amsterdam. U bent nummer 1 in de rij.")
    assert outcome.estimated_wait_seconds == 255  # 240 s of agent time + the customer's ring
    assert outcome.entry.promised_zone == "Europe/Amsterdam"


def test_nobody_staffed_books_no_wait_and_tells_the_next_opening(runtime, clock):
    outcome = book(runtime, {"phone": CUSTOMER, "language": "en-US", "skill": "support"})
    assert outcome.estimated_wait_seconds is None and outcome.position == 1
    # Support opens at 07:00 in New York; nobody is on today, so tomorrow's opening.
    assert service.confirmation(runtime.ivr_config, outcome, clock.now()) == (
        "Booked: we will call you on the number ending in 0143 between 07:00 and 07:10 tomorrow, "
        "Wednesday 25 November, New York time. You are number 1 in line.")
    assert [e.event for e in outcome.entry.events] == ["requested", "window_told"]  # no wait told


def test_asap_while_closed_is_told_the_opening_window_in_the_visitors_zone(runtime, clock):
    clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc))  # Friday 19:00 in New York
    outcome = book(runtime, {"phone": CUSTOMER, "language": "nl-NL", "skill": "billing",
                             "timezone": "Europe/Amsterdam"})
    assert outcome.entry.state == "scheduled" and outcome.estimated_wait_seconds is None
    assert service.confirmation(runtime.ivr_config, outcome, clock.now()) == (
        "Geboekt: we bellen u op het nummer dat eindigt op 0143 tussen 14:00 en 14:10 op maandag 30 november, "
        "tijdzone Amsterdam.")
