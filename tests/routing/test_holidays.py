"""Holidays: a day closed all day in the IVR file ([[closed]]), for every team or those named, is closed
for the IVR, bookings, the button's slots, the status link and the dispatcher alike (routing/hours.py)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from urllib.parse import urlsplit

import pytest

from config import ConfigError, parse_ivr_config
from routing import hours
from tests.support.ivr_file import calendar, shipped

THANKSGIVING = calendar(closed={"2026-11-26": "Thanksgiving"}, skills=["billing"])
THURSDAY = datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)  # 10:00 in New York, Thanksgiving
WEDNESDAY_NIGHT = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)  # 21:00 Wednesday in New York
NUMBER = "+12125550142"


@pytest.fixture
def client(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="1000/minute")
    return app.test_client()


@pytest.mark.ivr(THANKSGIVING)
def test_a_caller_on_a_holiday_hears_the_team_is_closed_and_when_it_opens(twilio, runtime, clock):
    clock.set(THURSDAY)
    call = twilio.call()
    call.press("1")  # billing: closed today
    assert "team is closed right now" in call.heard_text()
    assert "Friday" in call.heard_text() and "Press 1 and we will call you back" in call.last_heard
    other = twilio.call()
    other.press("2")  # support is not closed on the billing team's holiday
    assert "closed right now" not in other.heard_text()


@pytest.mark.ivr(THANKSGIVING)
def test_the_button_offers_no_slot_on_a_holiday_and_a_booking_for_it_is_refused(client, runtime, clock):
    clock.set(WEDNESDAY_NIGHT)
    form = client.get("/api/callback-form?skill=billing&timezone=America/New_York").get_json()
    days = {s["date"] for s in form["slots"]}
    assert "2026-11-26" not in days and "2026-11-27" in days
    assert form["open_now"] is False
    refused = client.post("/api/callbacks", json={"phone": NUMBER, "skill": "billing",
                                                  "preferred_time": "2026-11-26T10:00",
                                                  "timezone": "America/New_York"})
    assert refused.status_code == 422 and refused.get_json()["code"] == "closed"
    assert refused.get_json()["field"] == "/preferred_time"


@pytest.mark.ivr(THANKSGIVING)
def test_as_soon_as_possible_before_a_holiday_is_booked_for_the_opening_after_it(client, runtime, clock):
    clock.set(WEDNESDAY_NIGHT)
    body = client.post("/api/callbacks", json={"phone": NUMBER, "skill": "billing"}).get_json()
    assert body["state"] == "scheduled"
    assert body["scheduled_for"] == "2026-11-27T13:00:00Z"  # Friday 08:00 in New York, not Thursday
    link = urlsplit(body["status_url"])
    status = client.get(f"{link.path}?{link.query}").get_json()
    assert status["state"] == "scheduled" and status["scheduled_for"] == "2026-11-27T13:00:00Z"


def test_the_shipped_holidays_close_every_team_or_the_teams_named(runtime):
    skills = runtime.ivr_config.skills
    christmas = datetime(2026, 12, 25, 15, 0, tzinfo=timezone.utc)  # a Friday, 10:00 in New York
    assert not any(hours.is_open(s, christmas) for s in skills.values())
    assert skills["support"].hours.closed[date(2026, 12, 26)] == "Boxing Day"
    assert date(2026, 12, 26) not in skills["billing"].hours.closed


@pytest.mark.parametrize("closed,mistake", [
    ([{"date": "2026-12-25"}], "give the day a name"),
    ([{"date": "25 December", "name": "Christmas"}], "date must be a day"),
    ([{"date": "2026-12-25", "name": "Christmas", "skills": ["astrology"]}], "unknown skill 'astrology'"),
])
def test_a_mistaken_holiday_is_named_at_start(closed, mistake):
    raw = shipped()
    raw["closed"] = closed
    with pytest.raises(ConfigError, match=mistake):
        parse_ivr_config(raw)
