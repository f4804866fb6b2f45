"""A time keyed on the phone that is fully booked (routing/slots.py: as many callbacks as agents can be
free then) is not booked: the caller hears that it is full and the first free time after it, in their
language, and takes it (1) or picks another (2). Calls through the Twilio emulator's signed webhooks;
the full time filled through /api/callbacks; the agent through /api/agents. Clock: Tuesday 24 November
2026, 10:00 in New York."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from storage.models import QueueEntry

NEW_YORK = ZoneInfo("America/New_York")
DUTCH_LINE = "+31201234567"


def fill(app, local: str, zone: str = "America/New_York", number: str = "+12125550160"):
    answer = app.test_client().post("/api/callbacks", json={
        "phone": number, "skill": "billing", "channel": "api", "when": "scheduled", "preferred_time": local,
        "timezone": zone})
    assert answer.status_code == 201, answer.get_json()


def scheduled_local(runtime, zone=NEW_YORK) -> list[tuple[str, str]]:
    with runtime.sessions() as s:
        rows = s.execute(select(QueueEntry.channel, QueueEntry.scheduled_for).where(QueueEntry.scheduled_for.is_not(None))
                         .order_by(QueueEntry.scheduled_for)).all()
    return [(channel, when.astimezone(zone).strftime("%d %H:%M")) for channel, when in rows]


def to_time_step(call):
    """Billing (its one agent busy: the wait offer), call me back, on this number, at a later time, tomorrow."""
    for key in ("1", "1", "1", "2", "2"):  # billing; call me back; this number; a later time; tomorrow
        call.press(key)


def keyed_at_a_full_time(twilio, app, keys: str = "1430", **caller):
    """14:30 tomorrow (New York) filled through the API, then a caller keys `keys` at the time question
    (14:30 itself unless told otherwise)."""
    fill(app, "2026-11-25T14:30")  # one agent: 14:30 tomorrow is full
    call = twilio.call(**caller)
    to_time_step(call)
    call.press(keys)
    return call


@pytest.fixture
def busy_ann(busy_agent):
    """Ann on a call (the dispatcher offered it, she answered): callers hear a wait and the callback offer."""
    return busy_agent("billing", name="Ann", address="+12125550100")


def test_a_full_time_keyed_is_refused_and_the_first_free_one_offered(twilio, app, runtime, clock, busy_ann):
    call = keyed_at_a_full_time(twilio, app)
    assert not call.ended
    assert call.last_heard == ("Sorry, tomorrow, Wednesday 25 November at 14:30, New York time is fully booked. "
                               "The first free time after it is tomorrow, Wednesday 25 November at 14:35, New York "
                               "time. Shall we call you back then? Press 1 for yes, or 2 to choose another time.")
    assert scheduled_local(runtime) == [("api", "25 14:30")]  # nothing booked yet
    call.press("1")
    assert call.ended
    assert "We will call you back between 14:35 and 14:50 tomorrow, Wednesday 25 November" in call.last_heard
    assert scheduled_local(runtime) == [("api", "25 14:30"), ("phone", "25 14:35")]


def test_two_at_a_full_time_asks_for_another_day_and_time(twilio, app, runtime, clock, busy_ann):
    call = keyed_at_a_full_time(twilio, app)
    call.press("2")  # another time
    assert "Press 1 for today, 2 for tomorrow" in call.last_heard
    call.press("2")
    call.press("1500")
    assert call.ended and "between 15:00 and 15:15 tomorrow" in call.last_heard
    assert scheduled_local(runtime) == [("api", "25 14:30"), ("phone", "25 15:00")]


def test_the_offered_time_taken_meanwhile_offers_the_next(twilio, app, runtime, clock, busy_ann):
    call = keyed_at_a_full_time(twilio, app)
    fill(app, "2026-11-25T14:35", number="+12125550161")  # someone else books 14:35 while the caller listens
    call.press("1")
    assert not call.ended
    assert "The first free time after it is tomorrow, Wednesday 25 November at 14:40" in call.last_heard
    call.press("1")
    assert scheduled_local(runtime)[-1] == ("phone", "25 14:40")


def test_a_dutch_caller_hears_the_full_time_and_the_next_in_dutch(twilio, app, runtime, clock, busy_ann):
    # A Dutch caller on the Dutch line keys as they read a clock, in Amsterdam: 14:30 in New York, full.
    call = keyed_at_a_full_time(twilio, app, "2030", from_number="+31201234599", to_number=DUTCH_LINE)
    assert call.last_heard == ("Sorry, morgen, woensdag 25 november om 20:30, tijdzone Amsterdam is volgeboekt. "
                               "Het eerste vrije tijdstip daarna is morgen, woensdag 25 november om 20:35, tijdzone "
                               "Amsterdam. Zullen we u dan terugbellen? Druk 1 voor ja, of 2 om een ander tijdstip "
                               "te kiezen.")
    call.press("1")
    assert call.ended
    assert scheduled_local(runtime) == [("api", "25 14:30"), ("phone", "25 14:35")]


def test_a_time_with_room_is_booked_as_keyed(twilio, app, runtime, clock, busy_ann):
    call = keyed_at_a_full_time(twilio, app, "1445")  # 15 minutes after a 240 s callback: Ann is free again
    assert call.ended and "between 14:45 and 15:00 tomorrow" in call.last_heard
    assert scheduled_local(runtime)[-1] == ("phone", "25 14:45")


def test_a_returning_caller_who_cancels_may_book_their_own_time_again(twilio, app, runtime, clock, busy_ann):
    """Their callback at 14:30 tomorrow fills it (one agent). They ring again, hear it, cancel it (2), and
    book 14:30 again: their own cancelled booking does not make it full."""
    call = twilio.call()
    to_time_step(call)
    call.press("1430")
    assert call.ended and "between 14:30 and 14:45 tomorrow" in call.last_heard
    again = twilio.call()
    assert "between 14:30 and 14:45 tomorrow" in again.last_heard  # their callback, keep (1) or cancel (2)
    again.press("2")
    to_time_step(again)
    again.press("1430")
    assert again.ended, again.last_heard
    assert "between 14:30 and 14:45 tomorrow" in again.last_heard and "fully booked" not in again.heard_text()
    with runtime.sessions() as s:
        states = s.execute(select(QueueEntry.state, QueueEntry.scheduled_for).where(QueueEntry.channel == "phone")
                           .order_by(QueueEntry.id)).all()
    assert [state for state, _ in states] == ["cancelled", "scheduled"]
    assert states[0].scheduled_for == states[1].scheduled_for
