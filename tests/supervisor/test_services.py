"""The steering actions as domain functions: state, line order, audit trail, and version checks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from callbacks import services as callbacks
from callbacks.exceptions import StaleEntry, TransitionRefused
from routing import queue
from storage.db import transaction
from supervisor import services
from tests.supervisor.conftest import book, entry


def run(runtime, action, *args, **kwargs):
    with services.steering(), transaction(runtime.sessions) as db:
        return action(db, *args, **kwargs)


def test_call_now_puts_a_scheduled_callback_at_the_head_of_the_line(app, runtime, clock):
    first = book(app, "+12125550101")
    clock.advance(60)
    tomorrow = datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
    later = book(app, "+12125550102", scheduled_for=tomorrow, customer_timezone="America/New_York")
    e = entry(runtime, later)
    assert e.state == "scheduled"

    run(runtime, services.call_now, later, e.version, actor="sam", now=clock.now())

    e = entry(runtime, later)
    assert e.state == "queued" and e.next_attempt_at == clock.now()
    assert e.priority > entry(runtime, first).priority
    with runtime.sessions() as db:
        assert [x.public_id for x in queue.line(db, "billing", clock.now())] == [later, first]
    last = e.events[-1]
    assert (last.event, last.actor, last.previous_state, last.state) == ("call_now", "sam", "scheduled", "queued")


def test_call_now_on_a_queued_callback_records_it_without_a_state_change(app, runtime, clock):
    pid = book(app)
    run(runtime, services.call_now, pid, entry(runtime, pid).version, actor="sam", now=clock.now())
    e = entry(runtime, pid)
    assert e.state == "queued" and e.events[-1].event == "call_now" and e.events[-1].actor == "sam"


def test_a_stale_version_is_refused_and_changes_nothing(app, runtime, clock):
    pid = book(app)
    shown = entry(runtime, pid).version
    run(runtime, services.add_note, pid, shown, text="called from the shop", actor="kim", now=clock.now())
    with pytest.raises(StaleEntry, match="note by kim"):
        run(runtime, services.cancel, pid, shown, reason="duplicate", actor="sam", now=clock.now())
    e = entry(runtime, pid)
    assert e.state == "queued" and [x.event for x in e.events] == ["requested", "window_told", "note"]


def test_a_second_page_with_the_old_version_gets_a_clear_refusal(app, runtime, clock):
    pid = book(app)
    version = entry(runtime, pid).version
    run(runtime, services.cancel, pid, version, reason="customer called in", actor="sam", now=clock.now())
    with pytest.raises(StaleEntry, match=r"changed since your page showed it \(cancelled by sam"):
        run(runtime, services.set_priority, pid, version, priority=5, actor="kim", now=clock.now())


def test_two_supervisors_who_read_the_same_version_cannot_both_write(app, runtime, clock):
    pid = book(app)
    version = entry(runtime, pid).version
    first, second = runtime.sessions(), runtime.sessions()
    try:
        # kim's request has passed its version check (services.load) and is about to write...
        seen = services.load(second, pid, version)
        # ...when sam's cancel lands
        services.cancel(first, pid, version, reason="customer called in", actor="sam", now=clock.now())
        first.commit()
        with pytest.raises(StaleEntry, match="at the same moment"):
            with services.steering():
                seen.priority = 5
                callbacks.record(second, seen, "priority", now=clock.now(), actor="kim")
                second.commit()
    finally:
        second.rollback()
        first.close()
        second.close()
    e = entry(runtime, pid)
    assert e.state == "cancelled" and e.priority == 0
    assert [(x.event, x.actor) for x in e.events] == [("requested", "customer"), ("window_told", "system"),
                                                      ("cancelled", "sam")]


def test_reschedule_checks_the_time_against_the_skills_hours(app, runtime, clock):
    pid = book(app)
    e = entry(runtime, pid)
    with pytest.raises(services.SteeringRefused, match="already passed"):
        run(runtime, services.reschedule, pid, e.version, when=clock.now() - timedelta(hours=1), actor="sam",
            now=clock.now(), config=runtime.ivr_config)
    sunday = datetime(2026, 11, 29, 15, 0, tzinfo=timezone.utc)  # billing is closed on Sundays
    with pytest.raises(services.SteeringRefused, match="cannot reschedule"):
        run(runtime, services.reschedule, pid, e.version, when=sunday, actor="sam", now=clock.now(),
            config=runtime.ivr_config)
    when = datetime(2026, 11, 25, 14, 30, tzinfo=timezone.utc)
    run(runtime, services.reschedule, pid, e.version, when=when, actor="sam", now=clock.now(),
        config=runtime.ivr_config)
    e = entry(runtime, pid)
    assert (e.state, e.scheduled_for, e.next_attempt_at) == ("scheduled", when, when)
    assert e.events[-1].event == "rescheduled" and e.events[-1].detail["scheduled_for"] == when.isoformat()


def test_cancel_needs_a_reason_and_an_open_entry(app, runtime, clock):
    pid = book(app)
    version = entry(runtime, pid).version
    with pytest.raises(services.SteeringRefused, match="say why"):
        run(runtime, services.cancel, pid, version, reason="  ", actor="sam", now=clock.now())
    run(runtime, services.cancel, pid, version, reason="customer called in", actor="sam", now=clock.now())
    e = entry(runtime, pid)
    assert e.state == "cancelled" and e.open_key is None and e.events[-1].reason == "customer called in"
    with pytest.raises(TransitionRefused, match="already cancelled"):
        run(runtime, services.cancel, pid, e.version, reason="again", actor="sam", now=clock.now())


def test_priority_changes_the_line_order_and_is_bounded(app, runtime, clock):
    a = book(app, "+12125550101")
    clock.advance(10)
    b = book(app, "+12125550102")
    run(runtime, services.set_priority, b, entry(runtime, b).version, priority=3, actor="sam", now=clock.now())
    with runtime.sessions() as db:
        assert [x.public_id for x in queue.line(db, "billing", clock.now())] == [b, a]
    with pytest.raises(services.SteeringRefused, match="whole number"):
        run(runtime, services.set_priority, a, entry(runtime, a).version, priority=500, actor="sam",
            now=clock.now())
    assert entry(runtime, b).events[-1].detail == {"priority_from": 0, "priority_to": 3}


def test_move_keeps_one_open_callback_per_number_and_skill(app, runtime, clock):
    a = book(app, "+12125550101", skill="billing")
    b = book(app, "+12125550101", skill="sales")
    with pytest.raises(TransitionRefused, match="already has an open callback in sales"):
        run(runtime, services.move_skill, a, entry(runtime, a).version, skill="sales", actor="sam",
            now=clock.now(), config=runtime.ivr_config)
    assert entry(runtime, a).skill == "billing"
    run(runtime, services.move_skill, a, entry(runtime, a).version, skill="support", actor="sam", now=clock.now(),
        config=runtime.ivr_config)
    e = entry(runtime, a)
    assert e.skill == "support" and e.open_key == "+12125550101|support"
    assert e.events[-1].detail == {"skill_from": "billing", "skill_to": "support"}
    with pytest.raises(services.SteeringRefused, match="unknown skill"):
        run(runtime, services.move_skill, b, entry(runtime, b).version, skill="nope", actor="sam",
            now=clock.now(), config=runtime.ivr_config)


def test_a_live_holder_can_be_prioritised_but_not_moved_or_rescheduled(runtime, clock):
    with transaction(runtime.sessions) as db:
        holder = callbacks.enter_line(db, skill="billing", call_sid="CA" + "1" * 32, phone_number="+12125550199",
                                      language="en-US", arrived_at=clock.now(), now=clock.now()).public_id
    with pytest.raises(TransitionRefused, match="live caller"):
        run(runtime, services.move_skill, holder, entry(runtime, holder).version, skill="sales", actor="sam",
            now=clock.now(), config=runtime.ivr_config)
    with pytest.raises(TransitionRefused, match="live caller"):
        run(runtime, services.reschedule, holder, entry(runtime, holder).version, when=clock.now(), actor="sam",
            now=clock.now(), config=runtime.ivr_config)
    run(runtime, services.call_now, holder, entry(runtime, holder).version, actor="sam", now=clock.now())
    assert entry(runtime, holder).priority == 1 and entry(runtime, holder).state == "holding"


def test_notes_are_recorded_with_their_author(app, runtime, clock):
    pid = book(app)
    run(runtime, services.add_note, pid, entry(runtime, pid).version, text="  prefers   afternoons ",
        actor="kim", now=clock.now())
    last = entry(runtime, pid).events[-1]
    assert (last.event, last.reason, last.actor) == ("note", "prefers afternoons", "kim")
    with pytest.raises(services.SteeringRefused, match="empty"):
        run(runtime, services.add_note, pid, entry(runtime, pid).version, text=" ", actor="kim", now=clock.now())


def test_a_failed_callback_can_be_retried_with_fresh_attempts(app, runtime, clock, fail):
    pid = book(app)
    fail(pid)
    assert entry(runtime, pid).open_key is None
    clock.advance(300)
    run(runtime, services.retry_failed, pid, entry(runtime, pid).version, actor="sam", now=clock.now())
    e = entry(runtime, pid)
    assert (e.state, e.attempts, e.next_attempt_at, e.open_key) == ("queued", 0, clock.now(), "+12125550100|billing")
    # Three attempts, and one soon inside a window told.
    assert e.events[-1].detail == {"attempts_before": 4} and e.events[-1].actor == "sam"


def test_a_failed_callback_cannot_be_retried_while_the_number_has_another_open_one(app, runtime, clock,
                                                                                    fail):
    pid = book(app)
    fail(pid)
    book(app)  # the customer asked again meanwhile
    with pytest.raises(TransitionRefused, match="another open callback"):
        run(runtime, services.retry_failed, pid, entry(runtime, pid).version, actor="sam", now=clock.now())
    assert entry(runtime, pid).state == "failed"


def test_closing_a_failed_callback_settles_it(app, runtime, clock, fail):
    pid = book(app)
    with pytest.raises(TransitionRefused, match="only a failed callback"):
        run(runtime, services.close_failed, pid, entry(runtime, pid).version, actor="sam", now=clock.now())
    fail(pid)
    run(runtime, services.close_failed, pid, entry(runtime, pid).version, actor="sam", now=clock.now(),
        reason="wrong number")
    e = entry(runtime, pid)
    assert (e.state, e.events[-1].event, e.events[-1].reason) == ("cancelled", "closed", "wrong number")


def test_call_now_wakes_the_dispatcher_when_its_scheduler_runs_here(runtime):
    from callbacks.scheduler import build_dispatcher

    dispatcher = build_dispatcher(runtime)
    runtime.extras["dispatcher"] = dispatcher
    # No scheduler in this process: on SQLite the dispatcher says nobody was told (its sweep will see the
    # change); on PostgreSQL it told the scheduler's process by NOTIFY (tests/callbacks/test_wakeup.py).
    assert runtime.wake_dispatcher() is (runtime.engine.dialect.name == "postgresql")
    woken = []
    dispatcher.on_wake = lambda: woken.append(1)
    assert runtime.wake_dispatcher() is True and woken == [1]