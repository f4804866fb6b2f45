"""When the dispatcher runs: APScheduler with its job store in the application database, in one process.

APScheduler 3 must not share a job store between processes (jobs would run twice or be missed), so
a lease row (dispatcher_leases) elects one scheduler: a process runs APScheduler only while it holds
the lease, renews it every ttl/3, and another process takes over once it has expired. Jobs carry no
state: they call Dispatcher.run_once(), which reads the truth from the database and claims entries
atomically, so even a job that ran twice (or a second dispatcher without the lease) cannot dial a
callback twice.

Jobs (default job store = SQLAlchemyJobStore on the app database, so they survive a restart):
- "dispatch-sweep": every `sweep_seconds`; coalesced, misfires older than the grace are dropped
  (the next sweep does the same work).
- "dispatch-wake:<time>": a date job at the next moment something becomes due (a scheduled callback's
  time minus the early window, a retry, a wrap-up end, a skill opening). misfire_grace_time=None:
  after a restart a missed wake-up runs at once, and coalescing makes several missed runs one.
On taking the lease the process first reconciles in-flight claims with Twilio (Dispatcher.recover), in
the "dispatch-takeover" job: recovery and passes run in APScheduler's threads, never in the lease thread,
whose only work is renewing the lease (a recovery asking Twilio about a thousand calls once held it past
its expiry, and a second leader took over while the first still dispatched). A pass is not started by a
process that no longer holds the lease.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callbacks.dispatch import wakeup
from clock import Clock
from storage.db import transaction
from storage.models import DispatcherLease

log = logging.getLogger("ivr.scheduler")

LEASE_NAME = "dispatcher"
SWEEP_JOB = "dispatch-sweep"
WAKE_JOB = "dispatch-wake"
TAKEOVER_JOB = "dispatch-takeover"

# The service running in this process; jobs in the store refer to it by the functions below.
_active: "DispatcherService | None" = None


def sweep_job() -> None:
    if _active is not None:
        _active.tick()


def wake_job() -> None:
    if _active is not None:
        _active.tick()


def takeover_job() -> None:
    if _active is not None:
        _active.take_over()


class Lease:
    """A row that says which process schedules; taken over only after it expires."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, holder: str, ttl_seconds: float = 30,
                 name: str = LEASE_NAME):
        self.sessions = sessions
        self.clock = clock
        self.holder = holder
        self.ttl = timedelta(seconds=ttl_seconds)
        self.name = name

    def acquire(self) -> bool:
        """Renew our lease, or take an expired one, or create the row. True when we hold it now."""
        now = self.clock.now()
        try:
            with transaction(self.sessions) as s:
                renewed = s.execute(
                    update(DispatcherLease)
                    .where(DispatcherLease.name == self.name, DispatcherLease.holder == self.holder)
                    .values(expires_at=now + self.ttl)
                ).rowcount
                if renewed:
                    return True
                taken = s.execute(
                    update(DispatcherLease)
                    .where(DispatcherLease.name == self.name, DispatcherLease.expires_at <= now)
                    .values(holder=self.holder, expires_at=now + self.ttl, acquired_at=now)
                ).rowcount
                if taken:
                    log.info("%s took the dispatcher lease", self.holder)
                    return True
                if s.get(DispatcherLease, self.name) is not None:
                    return False
                s.add(DispatcherLease(name=self.name, holder=self.holder, expires_at=now + self.ttl, acquired_at=now))
                s.flush()
                return True
        except (IntegrityError, OperationalError):
            return False  # another process created or holds the row at this very moment

    def release(self) -> None:
        with transaction(self.sessions) as s:
            s.execute(update(DispatcherLease).where(DispatcherLease.name == self.name,
                                                    DispatcherLease.holder == self.holder)
                      .values(expires_at=self.clock.now()))


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class DispatcherService:
    """Lease loop + APScheduler around one Dispatcher."""

    def __init__(self, dispatcher, engine, *, holder: str | None = None, lease_ttl: float = 30,
                 sweep_seconds: float = 5, recover_every: int = 12, wall_clock: Clock | None = None):
        self.dispatcher = dispatcher
        # APScheduler runs on the wall clock, whatever clock the dispatcher reads (a test's ManualClock).
        self.wall_clock = wall_clock or Clock()
        self.engine = engine
        self.lease = Lease(dispatcher.sessions, dispatcher.clock, holder or default_holder(), lease_ttl)
        self.sweep_seconds = sweep_seconds
        self.recover_every = recover_every
        self.scheduler = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticks = 0
        self._tick_lock = threading.Lock()
        self._again = False
        self._recover_next = False
        self.listener: wakeup.Listener | None = None

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def start(self) -> None:
        global _active
        _active = self
        self.dispatcher.on_wake = lambda: self.schedule_wake(self.dispatcher.clock.now())
        self._thread = threading.Thread(target=self._lease_loop, name="dispatcher-lease", daemon=True)
        self._thread.start()
        if wakeup.can_notify(self.engine):  # other processes' wake-ups (PostgreSQL NOTIFY)
            self.listener = wakeup.Listener(self.engine, self.dispatcher.on_wake)
            self.listener.start()

    def stop(self) -> None:
        global _active
        self._stop.set()
        if self.listener is not None:
            self.listener.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._stop_scheduler()
        try:
            self.lease.release()
        except Exception:  # noqa: BLE001 - shutting down: the lease expires anyway
            log.exception("could not release the lease")
        if _active is self:
            _active = None

    def _lease_loop(self) -> None:
        while not self._stop.is_set():
            try:
                leader = self.lease.acquire()
            except Exception:  # noqa: BLE001 - database away: act as if the lease was lost
                log.exception("lease check failed")
                leader = False
            if leader and self.scheduler is None:
                self._start_scheduler()
            elif not leader and self.scheduler is not None:
                log.warning("%s lost the dispatcher lease; stopping its scheduler", self.lease.holder)
                self._stop_scheduler()
            self._stop.wait(self.lease.ttl.total_seconds() / 3)

    def _start_scheduler(self) -> None:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        # APScheduler logs every run at INFO (each sweep); keep its warnings and errors only.
        logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger("apscheduler").level))
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename="apscheduler_jobs")},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=timezone.utc,
        )
        scheduler.start()
        self.scheduler = scheduler
        scheduler.add_job(sweep_job, "interval", seconds=self.sweep_seconds, id=SWEEP_JOB, replace_existing=True,
                          misfire_grace_time=max(1, int(self.sweep_seconds * 2)))
        # Now, in the scheduler's threads: this (lease) thread goes back to renewing the lease at once.
        scheduler.add_job(takeover_job, id=TAKEOVER_JOB, replace_existing=True)

    def take_over(self) -> None:
        """Reconcile in-flight claims with Twilio, then pass (the "dispatch-takeover" job): the recovery is
        the next pass's, under the pass lock, so a sweep meanwhile does not run a second one beside it."""
        self._recover_next = True
        # A wake-up left in the store by the previous leader has already fired (grace None) if it was due.
        self.tick()

    def _stop_scheduler(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)

    def tick(self) -> None:
        """One dispatcher pass, then book the next wake-up. Never runs twice at once in a process."""
        self._again = True  # a wake-up during a pass must not be lost: that pass runs once more
        while self._again and self._may_pass():
            if not self._tick_lock.acquire(blocking=False):
                return  # the running pass sees _again (checked again after it lets go of the lock)
            try:
                while self._again and self._may_pass():
                    self._again = False
                    self._pass()
            finally:
                self._tick_lock.release()

    def _may_pass(self) -> bool:
        """Not once the lease loop has lost the lease (the new leader serves); a service whose lease loop
        was never started (a test driving tick()) always may."""
        return self._thread is None or self.is_leader

    def _pass(self) -> None:
        self._ticks += 1
        try:
            if self._recover_next or self._ticks % self.recover_every == 0:
                self._recover_next = False
                try:
                    self.dispatcher.recover()
                except Exception:  # noqa: BLE001 - Twilio away: the next recovery tries again; pass on
                    log.exception("recovery failed")
            report = self.dispatcher.run_once()
            self.dispatcher.confirm_bookings()
            self.dispatcher.tell_slips()
            self.schedule_wake(report.next_wake)
        except Exception:  # noqa: BLE001 - the next sweep tries again; never kill the scheduler thread
            log.exception("dispatcher pass failed")

    def schedule_wake(self, when: datetime | None) -> None:
        scheduler = self.scheduler
        if scheduler is None or when is None:
            return
        # APScheduler runs on the wall clock; the dispatcher's clock may be a test clock: keep the delta.
        delay = max((when - self.dispatcher.clock.now()).total_seconds(), 0.0)
        run_at = self.wall_clock.now() + timedelta(seconds=delay)
        # One job per wake-up moment, never the id of the job that may be running right now: APScheduler
        # removes a fired date job by id after submitting it, which could delete a replacement with the
        # same id (a lost wake-up). Extra wake-ups only cost an empty pass.
        job_id = f"{WAKE_JOB}:{run_at.timestamp():.3f}"
        scheduler.add_job(wake_job, "date", run_date=run_at, id=job_id, replace_existing=True)


