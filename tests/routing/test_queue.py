"""Line order, positions and the wait estimate, on the real database, with the line made the way it is made:
callers ringing the signed voice webhooks and pressing their skill's key, callbacks booked on the web button,
agents through /api/agents (on a call: they answered a call the dispatcher offered), a priority set by a
supervisor on the queue page. The line and the estimate are then read as the IVR reads them."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from routing import estimate, queue
from storage.models import QueueEntry
from tests.support import agents_api
from tests.support.web_button import book_on_the_web

DIGITS = {"billing": "1", "support": "2", "sales": "3"}


@pytest.fixture
def session(runtime):
    with runtime.sessions() as s:
        yield s


@pytest.fixture
def hold(twilio):
    """hold(caller, skill): a caller rings and presses the skill's key; they are in its line, holding."""
    def ring(caller: str, skill: str = "billing"):
        call = twilio.call(from_number=caller)
        call.press(DIGITS[skill])
        assert not call.ended
        return call
    return ring


def entry_of(session, call) -> QueueEntry:
    session.expire_all()
    return session.scalars(select(QueueEntry).where(QueueEntry.call_sid == call.call_sid)).one()


@pytest.fixture
def agents(app, monkeypatch):
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    return app.test_client()


def test_line_is_priority_then_arrival(session, clock, hold, busy_agent, supervisor):
    busy_agent("billing", "sales")  # the callers wait: the one agent is on a call
    other_skill = hold("+12125550120", "sales")
    clock.advance(60)
    early = hold("+12125550121")
    clock.advance(50)
    late = hold("+12125550122")
    clock.advance(10)
    vip = hold("+12125550123")
    assert [e.call_sid for e in queue.line(session, "billing", clock.now())] == [
        early.call_sid, late.call_sid, vip.call_sid]
    entry = entry_of(session, vip)
    assert supervisor.act(entry.public_id, "priority", entry.version, priority="5").status_code == 200
    session.expire_all()
    assert [e.call_sid for e in queue.line(session, "billing", clock.now())] == [
        vip.call_sid, early.call_sid, late.call_sid]
    assert queue.position(session, entry_of(session, late), clock.now()) == 3
    assert queue.position(session, entry_of(session, other_skill), clock.now()) == 1


def test_future_callbacks_are_not_in_line_until_due(app, session, clock, hold, busy_agent, runtime):
    busy_agent("billing")
    now = clock.now()
    booked = book_on_the_web(app.test_client(), runtime.ivr_config, "+12125550142", "billing",
                             scheduled_for=now + timedelta(hours=2))
    h = hold("+12125550130")
    assert queue.position(session, entry_of(session, h), now) == 1
    line = lambda at: [e.public_id for e in queue.line(session, "billing", at)]  # noqa: E731
    assert booked["id"] not in line(now)
    assert booked["id"] in line(now + timedelta(hours=2))


def test_handle_time_is_what_agents_really_spend(session, clock, hold, agents, twilio, runtime):
    from tests.support.outbound_legs import Outbound

    assert estimate.handle_time(session, "billing", 240).mean == 240
    ann_id = agents_api.add_available(agents, "Ann", "+14155550101", ["billing"], wrap_up_seconds=30)
    dispatcher = runtime.extras["dispatcher"]
    for i, minutes in enumerate((1, 2, 6)):
        assert agents_api.state_of(agents, ann_id) == "available"
        caller = hold(f"+1212555014{i}")
        dispatcher.run_once()  # the dispatcher offers the caller to Ann: her phone rings, the whisper plays
        clock.advance(20)
        ann = Outbound(twilio).to("+14155550101").answer()
        ann.press("1")  # she takes the call
        clock.advance(minutes * 60)
        ann.hang_up()
        clock.advance(30)  # her wrap-up, over on the dispatcher's next pass
        dispatcher.run_once()
        assert entry_of(session, caller).state == "completed"
    session.expire_all()
    # ring and whisper (20 s) + talk + wrap-up (Ann's 30 s), not just the talk
    assert estimate.handle_time(session, "billing", 240).mean == 20 + 180 + 30
    assert estimate.handle_time(session, "sales", 100).mean == 100


def test_a_holder_told_now_waits_what_connecting_measured_from_then(session, clock, hold, agents, twilio, runtime):
    """What connecting takes is measured from the wait told ("now": Ann is free) to connected, the
    dispatcher's pick-up included, not from the claim."""
    from tests.support.outbound_legs import Outbound

    agents_api.add_available(agents, "Ann", "+14155550101", ["billing"], wrap_up_seconds=0)
    dispatcher = runtime.extras["dispatcher"]
    for i in range(3):
        caller = hold(f"+1212555017{i}")  # told "now": Ann is free
        clock.advance(5)  # the dispatcher's pass picks the caller up 5 s later
        dispatcher.run_once()
        clock.advance(4)  # Ann answers and takes the call 4 s after that
        ann = Outbound(twilio).to("+14155550101").answer()
        ann.press("1")
        clock.advance(60)
        ann.hang_up()
        dispatcher.run_once()
        assert entry_of(session, caller).state == "completed"
    session.expire_all()
    # Told "now" to connected (9 s), not the claim to connected (4 s).
    assert estimate.handle_time(session, "billing", 240).answer == 9


def test_estimate_counts_callbacks_falling_due_before_the_turn(app, session, clock, hold, busy_agent, runtime):
    config = runtime.ivr_config
    busy_agent("billing")
    clock.advance(10)
    hold("+12125550150")
    now = clock.now()
    alone = estimate.estimate(session, "billing", now, config=config)
    assert (alone.status, alone.seconds) == ("wait", 480)  # 2 departures of 240 s, one agent
    due = (now + timedelta(seconds=100)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    book_on_the_web(app.test_client(), config, "+12125550142", "billing", scheduled_for=due)
    session.expire_all()
    # Due in under two minutes, long before the new caller's turn, and it arrived first: it is served first.
    assert estimate.estimate(session, "billing", now, config=config).seconds == 720


def test_a_multi_skilled_agent_counts_as_a_share(session, clock, hold, busy_agent, runtime):
    busy_agent("billing", "sales")
    clock.advance(10)
    hold("+12125550160", "sales")
    # The sales line is as long as billing's will be: half the agent's work is billing's.
    assert estimate.estimate(session, "billing", clock.now(), config=runtime.ivr_config).seconds == 480


def test_nobody_staffed_gives_no_wait_but_when_we_call_back(session, clock, agents, runtime):
    agents_api.add(agents, "a", "client:a", ["billing"], state="offline")
    e = estimate.estimate(session, "billing", clock.now(), config=runtime.ivr_config)
    assert e.status == "unstaffed" and not e.announceable and e.seconds is None
    # Tuesday 10:00 in New York; the offline agent is expected at Wednesday's 08:00 opening (13:00 UTC).
    assert e.resume_at.isoformat() == "2026-11-25T13:00:00+00:00"


def test_staffing_counts_agents_with_the_skill(session, agents, busy_agent):
    agents_api.add(agents, "a", "client:a", {"billing": 1}, wrap_up_seconds=0)
    busy_agent("billing", name="b")
    agents_api.add(agents, "c", "client:c", {"billing": 1}, wrap_up_seconds=0, state="offline")
    agents_api.add(agents, "d", "client:d", {"sales": 1}, wrap_up_seconds=0)
    assert queue.staffing(session, "billing") == queue.Staffing(staffed=2, free=1)
