"""A holiday in the IVR file ([[closed]]): the dispatcher dials nobody for that team on the day, and the
callback a caller booked the night before is dialled at the opening after it. Through the phone (signed
webhooks), the dispatcher and the emulator, on a ManualClock."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from storage.models import QueueEntry
from tests.support.ivr_file import calendar

AGENT = "+14155550101"
CALLER = "+12125550142"
WEDNESDAY_NIGHT = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)  # 21:00 Wednesday in New York
THANKSGIVING_MORNING = datetime(2026, 11, 26, 15, 0, tzinfo=timezone.utc)  # 10:00 Thursday
FRIDAY_OPENING = datetime(2026, 11, 27, 13, 0, tzinfo=timezone.utc)  # 08:00 Friday


@pytest.mark.ivr(calendar(closed={"2026-11-26": "Thanksgiving"}, skills=["billing"]))
def test_nobody_is_dialled_on_a_holiday_and_the_nights_callback_comes_at_the_next_opening(
        dispatcher, outbound, twilio, add_agent, runtime, clock):
    clock.set(WEDNESDAY_NIGHT)
    call = twilio.call(from_number=CALLER)
    for digit in ("1", "1", "1"):  # billing (closed): call me back, on this number
        call.press(digit)
    assert call.ended and "Friday" in call.heard_text()
    with runtime.sessions() as s:
        entry = s.scalar(select(QueueEntry).where(QueueEntry.phone_number == CALLER))
        assert entry.state == "scheduled" and entry.scheduled_for.isoformat() == "2026-11-27T13:00:00+00:00"

    clock.set(THANKSGIVING_MORNING)
    add_agent("Ann", AGENT)  # someone came in on the holiday: still nobody is dialled for billing
    assert dispatcher.run_once().claimed == []

    clock.set(FRIDAY_OPENING)
    assert [c.public_id for c in dispatcher.run_once().claimed] == [entry.public_id]
    outbound.to(AGENT).answer().press("1")
    outbound.to(CALLER).answer().amd("human")
    with runtime.sessions() as s:
        assert s.scalar(select(QueueEntry.state).where(QueueEntry.public_id == entry.public_id)) == "connected"