def build_dispatcher(runtime):
    """The Dispatcher for an app's Runtime (Twilio client, public URL, settings from the environment)."""
    from callbacks.dialing import Dialer, OutboundLinks
    from callbacks.dispatcher import DispatchSettings, Dispatcher

    settings = DispatchSettings.from_env()
    base = runtime.settings.public_base_url or f"http://{runtime.settings.host}:{runtime.settings.port}"
    dialer = Dialer(runtime.twilio, runtime.settings.twilio_number, OutboundLinks(base), runtime.clock,
                    messaging_number=runtime.settings.twilio_messaging_number,
                    ring_seconds=settings.agent_ring_seconds)
    return Dispatcher(runtime.sessions, runtime.clock, runtime.ivr_config, dialer, settings)


def start_service(runtime) -> DispatcherService:
    """Run the scheduler around the runtime's dispatcher in this process (once; callbacks/plugin.py
    builds the dispatcher)."""
    if "dispatcher_service" in runtime.extras:
        return runtime.extras["dispatcher_service"]
    service = DispatcherService(runtime.extras["dispatcher"], runtime.engine,
                                sweep_seconds=float(os.environ.get("DISPATCH_SWEEP_SECONDS", 5)))
    service.start()
    runtime.extras["dispatcher_service"] = service
    return service
