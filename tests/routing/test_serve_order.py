"""The order free agents serve a line in (routing/due.serve_key), through the real paths: holders ring the IVR
through the signed webhooks, the slot is booked on the web button's API, agents come on through /api/agents,
the dispatcher runs on the injected clock. A callback booked for a slot is dialled at its slot, ahead of
holders who were waiting before it was even booked; after it the line goes on in arrival order."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from storage.models import QueueEntry

ANN, BOB, CAROL = "+14155550101", "+14155550102", "+14155550103"
CUSTOMER = "+12125550143"
HOLDERS = ("+12125550151", "+12125550152")
SLOT = datetime(2026, 11, 24, 15, 30, tzinfo=timezone.utc)  # 10:30 in New York, billing open


def hold_for_billing(twilio, runtime, number: str) -> str:
    caller = twilio.call(from_number=number)
    caller.press("1")  # billing
    assert "Press 2 to hold" in caller.last_heard, caller.heard_text()  # staffed, nobody free: a wait
    caller.press("2")
    with runtime.sessions() as s:
        return s.scalar(select(QueueEntry.public_id).where(QueueEntry.call_sid == caller.call_sid))


def test_a_slot_is_dialled_at_its_time_ahead_of_holders_who_came_first(
        dispatcher, twilio, outbound, add_agent, book, entry_of, clock, runtime):
    add_agent("Ann", ANN, state="on_call")  # billing is staffed, its only agent busy for the whole test
    holders = [hold_for_billing(twilio, runtime, number) for number in HOLDERS]
    clock.advance(60)
    slot = book(CUSTOMER, scheduled_for=SLOT)
    assert entry_of(slot).state == "scheduled" and entry_of(slot).arrived_at > entry_of(holders[-1]).arrived_at
    clock.set(SLOT - timedelta(seconds=90))
    assert dispatcher.run_once().claimed == []  # nobody free; the slot is not due yet

    # Thirty seconds before the slot, one agent comes on: the slot is due (the early window), so it is hers,
    # though both holders have waited half an hour and came before it was booked.
    clock.set(SLOT - timedelta(seconds=30))
    add_agent("Bob", BOB)
    assert [c.public_id for c in dispatcher.run_once().claimed] == [slot]
    assert entry_of(slot).state == "dialing_agent"
    assert outbound.to(BOB).ring().record["status_callback"].endswith(f"/outbound/agent/{slot}/1/status")
    assert [(entry_of(h).state, entry_of(h).agent_id) for h in holders] == [("holding", None)] * 2

    # The next agent takes the line in arrival order again: the first holder.
    clock.advance(20)
    carol = add_agent("Carol", CAROL)
    assert [c.public_id for c in dispatcher.run_once().claimed] == [holders[0]]
    assert entry_of(holders[0]).agent_id == carol and entry_of(holders[1]).agent_id is None
