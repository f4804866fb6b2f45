"""Closing time: callbacks promised for today are served in line order by agents still at work after
closing, before holders who arrived later; callbacks told a window at the next opening wait for it.
Through the phone (signed webhooks), the dispatcher and the emulator, on a ManualClock."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import QueueEntry

AGENT = "+14155550101"
OTHER = "+12125550199"
FIRST = "+12125550142"
LATER = "+12125550143"


def entry_for(runtime, number: str) -> QueueEntry:
    with runtime.sessions() as s:
        entry = s.scalar(select(QueueEntry).where(QueueEntry.phone_number == number))
        s.expunge_all()
        return entry


def test_after_closing_a_callback_promised_today_comes_before_a_later_holder(
        dispatcher, outbound, twilio, add_agent, book, runtime, clock):
    clock.advance(7 * 3600 + 49 * 60)
    add_agent("Bob", AGENT)
    book(OTHER)
    clock.advance(60)  # 17:50 in New York; billing closes at 18:00
    dispatcher.run_once()
    outbound.to(AGENT).answer().press("1")
    conversation = outbound.to(OTHER).answer()
    conversation.amd("human")  # Bob is busy

    first = twilio.call(from_number=FIRST)
    first.press("1")  # billing
    first.press("1")  # call me back
    first.press("1")  # on this number
    first.press("1")  # as soon as possible
    assert "today" in first.last_heard  # told a window tonight, not tomorrow
    callback = entry_for(runtime, FIRST)
    assert callback.state == "queued" and callback.promised_from <= clock.now() + timedelta(minutes=10)

    clock.advance(120)
    later = twilio.call(from_number=LATER)
    later.press("1")
    later.press("2")  # holds
    assert entry_for(runtime, LATER).state == "holding"

    clock.advance(11 * 60)  # 18:03: closed; Bob's conversation ends
    conversation.hang_up()
    report = dispatcher.run_once()
    assert [c.public_id for c in report.claimed] == [callback.public_id]
