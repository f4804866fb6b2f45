"""Calls-per-second pacing is one budget per Twilio account, shared by every dispatcher on the database
(callbacks/dispatch/pacing.py), and the second leg of a callback spends it too."""
from __future__ import annotations

from datetime import timedelta

AGENTS = ("+14155550101", "+14155550102", "+14155550103")
CUSTOMERS = ("+12125550143", "+12125550144", "+12125550145")


def test_two_dispatchers_on_one_database_share_one_budget(make_dispatcher, outbound, add_agent, book, clock):
    first = make_dispatcher(calls_per_second=1)
    second = make_dispatcher(calls_per_second=1)  # another process's dispatcher: its own objects, same database
    for i, address in enumerate(AGENTS):
        add_agent(f"A{i}", address)
    for i, number in enumerate(CUSTOMERS):
        book(number)
        clock.advance(1)
    assert len(first.run_once().claimed) == 1
    other = second.run_once()
    assert other.claimed == [] and other.rate_limited  # the slot this second went to the first dispatcher
    assert other.next_wake == clock.now() + timedelta(seconds=1)
    clock.advance(1)
    assert len(second.run_once().claimed) == 1
    assert first.run_once().claimed == []
    assert len(outbound.rest.calls) == 2


def test_the_second_leg_spends_the_budget(make_dispatcher, outbound, add_agent, book, clock):
    dispatcher = make_dispatcher(calls_per_second=1)
    add_agent("Ann", AGENTS[0])
    add_agent("Bob", AGENTS[1])
    book(CUSTOMERS[0])
    assert len(dispatcher.run_once().claimed) == 1  # Ann's leg takes the slot of this second
    clock.advance(1)
    agent = outbound.to(AGENTS[0]).answer()
    agent.press("1")  # Twilio's signed webhook: Ann accepts, the customer is rung at once
    assert outbound.count_to(CUSTOMERS[0]) == 1
    book(CUSTOMERS[1])
    later = dispatcher.run_once()
    assert later.claimed == [] and later.rate_limited  # the customer's leg spent this second's slot
    clock.advance(1)
    assert len(dispatcher.run_once().claimed) == 1
