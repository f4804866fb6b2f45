"""Line order, positions and the wait estimate, on the real database."""
from datetime import timedelta

import pytest

from callbacks import services
from routing import queue
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


@pytest.mark.parametrize("pos,staffed,free,aht,expected", [
    (1, 2, 1, 300, 0),
    (2, 2, 1, 300, 300),
    (5, 2, 0, 300, 900),
    (3, 0, 0, 240, 720),
])
def test_wait_for_position(pos, staffed, free, aht, expected):
    assert queue.wait_for_position(pos, queue.Staffing(staffed, free), aht) == expected


def test_average_handle_time_from_completed_entries(session, clock):
    assert queue.average_handle_seconds(session, "billing", 240) == 240
    for i, minutes in enumerate((1, 2, 6)):
        e = holder(session, clock, f"CA-{i}")
        services.change_state(session, e, "connected", now=clock.now())
        services.change_state(session, e, "completed", now=clock.now() + timedelta(minutes=minutes))
    assert queue.average_handle_seconds(session, "billing", 240) == 180  # (1+2+6)/3 minutes
    assert queue.average_handle_seconds(session, "sales", 100) == 100


def test_staffing_counts_agents_with_the_skill(session, clock):
    for name, state, skills in [("a", "available", {"billing": 1}), ("b", "on_call", {"billing": 3}),
                                ("c", "offline", {"billing": 1}), ("d", "available", {"sales": 1})]:
        session.add(Agent(name=name, address="client:" + name, skills=skills, state=state,
                          state_changed_at=clock.now(), wrap_up_seconds=0))
    session.flush()
    assert queue.staffing(session, "billing") == queue.Staffing(staffed=2, free=1)
