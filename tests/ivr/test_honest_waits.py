"""The IVR never tells a wait that no staffed agent can meet, tells callbacks as a window with day, date and
zone in the caller's zone, and records every wait it tells: through the signed webhooks (the emulator)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from storage.models import QueueEntry, QueueEvent
from tests.support import agents_api
from tests.support.ivr_file import calendar

DUTCH_LINE = "+31201234567"


def entries(runtime):
    """The callers' entries, not the callback the busy agent is on (agents_api.put_on_a_call)."""
    with runtime.sessions() as s:
        return list(s.scalars(select(QueueEntry).where(QueueEntry.phone_number != agents_api.BUSY_CUSTOMER)
                              .order_by(QueueEntry.id)))


def told(runtime, entry_id):
    with runtime.sessions() as s:
        return [e.detail for e in s.scalars(select(QueueEvent).where(
            QueueEvent.entry_id == entry_id, QueueEvent.event == "wait_announced").order_by(QueueEvent.id))]


@pytest.mark.parametrize("to_number,nobody,offer,window", [
    (None, "Nobody on our billing team can take your call right now.",
     "Press 1 and we will call you back between 08:00 and 08:10 tomorrow, Wednesday 25 November, New York time.",
     "between 08:00 and 08:10"),
    (DUTCH_LINE, "Er is nu niemand van ons team facturen die u kan helpen.",
     # The Dutch line hears Amsterdam time: 08:00 in New York is 14:00 in Amsterdam.
     "Druk 1 en we bellen u terug tussen 14:00 en 14:10 morgen, woensdag 25 november, tijdzone Amsterdam.",
     "tussen 14:00 en 14:10"),
])
def test_nobody_staffed_hears_no_wait_but_when_we_call_back(twilio, runtime, to_number, nobody, offer, window):
    call = twilio.call(**({"to_number": to_number} if to_number else {}))
    call.press("1")
    assert nobody in call.heard_text() and offer in call.last_heard
    assert "about" not in call.heard_text() and "ongeveer" not in call.heard_text()
    call.press("1")  # call me back
    call.press("1")  # on this number
    assert call.ended and window in call.last_heard
    [entry] = entries(runtime)
    assert entry.kind == "callback" and entry.state == "queued"  # keeps its place for the morning
    assert entry.promised_from == datetime(2026, 11, 25, 13, 0, tzinfo=timezone.utc)
    assert told(runtime, entry.id) == []  # no wait was told


def test_every_hold_update_is_recorded(twilio, runtime, clock, busy_agent):
    busy_agent("support")
    call = twilio.call()
    call.press("2")  # support: one busy agent, the wait offer
    call.press("2")  # hold
    for _ in range(2):
        clock.advance(30)
        call.wait()  # the hold Gather times out: Twilio fetches the waitUrl again, a new update is told
    [entry] = entries(runtime)
    updates = told(runtime, entry.id)
    assert len(updates) == 4  # the offer, the first hold announcement and two refreshes
    assert all(u["status"] == "wait" and u["seconds"] > 0 for u in updates)
    assert [u.get("position") for u in updates[1:]] == [1, 1, 1]


def test_a_wait_that_would_pass_closing_is_not_told(twilio, runtime, clock, busy_agent):
    clock.set(datetime(2026, 11, 24, 22, 50, tzinfo=timezone.utc))
    busy_agent("billing")  # on a call that began at 17:50
    clock.set(datetime(2026, 11, 24, 22, 57, tzinfo=timezone.utc))  # 17:57 in New York; billing closes at 18:00
    call = twilio.call()
    call.press("1")
    assert "Nobody on our billing team can take your call before we close today." in call.heard_text()
    assert "The wait is" not in call.heard_text()
    assert "between 08:00 and 08:15 tomorrow, Wednesday 25 November, New York time" in call.last_heard


