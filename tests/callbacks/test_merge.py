"""Merge across channels: when a number is connected by any channel, its other waiting requests are
closed with a note. Through the production paths: web bookings through the public API, the dispatcher
and the IVR driven by the emulator (signed webhooks), a ManualClock."""
from __future__ import annotations

from datetime import timedelta

AGENT = "+14155550101"
CUSTOMER = "+12125550143"


def merged(entry):
    return [e for e in entry.events if e.event == "merged"]


def test_a_holder_who_is_answered_is_not_called_back_later(
        dispatcher, outbound, add_agent, book, entry_of, clock, hold_while_busy):
    tomorrow = clock.now() + timedelta(days=1)
    web = book(CUSTOMER, scheduled_for=tomorrow)  # booked on the web for tomorrow; today they ring in
    caller, holder = hold_while_busy(CUSTOMER, has_callback=True)
    add_agent("Ann", AGENT)
    dispatcher.run_once()
    outbound.to(AGENT).answer().press("1")
    assert entry_of(holder).state == "connected"
    callback = entry_of(web)
    assert callback.state == "cancelled"
    [note] = merged(callback)
    assert note.reason == "served by the phone holding for billing" and note.detail["served_by"] == holder
    assert dispatcher.run_once().claimed == []
    clock.advance(86400)
    assert dispatcher.run_once().claimed == []  # nobody calls them back tomorrow


def test_a_connected_callback_closes_the_same_numbers_other_callbacks_only(
        dispatcher, outbound, add_agent, book, entry_of, clock):
    add_agent("Ann", AGENT)
    first = book(CUSTOMER)
    clock.advance(60)
    other_team = book(CUSTOMER, skill="sales", scheduled_for=clock.now() + timedelta(hours=2))
    someone_else = book("+12125550177", skill="sales", scheduled_for=clock.now() + timedelta(hours=2))
    dispatcher.run_once()
    outbound.to(AGENT).answer().press("1")
    outbound.to(CUSTOMER).answer().amd("human")
    assert entry_of(first).state == "connected"
    assert entry_of(other_team).state == "cancelled" and merged(entry_of(other_team))
    assert entry_of(someone_else).state == "scheduled" and not merged(entry_of(someone_else))
