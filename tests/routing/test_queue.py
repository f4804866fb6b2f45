"""Line order, positions and the wait estimate, on the real database."""
from datetime import timedelta

import pytest

from callbacks import services
from routing import estimate, queue
from storage.models import Agent


@pytest.fixture
def session(runtime):
    with runtime.sessions() as s:
        yield s


def holder(session, clock, sid, seconds_ago=0, skill="billing"):
    return services.enter_line(session, skill=skill, call_sid=sid, phone_number=None, language="en-US",
                               arrived_at=clock.now() - timedelta(seconds=seconds_ago), now=clock.now())


def test_line_is_priority_then_arrival(session, clock):
    late = holder(session, clock, "CA-late", 10)
    early = holder(session, clock, "CA-early", 60)
    vip = holder(session, clock, "CA-vip", 0)
    vip.priority = 5
    other_skill = holder(session, clock, "CA-sales", 120, skill="sales")
    assert [e.call_sid for e in queue.line(session, "billing", clock.now())] == ["CA-vip", "CA-early", "CA-late"]
    assert queue.position(session, late, clock.now()) == 3
    assert queue.position(session, other_skill, clock.now()) == 1
    assert early is not None


def test_future_callbacks_are_not_in_line_until_due(session, clock):
    now = clock.now()
    booking = services.book_callback(session, services.CallbackRequest(
        skill="billing", phone_number="+12125550142", channel="web", language="en-US", arrived_at=now,
        scheduled_for=now + timedelta(hours=2)), now)
    h = holder(session, clock, "CA-1", 0)
    assert queue.position(session, h, now) == 1
    assert booking.entry not in queue.line(session, "billing", now)
    later = now + timedelta(hours=2)
    assert booking.entry in queue.line(session, "billing", later)


def agent(session, clock, name, state, skills):
    session.add(Agent(name=name, address="client:" + name, skills=skills, state=state,
                      state_changed_at=clock.now(), wrap_up_seconds=30))
    session.flush()


def test_handle_time_is_what_agents_really_spend(session, clock):
    assert estimate.handle_time(session, "billing", 240).mean == 240
    start = clock.now()
    for i, minutes in enumerate((1, 2, 6)):
        e = holder(session, clock, f"CA-{i}")
        services.record(session, e, "agent_offered", now=start)  # the agent's phone rings, the whisper plays
        services.change_state(session, e, "connected", now=start + timedelta(seconds=20))
        services.change_state(session, e, "completed", now=start + timedelta(seconds=20, minutes=minutes))
    # ring and whisper (20 s) + talk + wrap-up (30 s when the agent is not known), not just the talk
    assert estimate.handle_time(session, "billing", 240).mean == 20 + 180 + 30
    assert estimate.handle_time(session, "sales", 100).mean == 100


def test_a_holder_told_now_waits_what_connecting_measured_from_then(session, clock):
    start = clock.now()
    for i in range(3):
        e = holder(session, clock, f"CA-{i}")
        services.record(session, e, "wait_announced", now=start, seconds=4, status="now")
        # The dispatcher's pass picks it up 5 s later; the agent answers 4 s after that.
        services.record(session, e, "agent_offered", now=start + timedelta(seconds=5))
        services.change_state(session, e, "connected", now=start + timedelta(seconds=9))
        services.change_state(session, e, "completed", now=start + timedelta(seconds=69))
    # Told "now" to connected (9 s), not the claim to connected (4 s).
    assert estimate.handle_time(session, "billing", 240).answer == 9


def test_estimate_counts_callbacks_falling_due_before_the_turn(session, clock, runtime):
    config = runtime.ivr_config
    agent(session, clock, "a", "on_call", {"billing": 1})
    now = clock.now()
    holder(session, clock, "CA-1", 10)
    alone = estimate.estimate(session, "billing", now, config=config)
    assert (alone.status, alone.seconds) == ("wait", 480)  # 2 departures of 240 s, one agent
    services.book_callback(session, services.CallbackRequest(
        skill="billing", phone_number="+12125550142", channel="web", language="en-US", arrived_at=now,
        scheduled_for=now + timedelta(seconds=100)), now)
    # Due in 100 s, long before the new caller's turn, and it arrived first: it is served first.
    assert estimate.estimate(session, "billing", now, config=config).seconds == 720


def test_a_multi_skilled_agent_counts_as_a_share(session, clock, runtime):
    config = runtime.ivr_config
    agent(session, clock, "a", "on_call", {"billing": 1, "sales": 1})
    holder(session, clock, "CA-s", 10, skill="sales")
    # The sales line is as long as billing's will be: half the agent's work is billing's.
    assert estimate.estimate(session, "billing", clock.now(), config=config).seconds == 480


def test_nobody_staffed_gives_no_wait_but_when_we_call_back(session, clock, runtime):
    agent(session, clock, "a", "offline", {"billing": 1})
    e = estimate.estimate(session, "billing", clock.now(), config=runtime.ivr_config)
    assert e.status == "unstaffed" and not e.announceable and e.seconds is None
    # Tuesday 10:00 in New York; the offline agent is expected at Wednesday's 08:00 opening (13:00 UTC).
    assert e.resume_at.isoformat() == "2026-11-25T13:00:00+00:00"


def test_staffing_counts_agents_with_the_skill(session, clock):
    for name, state, skills in [("a", "available", {"billing": 1}), ("b", "on_call", {"billing": 3}),
                                ("c", "offline", {"billing": 1}), ("d", "available", {"sales": 1})]:
        session.add(Agent(name=name, address="client:" + name, skills=skills, state=state,
                          state_changed_at=clock.now(), wrap_up_seconds=0))
    session.flush()
    assert queue.staffing(session, "billing") == queue.Staffing(staffed=2, free=1)