def test_a_holder_pressing_1_after_closing_hears_tomorrows_window(twilio, runtime, clock, busy_agent):
    clock.set(datetime(2026, 11, 24, 22, 50, tzinfo=timezone.utc))  # 17:50 in New York
    busy_agent("billing")
    call = twilio.call()
    call.press("1")
    assert "The wait is about 4 minutes" in call.last_heard
    call.press("2")  # hold
    clock.set(datetime(2026, 11, 24, 23, 1, tzinfo=timezone.utc))  # closed now, still holding
    call.wait()
    # One agent, this caller first in the morning's line: about 4 minutes after the opening.
    assert ("We cannot reach you before we close. Press 1 and we will call you back between 08:00 and 08:15 "
            "tomorrow, Wednesday 25 November, New York time.") in call.last_heard
    call.press("1")  # while holding: call me back (hold_done -> the callback questions)
    call.press("1")  # this number
    call.press("1")  # as soon as possible
    assert call.ended
    assert "We will call you back between 08:00 and 08:15 tomorrow, Wednesday 25 November, New York time" \
        in call.last_heard
    assert "minute" not in call.last_heard
    [entry] = entries(runtime)
    assert entry.kind == "callback" and entry.promised_by == datetime(2026, 11, 25, 13, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize("to_number,expected", [
    (None, "We open again on Monday 15 March at 08:00, New York time."),
    # New York has moved its clocks (14 March), Amsterdam not yet (28 March): 12:00 UTC is 13:00 there,
    # and it is already Sunday in Amsterdam, so Monday is tomorrow.
    (DUTCH_LINE, "We zijn weer open morgen, maandag 15 maart om 13:00, tijdzone Amsterdam."),
])
def test_after_hours_across_the_dst_change_in_the_listeners_zone(twilio, runtime, clock, to_number, expected):
    clock.set(datetime(2027, 3, 13, 23, 0, tzinfo=timezone.utc))  # Saturday evening in New York, EST
    call = twilio.call(**({"to_number": to_number} if to_number else {}))
    call.press("1")
    assert expected in call.heard_text()
    call.press("1")
    call.press("1")
    [entry] = entries(runtime)
    assert entry.scheduled_for == datetime(2027, 3, 15, 12, 0, tzinfo=timezone.utc)  # 08:00 EDT
    assert entry.promised_from == entry.scheduled_for


def test_a_two_skill_agent_whose_other_line_is_empty_counts_in_full(twilio, runtime, busy_agent):
    busy_agent("billing", "sales")  # on a billing call; nobody waits for sales
    call = twilio.call(from_number="+12125550101")
    call.press("1")  # billing
    # The agent's whole time is billing's: one handle time (240 s assumed), as with a billing-only agent.
    assert "The wait is about 4 minutes" in call.last_heard
    [entry] = entries(runtime)
    assert [t["seconds"] for t in told(runtime, entry.id)] == [240]


def test_a_two_skill_agent_is_shared_with_the_line_that_has_work(twilio, runtime, busy_agent):
    busy_agent("billing", "sales")  # on a billing call
    sales = twilio.call(from_number="+12125550101")
    sales.press("3")  # sales: the agent is all sales' while billing's line is empty
    assert "The wait is about 4 minutes" in sales.last_heard
    sales.press("2")  # hold
    billing = twilio.call(from_number="+12125550102")
    billing.press("1")
    # The sales holder came first and is served first: the billing caller waits two handle times.
    assert "The wait is about 8 minutes" in billing.last_heard
    _sales, billed = entries(runtime)
    assert [t["seconds"] for t in told(runtime, billed.id)] == [480]



SALES_TILL_1030 = calendar(hours={day: "08:00-10:30" for day in ("mon", "tue", "wed", "thu", "fri")},
                           skills=["sales"])


@pytest.mark.ivr(SALES_TILL_1030)
@pytest.mark.parametrize("booked_at, keys, window, wait", [
    # At 10:27 the wait would pass sales' closing: the callback is told tomorrow's opening, and the
    # dispatcher leaves it for then (routing.due.served_while_closed), so tonight the agent is all billing's.
    (datetime(2026, 11, 24, 15, 27, tzinfo=timezone.utc), "11",  # call me back at the opening, this number
     "between 08:00 and 08:15 tomorrow", "The wait is about 4 minutes"),
    # At 10:05 the callback is told a window that begins before closing: the agents still at work serve it
    # after 10:30, in line order, so it shares the agent with billing's caller.
    (datetime(2026, 11, 24, 15, 5, tzinfo=timezone.utc), "111",  # call me back, this number, as soon as possible
     "between 10:05 and 10:25 today", "The wait is about 8 minutes"),
])
def test_a_closed_skills_leftover_callbacks_take_the_agent_only_if_served_before_it_opens(
        twilio, runtime, clock, busy_agent, booked_at, keys, window, wait):
    busy_agent("billing", "sales")  # on a billing call
    clock.set(booked_at)
    sales = twilio.call(from_number="+12125550101")
    sales.press("3")  # sales
    for key in keys:
        sales.press(key)
    assert sales.ended and window in sales.last_heard
    [booked] = entries(runtime)
    assert booked.kind == "callback" and booked.state == "queued"
    clock.set(datetime(2026, 11, 24, 15, 31, tzinfo=timezone.utc))  # 10:31: sales closed, billing open
    billing = twilio.call(from_number="+12125550102")
    billing.press("1")
    assert wait in billing.last_heard
    _sales, billed = entries(runtime)
    assert [t["seconds"] for t in told(runtime, billed.id)] == [int(wait.split()[4]) * 60]



BILLING_FROM_0700 = calendar(hours={day: "07:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")},
                             skills=["billing"])


@pytest.mark.ivr(SALES_TILL_1030, BILLING_FROM_0700)
@pytest.mark.parametrize("billing_at, wait", [
    # 07:21: sales opens in 39 minutes; the billing caller's 4 minutes end long before, so the callback
    # told sales' opening takes none of the agent meanwhile.
    (datetime(2026, 11, 25, 12, 21, tzinfo=timezone.utc), "The wait is about 4 minutes"),
    # 07:50: sales opens at 08:00, within the wait's reach (routing.estimate.OPENING_SOON): the callback told
    # the opening window comes first then (line order) and shares the agent with the billing caller.
    (datetime(2026, 11, 25, 12, 50, tzinfo=timezone.utc), "The wait is about 8 minutes"),
])
def test_a_skill_about_to_open_takes_its_share_of_a_two_skill_agent(
        twilio, runtime, clock, busy_agent, billing_at, wait):
    busy_agent("billing", "sales")  # on a billing call
    clock.set(datetime(2026, 11, 24, 15, 27, tzinfo=timezone.utc))  # 10:27: the wait would pass sales' closing
    sales = twilio.call(from_number="+12125550101")
    sales.press("3")  # sales
    for key in "11":  # call me back at the opening, this number
        sales.press(key)
    assert sales.ended and "between 08:00 and 08:15 tomorrow" in sales.last_heard
    [booked] = entries(runtime)
    assert booked.kind == "callback" and booked.state == "queued"
    clock.set(billing_at)
    billing = twilio.call(from_number="+12125550102")
    billing.press("1")
    assert wait in billing.last_heard
