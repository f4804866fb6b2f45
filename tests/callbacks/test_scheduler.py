"""The scheduler wiring for real: the lease elects one process, jobs live in the app database, and a
wake-up missed while no process ran is run by the next leader (real BackgroundScheduler, seconds)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import text

from callbacks.dialing import Dialer, OutboundLinks
from callbacks.dispatcher import DispatchSettings, Dispatcher
from callbacks.scheduler import Lease, DispatcherService
from tests.conftest import PUBLIC_BASE_URL
from tests.support.ivr_file import ALWAYS_OPEN, calendar
from tests.support.waiting import wait_for


def test_one_lease_holder_at_a_time(runtime, clock):
    one = Lease(runtime.sessions, clock, "one", ttl_seconds=30)
    two = Lease(runtime.sessions, clock, "two", ttl_seconds=30)
    assert one.acquire() and not two.acquire()
    clock.advance(20)
    assert one.acquire()  # renewed: good for 30 s from now
    clock.advance(29)
    assert not two.acquire()
    clock.advance(2)  # "one" stopped renewing (crashed): its lease ran out
    assert two.acquire() and not one.acquire()
    two.release()
    assert one.acquire()


@pytest.mark.ivr(calendar(hours=ALWAYS_OPEN))
def test_a_wake_up_missed_while_down_runs_once_under_the_next_leader(runtime, twilio_rest, add_agent, book, clock):
    # The dispatcher reads the injected clock: the callback falls due when the test moves that clock, never
    # because the machine was slow. APScheduler itself runs on the wall clock (the wake-up keeps the delta).
    config = runtime.ivr_config

    def dispatcher():
        dialer = Dialer(runtime.twilio, "+15005550006", OutboundLinks(PUBLIC_BASE_URL), clock)
        return Dispatcher(runtime.sessions, clock, config, dialer,
                          DispatchSettings(calls_per_second=0, early_window_seconds=0))

    add_agent("Ann", "+14155550101")
    clock.advance(58)  # 10:00:58: the customer books 10:01 on the web, two seconds ahead
    due = clock.now() + timedelta(seconds=2)
    book("+12125550170", scheduled_for=due)

    first = DispatcherService(dispatcher(), runtime.engine, holder="one", lease_ttl=1.5, sweep_seconds=60)
    first.start()
    wait_for(lambda: first.is_leader, "the first scheduler to lead")

    def jobs():
        with runtime.engine.connect() as conn:
            return dict(conn.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all())

    def wakes():
        return {job for job in jobs() if job.startswith("dispatch-wake:")}

    wait_for(lambda: "dispatch-sweep" in jobs() and wakes(), "the sweep and a wake-up in the app database")
    # The leader dies without a word (no lease release, no job run).
    first._stop.set()
    first._thread.join()
    first.scheduler.shutdown(wait=False)
    first.scheduler = None
    assert twilio_rest.calls == []  # not due on the injected clock, however long the machine took
    left_behind = wakes()

    clock.advance(3)  # the callback's time passes while nobody schedules
    second = DispatcherService(dispatcher(), runtime.engine, holder="two", lease_ttl=1.5, sweep_seconds=60)
    second.start()
    try:
        wait_for(lambda: len(twilio_rest.calls) >= 1, "a call placed")
        wait_for(lambda: not left_behind & wakes(), "the dead leader's wake-ups to fire under \"two\"")
    finally:
        second.stop()  # joins the scheduler: any doubled dial has happened by now
    assert [c["to"] for c in twilio_rest.calls] == ["+14155550101"]


def test_a_wake_up_during_a_pass_runs_another_pass(runtime, clock):
    import threading

    from callbacks.dispatcher import Report

    class SlowDispatcher:
        def __init__(self):
            self.sessions, self.clock = runtime.sessions, clock
            self.passes = 0
            self.inside = threading.Event()
            self.go_on = threading.Event()

        def run_once(self):
            self.passes += 1
            if self.passes == 1:
                self.inside.set()
                assert self.go_on.wait(60)  # the limit only stops a hung test
            return Report()

        def confirm_bookings(self):
            return 0

        def recover(self):
            return 0

    slow = SlowDispatcher()
    service = DispatcherService(slow, runtime.engine, holder="t")
    first = threading.Thread(target=service.tick)
    first.start()
    wait_for(slow.inside.is_set, "the first pass to be under way")
    service.tick()  # e.g. a callback was booked while the pass was reading the line
    assert slow.passes == 1  # that wake-up did not run a pass beside the first: it left it for the first one
    slow.go_on.set()
    first.join(60)  # the limit only stops a hung test
    assert not first.is_alive() and slow.passes == 2
