"""Slot capacity from staffing (routing/slots.py) through the booking paths: the web button is not
offered full slots, and callbacks booked overnight "as soon as you open" are spread over the first
slots after the opening, each told its own time. Agents and callbacks come through the real services
and the API; time from a ManualClock."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import QueueEntry

AGENT = "+14155550101"


def test_overnight_asap_callbacks_are_spread_over_the_first_slots(app, add_agent, runtime, clock):
    add_agent("Ann", AGENT, state="offline")  # one agent with billing, expected at the opening
    clock.advance(12 * 3600)  # 22:00 in New York: closed until 08:00
    client = app.test_client()
    booked = [client.post("/api/callbacks", json={"phone": f"+1212555{150 + n:04d}", "skill": "billing",
                                                  "channel": "api"}) for n in range(8)]
    assert all(b.status_code == 201 for b in booked)
    with runtime.sessions() as s:
        due = sorted(s.scalars(select(QueueEntry.next_attempt_at)).all())
    opening = due[0]
    assert opening.astimezone(runtime.ivr_config.skills["billing"].timezone).strftime("%H:%M") == "08:00"
    # One agent, 240 s a callback: 3 fit in a 15-minute slot; the rest go to the next slots, not 08:00.
    assert [int((d - opening).total_seconds() // 60) for d in due] == [0, 0, 0, 15, 15, 15, 30, 30]
    later = [b.get_json() for b in booked][-1]
    assert later["scheduled_for_local"].endswith("08:30")


def test_the_web_button_offers_only_slots_with_room(app, add_agent, runtime, clock):
    client = app.test_client()
    add_agent("Ann", AGENT)
    slots = client.get("/api/callback-form?skill=billing").get_json()["slots"]
    assert slots
    first = slots[0]["value"]
    # 1 agent, 240 s a callback, 30-minute slots: 7 fit; the 8th booking for that slot fills it.
    for n in range(7):
        answer = client.post("/api/callbacks", json={
            "phone": f"+1212555{160 + n:04d}", "skill": "billing", "channel": "api", "when": "scheduled",
            "preferred_time": first, "timezone": "America/New_York"})
        assert answer.status_code == 201, answer.get_json()
    offered = [s["value"] for s in client.get("/api/callback-form?skill=billing").get_json()["slots"]]
    assert first not in offered and slots[1]["value"] in offered
