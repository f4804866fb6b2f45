"""Waking the dispatcher from another process: on PostgreSQL a web process's wake-up reaches
the scheduler through NOTIFY, so an agent a supervisor makes available is offered a callback at once,
not at the next sweep (here an hour away). On SQLite the wake-up says nobody could be told, and the
sweep is the way (polling)."""
from __future__ import annotations

from dataclasses import replace
from datetime import time

from callbacks.dialing import Dialer, OutboundLinks
from callbacks.dispatcher import DispatchSettings, Dispatcher
from callbacks.scheduler import SWEEP_JOB, DispatcherService
from clock import Clock
from tests.conftest import PUBLIC_BASE_URL
from tests.supervisor.conftest import PASSWORD, Signed
from tests.support.waiting import wait_for


def test_a_supervisor_makes_an_agent_available_and_the_scheduler_elsewhere_is_woken(
        app, runtime, twilio_rest, add_agent, book, entry_of, make_dispatcher):
    from supervisor import auth
    from storage.db import transaction

    wall = Clock()
    always_open = {day: (time(0, 0), time(23, 59, 59)) for day in range(7)}
    config = replace(runtime.ivr_config, skills={
        name: replace(skill, hours=always_open) for name, skill in runtime.ivr_config.skills.items()})
    make_dispatcher()  # the web process's dispatcher: no scheduler runs beside it
    # The scheduler's process: its own dispatcher on the same database, sweeping only once an hour.
    scheduler_side = Dispatcher(runtime.sessions, wall, config,
                                Dialer(runtime.twilio, "+15005550006", OutboundLinks(PUBLIC_BASE_URL), wall),
                                DispatchSettings(calls_per_second=0, early_window_seconds=0))
    agent_id = add_agent("Ann", "+14155550101", state="offline")
    pid = book("+12125550170")
    service = DispatcherService(scheduler_side, runtime.engine, holder="scheduler", lease_ttl=30,
                                sweep_seconds=3600)
    service.start()
    try:
        wait_for(lambda: service.is_leader, "the scheduler to lead")
        postgres = runtime.engine.dialect.name == "postgresql"
        if postgres:
            wait_for(service.listener.listening.is_set, "the wake-up listener to listen")
        # The leader's first pass (its take-over job) has run and let go: it found nobody available.
        wait_for(lambda: service._ticks >= 1 and not service._tick_lock.locked(), "the first pass to be done")
        assert entry_of(pid).state == "queued"

        with transaction(runtime.sessions) as db:
            auth.create_user(db, "sam", PASSWORD, role="supervisor", now=wall.now(), timezone="UTC")
        sam = Signed(app.test_client(), "sam")
        assert sam.post(f"/supervisor/agents/{agent_id}/state", {"state": "available"}).status_code == 200

        if postgres:  # NOTIFY reached the scheduler: the callback is dialled without waiting for the sweep
            wait_for(lambda: entry_of(pid).state == "dialing_agent", "the woken scheduler to dial the agent")
        else:  # SQLite: nobody could be told; the sweep (polling) will find it
            assert runtime.wake_dispatcher() is False
            # Nothing in the scheduler's process was told: no pass has run since the first, and none is due
            # before the hourly sweep (no wake-up job among its jobs).
            assert service._ticks == 1 and entry_of(pid).state == "queued"
            assert [job.id for job in service.scheduler.get_jobs()] == [SWEEP_JOB]
            service.tick()  # the sweep, when it comes, is what finds the available agent
            assert entry_of(pid).state == "dialing_agent"
    finally:
        service.stop()
