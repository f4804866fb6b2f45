"""Whole calls, from ring to stored callback, with Twilio's part played by the TwilioDouble."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from routing import queue
from storage.models import Agent, Call, QueueEntry, QueueEvent
from tests.support import agents_api
from tests.support.outbound_legs import Outbound

CALLER = "+12125550142"


def entries(runtime):
    with runtime.sessions() as s:
        return list(s.scalars(select(QueueEntry)
                              .where(QueueEntry.phone_number.not_in((BUSY_CALLER, agents_api.BUSY_CUSTOMER)))
                              .order_by(QueueEntry.id)))


def events(runtime, entry_id):
    with runtime.sessions() as s:
        return [(e.event, e.state) for e in s.scalars(select(QueueEvent).where(QueueEvent.entry_id == entry_id)
                                                      .order_by(QueueEvent.id))]


AGENT = "+12125550100"
BUSY_CALLER = "+12125550199"  # the caller the agent is talking to when a test needs them busy
DIGITS = {"billing": "1", "support": "2", "sales": "3", "general": "0"}


@pytest.fixture
def staff(app, twilio, runtime, monkeypatch):
    """staff(skill): an agent added and set available through /api/agents, as a workforce tool does;
    staff(skill, busy=True): then a caller rings, the dispatcher offers them to the agent, who answers and
    presses 1, so the agent is on that call (the next caller is told a wait). `entries` leaves that caller out."""
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)

    def add(skill: str, busy: bool = False, name: str = "Ann"):
        agent_id = agents_api.add_available(app.test_client(), name, AGENT, [skill])
        if busy:
            caller = twilio.call(from_number=BUSY_CALLER)
            caller.press(DIGITS[skill])
            runtime.extras["dispatcher"].run_once()
            agent = Outbound(twilio).to(AGENT).answer()
            agent.press("1")
            with runtime.sessions() as s:
                assert s.scalar(select(Agent.state).where(Agent.address == AGENT)) == "on_call"
            assert not caller.ended
        return agent_id

    return add


# ---- menu and routing ---------------------------------------------------------------------------

@pytest.mark.parametrize("digit,skill", [("1", "billing"), ("2", "support"), ("3", "sales"), ("0", "general")])
def test_each_digit_routes_to_its_skill(twilio, runtime, clock, digit, skill, staff):
    staff(skill)
    call = twilio.call()
    assert "Press 1 for billing" in call.heard_text()
    call.press(digit)
    [entry] = entries(runtime)
    assert entry.skill == skill and entry.state == "holding" and entry.kind == "holding"
    # A free agent means no wait: straight to hold, no callback offer.
    assert call.queue == skill
    assert "You are number 1 in line" in call.heard_text()
    assert "call you back" in call.last_heard


def test_silence_reprompts_twice_then_routes_to_general(twilio, runtime, clock, staff):
    staff("general")
    call = twilio.call()
    call.wait()
    assert "did not hear anything" in call.heard[-2]
    call.wait()
    assert "did not hear anything" in call.heard[-2]
    assert entries(runtime) == []
    call.wait()
    assert "put you through to an agent" in call.heard_text()
    [entry] = entries(runtime)
    assert entry.skill == "general"


def test_unknown_digit_is_not_understood_and_asked_again(twilio, runtime, clock, staff):
    staff("billing")
    call = twilio.call()
    call.press("7")
    assert "did not get that" in call.heard[-2]
    assert entries(runtime) == []
    call.press("1")
    assert entries(runtime)[0].skill == "billing"


def test_caller_switches_to_dutch(twilio, runtime, clock, staff):
    staff("billing")
    call = twilio.call()
    call.press("9")
    assert "Druk 1 voor facturen" in call.last_heard
    call.press("1")
    assert "U bent nummer 1 in de rij" in call.heard_text()
    assert entries(runtime)[0].language == "nl-NL"


def test_dutch_number_greets_in_dutch(twilio):
    call = twilio.call(to_number="+31201234567")
    assert call.heard[0].startswith("Welkom bij")


# ---- holding ------------------------------------------------------------------------------------

def test_hold_announces_position_and_refreshes_it(twilio, runtime, clock, staff):
    staff("support", busy=True)
    first = twilio.call(from_number="+12125550101")
    first.press("2")
    first.press("2")  # hold rather than a callback
    assert "You are number 1 in line" in first.heard_text()
    clock.advance(seconds=20)
    second = twilio.call(from_number="+12125550102")
    second.press("2")
    second.press("2")
    assert "You are number 2 in line" in second.heard_text()
    assert twilio.queues["support"] == [first.call_sid, second.call_sid]
    # The first caller leaves; on the next refresh the second hears the new place.
    first.hang_up()
    second.take_heard()
    second.wait()  # the hold Gather times out: Twilio fetches the waitUrl again
    assert "You are number 1 in line" in second.heard_text()


def test_wait_offer_uses_estimate_and_threshold(twilio, runtime, clock, staff):
    staff("billing", busy=True)
    # The one agent is on another call and nobody is ahead: one assumed handle time (240 s) > 60 s threshold.
    call = twilio.call()
    call.press("1")
    assert "The wait is about 4 minutes" in call.last_heard
    [entry] = entries(runtime)
    assert entry.announced_wait_seconds == 240


def test_caller_hanging_up_while_holding_is_counted_abandoned(twilio, runtime, clock, staff):
    staff("billing", busy=True)
    call = twilio.call()
    call.press("1")
    call.press("2")
    call.hang_up()
    [entry] = entries(runtime)
    assert entry.state == "abandoned" and entry.closed_at is not None
    assert ("abandoned", "abandoned") in events(runtime, entry.id)
    with runtime.sessions() as s:
        assert s.get(Call, call.call_sid).status == "completed"


def test_caller_hanging_up_at_the_offer_leaves_the_line(twilio, runtime):
    call = twilio.call()
    call.press("1")
    call.hang_up()
    assert entries(runtime)[0].state == "abandoned"


# ---- callbacks ----------------------------------------------------------------------------------

def test_callback_from_the_wait_offer_keeps_arrival_time(twilio, runtime, clock, staff):
    staff("billing", busy=True)
    arrival = clock.now()
    call = twilio.call()
    clock.advance(seconds=15)
    call.press("1")
    call.press("1")  # call me back
    assert "number ending in 0142" in call.last_heard
    call.press("1")  # that number
    assert "as soon as it is your turn" in call.last_heard
    call.press("1")
    # One busy agent, nobody ahead: about 4 minutes, told as a window in the caller's zone, with the date.
    assert ("We will call you back between 10:00 and 10:20 today, Tuesday 24 November, New York time, "
            "on the number ending in 0142") in call.last_heard
    assert call.ended
    [entry] = entries(runtime)
    assert entry.kind == "callback" and entry.state == "queued"
    assert entry.phone_number == CALLER and entry.arrived_at == arrival
    assert [e for e, _ in events(runtime, entry.id)] == ["arrived", "wait_announced", "requested", "window_told",
                                                         "wait_announced"]
    assert (entry.promised_from, entry.promised_by) == (datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc),
                                                        datetime(2026, 11, 24, 15, 20, tzinfo=timezone.utc))
    assert entry.promised_zone == "America/New_York"


def test_callback_from_hold_keeps_the_place_in_line(twilio, runtime, clock, staff):
    staff("sales", busy=True)
    ahead = twilio.call(from_number="+12125550101")
    ahead.press("3")
    ahead.press("2")
    clock.advance(seconds=30)
    caller = twilio.call()
    caller.press("3")
    caller.press("2")
    clock.advance(seconds=30)
    behind = twilio.call(from_number="+12125550103")
    behind.press("3")
    behind.press("2")
    caller.press("1")  # while holding: call me back instead
    assert caller.queue is None and caller.call_sid not in twilio.queues["sales"]
    caller.press("1")
    caller.press("1")
    assert caller.ended
    with runtime.sessions() as s:
        line = queue.line(s, "sales", clock.now())
        assert [e.phone_number for e in line] == ["+12125550101", CALLER, "+12125550103"]
        assert [e.kind for e in line] == ["holding", "callback", "holding"]
        assert queue.position(s, line[1], clock.now()) == 2


def test_callback_to_another_number(twilio, runtime, clock, staff):
    staff("billing", busy=True)
    call = twilio.call()
    call.press("1")
    call.press("1")
    call.press("2")  # another number
    assert "key the number" in call.last_heard
    call.press("13125550199#")
    assert "The number is 3 1 2, 5 5 5, 0 1 9 9" in call.last_heard  # a US number, read nationally
    call.press("1")
    call.press("1")
    assert "ending in 0199" in call.last_heard
    assert entries(runtime)[0].phone_number == "+13125550199"


@pytest.mark.parametrize("keyed,spoken", [
    ("19005550123#", "premium-rate"),
    ("911#", "emergency number"),
    ("12345#", "not a valid phone number"),
    ("1212555014212345#", "not a valid phone number"),
    ("441632960961#", "not a valid phone number"),
    ("0113545511234#", "numbers in that country"),  # Iceland, keyed with the US international prefix
])
def test_unacceptable_numbers_are_refused_and_nothing_is_booked(twilio, runtime, keyed, spoken):
    call = twilio.call()
    call.press("1")
    call.press("1")
    call.press("2")
    call.press(keyed)
    assert spoken in call.heard[-2]
    assert "key the number" in call.last_heard
    [entry] = entries(runtime)
    assert entry.kind == "holding" and entry.phone_number == CALLER


def test_anonymous_caller_is_asked_for_a_number(twilio, runtime):
    call = twilio.call(from_number="anonymous")
    call.press("1")
    call.press("1")
    assert "key the number" in call.last_heard


def test_scheduled_callback_tomorrow_at_a_keyed_time(twilio, runtime, clock, staff):
    staff("billing", busy=True)
    call = twilio.call()
    call.press("1")
    call.press("1")
    call.press("1")
    call.press("2")  # a later time
    call.press("2")  # tomorrow
    call.press("1430")
    assert "We will call you back between 14:30 and 14:45 tomorrow, Wednesday 25 November, New York time" \
        in call.last_heard
    [entry] = entries(runtime)
    assert entry.state == "scheduled"
    # 14:30 in New York on Wednesday 2026-11-25 (EST, UTC-5).
    assert entry.scheduled_for == datetime(2026, 11, 25, 19, 30, tzinfo=timezone.utc)
    assert entry.customer_timezone == "America/New_York"


@pytest.mark.parametrize("day,keyed,spoken", [
    ("1", "0900", "already passed"),
    ("2", "2300", "closed at that time"),
    ("1", "2599", "not a time of day"),
])
def test_unacceptable_times_are_refused(twilio, runtime, clock, day, keyed, spoken, staff):
    staff("billing", busy=True)
    call = twilio.call()
    for digit in ("1", "1", "1", "2", day):
        call.press(digit)
    call.press(keyed)
    assert spoken in call.heard[-2]
    assert "Press 1 for today" in call.last_heard
    assert entries(runtime)[0].state == "holding"


def test_time_skipped_by_daylight_saving_is_refused(twilio, runtime, clock, staff):
    staff("support", busy=True)
    # Saturday 2027-03-13, New York: the clocks jump from 02:00 to 03:00 on Sunday the 14th.
    clock.set(datetime(2027, 3, 13, 15, 0, tzinfo=timezone.utc))
    call = twilio.call()
    for digit in ("2", "1", "1", "2", "2"):  # support, callback, this number, later, tomorrow
        call.press(digit)
    call.press("0230")
    assert "does not exist on that day" in call.heard[-2]
    assert entries(runtime)[0].state == "holding"  # nothing booked


def test_after_hours_offers_a_callback_at_the_next_opening(twilio, runtime, clock):
    # Friday 2026-11-27 19:00 New York: billing closed until Monday 08:00.
    clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc))
    call = twilio.call()
    call.press("1")
    assert "closed right now" in call.heard_text()
    assert "We open again on Monday 30 November at 08:00, New York time." in call.heard_text()
    assert entries(runtime) == []
    call.press("1")
    call.press("1")
    assert "We will call you back between 08:00 and 08:10 on Monday 30 November, New York time" in call.last_heard
    [entry] = entries(runtime)
    assert entry.state == "scheduled"
    assert entry.scheduled_for == datetime(2026, 11, 30, 13, 0, tzinfo=timezone.utc)


def test_after_hours_caller_may_decline(twilio, runtime, clock):
    clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc))
    call = twilio.call()
    call.press("1")
    call.press("2")
    assert "Goodbye" in call.last_heard and call.ended
    assert entries(runtime) == []


def test_second_callback_for_the_same_number_and_skill_is_not_doubled(twilio, runtime, clock, staff):
    staff("billing", busy=True)
    first = twilio.call()
    for digit in ("1", "1", "1", "1"):  # billing, call me back, this number, as soon as possible
        first.press(digit)
    assert first.ended and "We will call you back" in first.last_heard
    call = twilio.call()  # the same number rings again: it hears the callback first, and keeps it
    assert "You already have a callback booked" in call.last_heard
    call.press("1")
    assert call.ended and "Your callback stays booked" in call.heard_text()
    assert [e.state for e in entries(runtime)] == ["queued"]


# ---- Twilio retries ---------------------------------------------------------------------------

def test_a_retried_webhook_gets_the_same_answer_and_changes_nothing(twilio, runtime, clock, staff):
    staff("billing")
    call = twilio.call()
    action = call.pending.action
    call.press("1")
    first_answer = call.documents[-2]
    replay = twilio.post(action, {**call.params(), "Digits": "1"})
    assert replay.get_data(as_text=True) == first_answer
    replay = twilio.post(twilio.base_url + "/voice/incoming", call.params())
    assert replay.get_data(as_text=True) == call.documents[0]
    assert len(entries(runtime)) == 1
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Call)) == 1


# ---- keys only: a language without a speech engine -------------------------------------------------

def test_keypad_only_languages_are_not_asked_to_speak(twilio):
    call = twilio.call()
    assert call.pending is not None and "Tell me" not in call.heard_text()


def test_a_holder_taken_out_of_line_hears_goodbye(twilio, runtime, clock, staff, supervisor):
    staff("billing", busy=True)
    call = twilio.call()
    call.press("1")
    call.press("2")
    [entry] = entries(runtime)
    closed = supervisor.act(entry.public_id, "cancel", entry.version, reason="duplicate caller")  # the page
    assert closed.status_code == 200, closed.get_data(as_text=True)
    call.wait()  # the next hold refresh finds the entry closed: <Leave>, then the Enqueue action
    assert call.last_heard == "Thank you for calling. Goodbye." and call.ended
    assert call.call_sid not in twilio.queues["billing"]
    assert entries(runtime)[0].state == "cancelled"
