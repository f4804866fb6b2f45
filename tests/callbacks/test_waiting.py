"""The waiting page every requester gets: a phone caller's link arrives in the SMS that confirms their
booking (the dispatcher's pass, sent through the Twilio emulator's Messages API); web and API requesters get
it in the booking answer. On the page: place, window, what they told us; cancel; move to a later slot with
room (routing/slots.py); book again after a cancel. All through the signed webhooks and the public API."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from config import Prompts
from storage.models import QueueEntry, QueueEvent
from tests.support.ivr_file import Edit

CALLER = "+12125550142"
AGENT = "+14155550101"
LINK = re.compile(r"https?://\S+/wait/[0-9a-f]{32}\?token=\S+")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def book_by_phone(twilio, busy_agent):
    busy_agent("billing")  # staffed but busy: the caller is offered a callback
    call = twilio.call(CALLER)
    for digit in ("1", "1", "1", "1"):  # billing, call me back, this number, as soon as possible
        call.press(digit)
    assert call.ended and "We will call you back" in call.last_heard
    return call


def test_a_phone_caller_gets_the_waiting_page_by_sms_and_it_shows_their_callback(
        twilio, busy_agent, dispatcher, twilio_rest, app, runtime):
    dispatcher.dialer.messaging_number = "+15005550007"
    book_by_phone(twilio, busy_agent)
    assert dispatcher.confirm_bookings() == 1
    [text] = [m for m in twilio_rest.messages if m["to"] == CALLER]
    assert "See your place, move or cancel:" in text["body"]
    [link] = LINK.findall(text["body"])
    client = app.test_client()
    page = client.get(path_of(link))
    assert page.status_code == 200 and "Your callback from" in page.get_data(as_text=True)
    public_id = urlsplit(link).path.rsplit("/", 1)[-1]
    status = client.get(f"/api/callbacks/{public_id}?{urlsplit(link).query}").get_json()
    assert status["state"] == "queued" and status["position"] == 1
    assert status["window"]["text"] in text["body"]  # the page tells the window the text told
    # A mistyped token finds nothing and changes nothing.
    assert client.get(f"/wait/{public_id}?token=wrong").status_code == 404
    with runtime.sessions() as s:
        entry = s.scalar(select(QueueEntry).where(QueueEntry.public_id == public_id))
        assert [e.detail.get("waiting_link") for e in entry.events if e.event == "sms_confirmation"] == [True]


def test_no_link_is_texted_without_a_messaging_number(twilio, busy_agent, dispatcher, twilio_rest):
    dispatcher.dialer.messaging_number = None
    book_by_phone(twilio, busy_agent)
    assert dispatcher.confirm_bookings() == 0
    assert twilio_rest.messages == []


def book_web(client, **extra):
    answer = client.post("/api/callbacks", json={"phone": CALLER, "skill": "billing", "channel": "api",
                                                 "reason": "my invoice is wrong", **extra})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_the_booking_answer_carries_the_waiting_page_which_shows_what_they_told_us(app):
    client = app.test_client()
    booked = book_web(client)
    page = client.get(path_of(booked["waiting_url"])).get_data(as_text=True)
    assert "my invoice is wrong" in page and "What you told us" in page


def test_move_to_a_later_slot_with_room_tells_the_new_window(app, runtime, add_agent, clock):
    add_agent("Ann", AGENT, state="on_call")
    client = app.test_client()
    booked = book_web(client)
    token = urlsplit(booked["waiting_url"]).query
    base = f"/api/callbacks/{booked['id']}"
    slots = client.get(f"{base}/slots?{token}").get_json()["slots"]
    assert slots
    told_end = datetime.fromisoformat(booked["window"]["by"].replace("Z", "+00:00"))
    zone = runtime.ivr_config.skills["billing"].timezone
    for slot in slots:  # only later than the window told, with day, date, time and zone in the words
        assert datetime.fromisoformat(slot["value"]).replace(tzinfo=zone) >= told_end
        assert "New York time" in slot["label"]
    pick = slots[2]["value"]
    moved = client.post(f"{base}/move?{token}", json={"slot": pick})
    assert moved.status_code == 200, moved.get_json()
    view = moved.get_json()
    assert view["state"] == "scheduled" and view["scheduled_for_local"] == pick
    assert view["window"]["from_local"] == pick
    # A time not offered is refused, and nothing changes.
    refused = client.post(f"{base}/move?{token}", json={"slot": "2026-11-24T03:00"})
    assert refused.status_code == 409
    assert client.get(f"{base}?{token}").get_json()["scheduled_for_local"] == pick
    with runtime.sessions() as s:
        entry = s.scalar(select(QueueEntry).where(QueueEntry.public_id == booked["id"]))
        events = [e.event for e in s.scalars(select(QueueEvent).where(QueueEvent.entry_id == entry.id))]
    assert events[-2:] == ["rescheduled", "window_told"]


def test_full_slots_are_not_offered_for_a_move(app, runtime, add_agent, clock):
    add_agent("Ann", AGENT, state="on_call")
    client = app.test_client()
    first = client.get("/api/callback-form?skill=billing").get_json()["slots"][2]["value"]
    for n in range(7):  # 1 agent, 240 s a callback, 30-minute slots: 7 fill it
        client.post("/api/callbacks", json={"phone": f"+1212555{160 + n:04d}", "skill": "billing",
                                            "when": "scheduled", "preferred_time": first,
                                            "timezone": "America/New_York"})
    booked = book_web(client)
    token = urlsplit(booked["waiting_url"]).query
    offered = [s["value"] for s in client.get(f"/api/callbacks/{booked['id']}/slots?{token}").get_json()["slots"]]
    assert offered and first not in offered
    refused = client.post(f"/api/callbacks/{booked['id']}/move?{token}", json={"slot": first})
    assert refused.status_code == 409 and refused.get_json()["code"] == "full"
    # The next free times named are slots the page offers (every 30 minutes), after the full one.
    assert refused.get_json()["next_free"] == [slot for slot in offered if slot > first][:3]


def test_after_a_cancel_the_booking_is_offered_again(app):
    client = app.test_client()
    booked = book_web(client)
    token = urlsplit(booked["waiting_url"]).query
    base = f"/api/callbacks/{booked['id']}"
    assert client.post(f"{base}/again?{token}").status_code == 409  # still open: nothing to book again
    assert client.post(f"{base}/cancel?{token}").get_json()["state"] == "cancelled"
    assert client.get(f"{base}/slots?{token}").get_json()["slots"] == []
    again = client.post(f"{base}/again?{token}")
    assert again.status_code == 201
    fresh = again.get_json()
    assert fresh["id"] != booked["id"] and fresh["state"] == "queued" and fresh["waiting_url"]
    assert client.get(path_of(fresh["waiting_url"])).status_code == 200


@pytest.mark.ivr(Edit(lambda raw: raw["defaults"].update(assumed_handle_seconds=2400)))
def test_their_own_booking_does_not_fill_the_slot_they_move_to(app, runtime, add_agent, clock):
    """A callback keeps its agent for a handle time (40 minutes here): the one agent taking the 14:00
    callback is busy until 14:40, so 14:30 is full for anyone else, but not for the customer moving that
    14:00 callback, whose booking goes with them. Someone else's booking still counts."""
    add_agent("Ann", AGENT)
    client = app.test_client()
    booked = book_web(client, when="scheduled", preferred_time="2026-11-25T14:00", timezone="America/New_York")
    other = client.post("/api/callbacks", json={"phone": "+12125550150", "skill": "billing", "when": "scheduled",
                                                "preferred_time": "2026-11-25T15:30", "timezone": "America/New_York"})
    assert other.status_code == 201
    token = urlsplit(booked["waiting_url"]).query
    base = f"/api/callbacks/{booked['id']}"
    offered = [s["value"] for s in client.get(f"{base}/slots?{token}").get_json()["slots"]]
    assert "2026-11-25T14:30" in offered
    assert "2026-11-25T16:00" not in offered  # inside the 15:30 callback's 40 minutes
    refused = client.post(f"{base}/move?{token}", json={"slot": "2026-11-25T16:00"})
    assert refused.status_code == 409 and refused.get_json()["code"] == "full"
    assert refused.get_json()["next_free"][0] == "2026-11-25T16:30"
    moved = client.post(f"{base}/move?{token}", json={"slot": "2026-11-25T14:30"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["window"]["from_local"] == "2026-11-25T14:30"


@pytest.mark.ivr(Edit(lambda raw: [table.pop("waiting_full") for table in raw["prompts"].values()]))
def test_an_ivr_file_from_an_older_release_serves_the_page_with_the_shipped_wording(app, caplog):
    """An operator's own file written before `waiting_full` existed: the page is served (not a 500), the
    missing words come from the shipped file in the customer's language, and start-up named the key."""
    assert any("waiting_full" in r.getMessage() and "shipped wording" in r.getMessage() for r in caplog.get_records("setup"))
    client = app.test_client()
    for phone, language in (("+12125550142", "en-US"), ("+31201234567", "nl-NL")):
        booked = client.post("/api/callbacks", json={"phone": phone, "skill": "billing", "language": language})
        assert booked.status_code == 201, booked.get_json()
        page = client.get(path_of(booked.get_json()["waiting_url"]))
        assert page.status_code == 200
        shipped = Prompts(app.extensions["ivr"].ivr_config, language).table["waiting_full"]
        assert json.dumps(shipped, ensure_ascii=False)[1:-1] in page.get_data(as_text=True)
