"""callbacks/requests.py: the service every non-phone channel uses (reached here the way a web visitor, an API
client or a chat bot reaches it), and what becomes of its callbacks afterwards: the same dispatcher dials them, and what
the customer typed reaches the agent escaped."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from callbacks import requests as service
from tests.conftest import PUBLIC_BASE_URL
from tests.supervisor.conftest import chat_handover

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


# ---- booked as a web visitor (on_the_web) or a chat bot (chat_handover: the view and the `message`) does ----

def on_the_web(client, body: dict, visitor: str = "198.51.100.7"):
    """GET /api/callback-form, then POST /api/callbacks from this app's own page, as the web button does."""
    origin, where = {"Origin": PUBLIC_BASE_URL}, {"REMOTE_ADDR": visitor}
    form = client.get("/api/callback-form", query_string={"skill": body.get("skill", "billing")}, headers=origin,
                      environ_base=where)
    assert form.status_code == 200, form.get_json()
    return client.post("/api/callbacks", json={**body, "channel": "web", "form_token": form.get_json()["form_token"]},
                       headers=origin, environ_base=where)


@pytest.mark.parametrize("reason,language,skill", [
    ("I was charged twice on my invoice", "en-US", "billing"),
    ("my internet is not working", "en-US", "support"),
    ("ik wil een nieuw abonnement", "nl-NL", "sales"),
    ("something entirely different", "en-US", "general"),
])
def test_reason_is_classified_like_the_ivr(runtime, reason, language, skill):
    assert service.pick_skill(runtime.ivr_config, None, reason, language) == skill
    assert service.pick_skill(runtime.ivr_config, "sales", reason, language) == "sales"  # a named skill wins


def test_integration_is_recorded_in_context(app, clock, entry_of):
    booked = chat_handover(app, clock, {"phone": CUSTOMER, "customer_reference": "C-9", "transcript": []})
    context = entry_of(booked["id"]).context
    assert context == {"customer_reference": "C-9", "integration": "helpbot"}
    assert set(context) <= set(service.schemas.CONTEXT_KEYS)


def test_closed_time_names_the_next_opening(call_center):
    refused = on_the_web(call_center, {"phone": CUSTOMER, "skill": "sales", "preferred_time": "2026-11-25T18:00",
                                       "timezone": "America/New_York"})
    assert refused.status_code == 422 and refused.get_json()["code"] == "closed", refused.get_json()
    assert "the next opening is 2026-11-26 09:00 America/New_York" in refused.get_json()["detail"]


def test_open_slots_follow_hours_lead_time_and_days(runtime, clock):
    zone = ZoneInfo("America/New_York")
    slots = service.open_slots(runtime.ivr_config, "sales", zone, clock.now())  # Tue 10:00 New York
    assert slots[0] == datetime(2026, 11, 24, 10, 30, tzinfo=zone)  # 10:05 earliest, next half hour
    assert {s.date().isoformat() for s in slots} == {"2026-11-24", "2026-11-25", "2026-11-26"}
    assert all(9 <= s.hour < 17 for s in slots)
    clock.set(datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc))  # Friday evening: the weekend is closed
    slots = service.open_slots(runtime.ivr_config, "sales", zone, clock.now())
    assert slots[0] == datetime(2026, 11, 30, 9, 0, tzinfo=zone)


def test_confirmation_texts(app, clock, add_agent):
    add_agent("Ann", AGENT, skills=("support",), state="on_call")
    booked = chat_handover(app, clock, {"phone": CUSTOMER, "language": "nl-NL", "skill": "support"})
    # A Dutch customer reads the window in Amsterdam time ([company] zones), with the date: 10:00 in New
    # York is 16:00 in Amsterdam; one busy agent, nobody ahead: about 4 minutes.
    assert (
        "Geboekt: we bellen u op het nummer dat eindigt op 0143 tussen 16:00 en 16:20 vandaag, dinsdag 24 november, "
        "tijdzone Amsterdam. U bent nummer 1 in de rij.") in booked["message"]
    assert booked["estimated_wait_seconds"] == 255  # 240 s of agent time + the customer's ring
    assert booked["window"]["timezone"] == "Europe/Amsterdam"


def test_nobody_staffed_books_no_wait_and_tells_the_next_opening(app, clock, entry_of):
    booked = chat_handover(app, clock, {"phone": CUSTOMER, "language": "en-US", "skill": "support"})
    assert booked["estimated_wait_seconds"] is None and booked["position"] == 1
    # Support opens at 07:00 in New York; nobody is on today, so tomorrow's opening.
    assert (
        "Booked: we will call you on the number ending in 0143 between 07:00 and 07:10 tomorrow, "
        "Wednesday 25 November, New York time. You are number 1 in line.") in booked["message"]
    assert [e.event for e in entry_of(booked["id"]).events] == ["requested", "window_told"]  # no wait told


def test_asap_while_closed_is_told_the_opening_window_in_the_visitors_zone(app, clock):
    clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc))  # Friday 19:00 in New York
    booked = chat_handover(app, clock, {"phone": CUSTOMER, "language": "nl-NL", "skill": "billing",
                                  "timezone": "Europe/Amsterdam"})
    assert booked["state"] == "scheduled" and booked["estimated_wait_seconds"] is None
    assert (
        "Geboekt: we bellen u op het nummer dat eindigt op 0143 tussen 14:00 en 14:10 op maandag 30 november, "
        "tijdzone Amsterdam.") in booked["message"]
