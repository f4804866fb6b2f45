"""State changes, the audit trail and the one-open-callback rule."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from callbacks import services
from callbacks.exceptions import TransitionRefused
from storage.models import QueueEntry, QueueEvent


def request(clock, **overrides):
    values = dict(skill="support", phone_number="+12125550142", channel="web", language="en-US",
                  arrived_at=clock.now(), reason="router blinks red")
    values.update(overrides)
    return services.CallbackRequest(**values)


def test_booking_records_the_request_and_a_hashed_token(runtime, clock):
    with runtime.sessions() as s:
        booking = services.book_callback(s, request(clock), clock.now())
        s.commit()
        assert booking.created and booking.entry.state == "queued"
        assert booking.status_token and booking.entry.status_token_hash == services.hash_token(booking.status_token)
        assert booking.status_token not in (booking.entry.status_token_hash or "")
        [event] = booking.entry.events
        assert (event.event, event.state, event.actor) == ("requested", "queued", "customer")


def test_one_open_callback_per_number_and_skill(runtime, clock):
    with runtime.sessions() as s:
        first = services.book_callback(s, request(clock), clock.now())
        again = services.book_callback(s, request(clock, reason="still blinking"), clock.now())
        other_skill = services.book_callback(s, request(clock, skill="billing"), clock.now())
        s.commit()
        assert not again.created and again.entry.id == first.entry.id and again.status_token is None
        assert other_skill.created
        # Once closed, the number may book again.
        services.change_state(s, first.entry, "cancelled", now=clock.now(), actor="customer")
        fresh = services.book_callback(s, request(clock), clock.now())
        s.commit()
        assert fresh.created and fresh.entry.id != first.entry.id


def test_the_database_itself_refuses_a_second_open_callback(runtime, clock):
    # Two processes racing past the lookup both insert: the unique open_key stops the second.
    with runtime.sessions() as a, runtime.sessions() as b:
        services.book_callback(a, request(clock), clock.now())
        a.commit()
        existing = a.scalar(select(QueueEntry))
        raced = QueueEntry(**{c: getattr(existing, c) for c in ("skill", "kind", "channel", "state", "priority",
                                                                 "arrived_at", "language", "context", "attempts",
                                                                 "created_at", "updated_at", "open_key")},
                           public_id="x" * 32)
        b.add(raced)
        with pytest.raises(IntegrityError, match="open_key"):
            b.commit()
        b.rollback()


def test_impossible_moves_are_refused_and_leave_no_trace(runtime, clock):
    with runtime.sessions() as s:
        entry = services.book_callback(s, request(clock), clock.now()).entry
        services.change_state(s, entry, "dialing_customer", now=clock.now())
        services.change_state(s, entry, "connected", now=clock.now())
        services.change_state(s, entry, "completed", now=clock.now() + timedelta(minutes=3))
        with pytest.raises(TransitionRefused):
            services.change_state(s, entry, "queued", now=clock.now())
        s.commit()
        trail = [(e.previous_state, e.state) for e in s.scalars(select(QueueEvent).order_by(QueueEvent.id))]
        assert trail == [(None, "queued"), ("queued", "dialing_customer"), ("dialing_customer", "connected"),
                         ("connected", "completed")]
        assert entry.open_key is None and entry.closed_at is not None and entry.connected_at == clock.now()


def test_converting_a_holder_keeps_its_arrival(runtime, clock):
    with runtime.sessions() as s:
        arrived = clock.now() - timedelta(minutes=5)
        holder = services.enter_line(s, skill="support", call_sid="CA1", phone_number="+12125550142",
                                     language="en-US", arrived_at=arrived, now=clock.now())
        booking = services.convert_to_callback(s, holder, request(clock, channel="phone"), clock.now())
        s.commit()
        assert booking.entry.id == holder.id and booking.entry.arrived_at == arrived
        assert booking.entry.kind == "callback" and booking.entry.state == "queued"
