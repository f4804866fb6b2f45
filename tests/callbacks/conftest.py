"""Dispatcher fixtures for the callback tests: a caller holding while the only agent is busy. The dispatcher,
agents, web bookings and Twilio's part for the calls it places are shared (tests/conftest.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import QueueEntry

FROM = "+15005550006"


@pytest.fixture
def hold_while_busy(dispatcher, twilio, add_agent, book, runtime):
    """A caller who chooses to hold for billing while its only agent (Bob) is being offered a callback:
    staffed, not free, so the IVR offers the wait. Returns the caller and their entry's public id."""
    def hold(number: str = "+12125550143", bob: str = "+14155550102", *, has_callback: bool = False):
        add_agent("Bob", bob)
        book("+12125550199")
        assert len(dispatcher.run_once().claimed) == 1
        caller = twilio.call(from_number=number)
        if has_callback:  # a number with a callback still waiting hears it first: "0" asks for its team instead
            assert "You already have a callback booked" in caller.last_heard, caller.heard_text()
            caller.press("0")
        else:
            caller.press("1")  # billing
        assert "Press 2 to hold" in caller.last_heard  # nobody free: the wait is offered first
        caller.press("2")
        with runtime.sessions() as s:
            return caller, s.scalar(select(QueueEntry.public_id).where(QueueEntry.call_sid == caller.call_sid))

    return hold
