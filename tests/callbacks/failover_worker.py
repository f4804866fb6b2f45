"""One scheduler process for the failover test and bench (not collected by pytest).

python -m tests.callbacks.failover_worker DB_URL TWILIO_STATE NAME LEASE_TTL

Runs the leased scheduler (callbacks/scheduler.DispatcherService, as `ivr scheduler` does) on the wall
clock, with every skill open and no calls-per-second limit, dialling through Twilio's REST API whose
records live in TWILIO_STATE (shared by every process, as Twilio's account is). Prints "leader" when it
takes the lease, and exits 0 once no callback is left queued
and every claim has its call.
"""
from __future__ import annotations

import sys
import time as real_time
from dataclasses import replace
from datetime import time

from sqlalchemy import and_, func, or_, select

from app import create_app
from callbacks.dialing import Dialer, OutboundLinks
from callbacks.dispatcher import Dispatcher, DispatchSettings
from callbacks.scheduler import DispatcherService
from clock import Clock
from config import Settings
from storage.models import QueueEntry
from telephony.rest import RestApi

ACCOUNT = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
BASE = "https://ivr.example.com"
ALWAYS_OPEN = {day: (time(0, 0), time(23, 59, 59)) for day in range(7)}


def main() -> None:
    db_url, state_path, name, ttl = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    wall = Clock()
    rest = RestApi(ACCOUNT, clock=wall.now, state_path=state_path)
    settings = Settings(database_url=db_url, public_base_url=BASE, twilio_account_sid=ACCOUNT,
                        twilio_auth_token=AUTH_TOKEN, twilio_number="+15005550006", secret_key="k")
    app = create_app(settings, clock=wall, twilio_client=rest.client(AUTH_TOKEN), migrate_schema=False)
    runtime = app.extensions["ivr"]
    config = replace(runtime.ivr_config, skills={
        n: replace(skill, hours=ALWAYS_OPEN) for n, skill in runtime.ivr_config.skills.items()})
    dispatcher = Dispatcher(runtime.sessions, wall, config, Dialer(runtime.twilio, "+15005550006",
                            OutboundLinks(BASE), wall), DispatchSettings(calls_per_second=0, early_window_seconds=0,
                                                              reconcile_after_seconds=3))
    runtime.extras["dispatcher"] = dispatcher
    # Recovery (claims whose call SID was never stored) every 4 passes, 2 s apart at the sweep's pace.
    service = DispatcherService(dispatcher, runtime.engine, holder=name, lease_ttl=ttl, sweep_seconds=0.5,
                                recover_every=4)
    service.start()
    said = False
    while True:
        if service.is_leader and not said:
            print(f"leader {real_time.time():.3f}", flush=True)
            said = True
        with runtime.sessions() as s:
            # Done when nothing waits and every claim has its call (a claim the killed leader made
            # without placing its call is reconciled with Twilio and put back, then dialled).
            left = s.scalar(select(func.count()).select_from(QueueEntry).where(or_(
                QueueEntry.state == "queued",
                and_(QueueEntry.state == "dialing_agent", QueueEntry.agent_call_sid.is_(None)))))
        if not left:
            service.stop()
            print("done", flush=True)
            return
        real_time.sleep(0.2)


if __name__ == "__main__":
    main()


# ---- the orchestration, for tests/callbacks/test_failover.py and bench/failover.py -------------------

def _start(db_url: str, state_path: str, name: str, ttl: float):
    import subprocess
    import threading

    proc = subprocess.Popen([sys.executable, "-m", "tests.callbacks.failover_worker", db_url, state_path, name,
                             str(ttl)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    proc.lines = []

    def read():
        for line in proc.stdout:
            proc.lines.append(line.split())
    threading.Thread(target=read, daemon=True).start()
    return proc


def _leader_at(proc) -> float | None:
    return next((float(words[1]) for words in list(proc.lines) if words and words[0] == "leader"), None)


def _wait(predicate, seconds: float):
    deadline = real_time.monotonic() + seconds
    while real_time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        real_time.sleep(0.05)
    raise TimeoutError("the failover run did not get there in time")


def run_failover(app, db_url: str, state_path: str, callbacks: int = 1000, kill_at=(0.25, 0.6),
                 ttl: float = 3.0, timeout: float = 600) -> dict:
    """Book `callbacks` callbacks for as many free agents through the requests people send to `app` (an app on
    `db_url`, AGENTS_API_TOKEN set to tests/support/agents_api.TOKEN): each agent added and set available
    through /api/agents, each callback asked for on the web button by its own visitor. Then run two scheduler
    processes, SIGKILL the leader when the given shares of the calls have been created (a new standby starts
    each time), and return what Twilio received and the takeover times."""
    import os
    import signal
    from datetime import datetime

    from tests.support import agents_api
    from tests.support.web_button import book_on_the_web

    client = app.test_client()
    config = app.extensions["ivr"].ivr_config
    for i in range(callbacks):
        agents_api.add_available(client, f"Agent {i:04d}", f"client:agent{i:04d}", ["billing"], wrap_up_seconds=0)
        # A visitor per callback (198.18.0.0/15, the benchmarking range): the per-address limit is not the point.
        book_on_the_web(client, config, f"+3120555{i:04d}", "billing", address=f"198.18.{i // 250}.{i % 250 + 1}")
    rest = RestApi(ACCOUNT, state_path=state_path)
    assert rest.calls == [], "booking dialled nothing: only the scheduler processes place calls"
    started = real_time.monotonic()
    names = iter(("one", "two", "three", "four"))
    leader = _start(db_url, state_path, next(names), ttl)
    _wait(lambda: _leader_at(leader), 60)
    standby = _start(db_url, state_path, next(names), ttl)
    takeovers, procs = [], [leader, standby]
    for share in kill_at:
        _wait(lambda: len(rest.calls) >= share * callbacks, timeout)
        os.kill(leader.pid, signal.SIGKILL)
        killed = real_time.time()
        leader.wait()
        took = _wait(lambda: _leader_at(standby), timeout)
        before = len(rest.calls)
        _wait(lambda: len(rest.calls) > before or len(rest.calls) >= callbacks, timeout)
        first_call = max(datetime.fromisoformat(c["created_at"]).timestamp() for c in rest.calls)
        takeovers.append({"lease_taken_s": round(took - killed, 2),
                          "first_call_s": round(first_call - killed, 2) if first_call > killed else None})
        leader, standby = standby, _start(db_url, state_path, next(names), ttl)
        procs.append(standby)
    _wait(lambda: any(words == ["done"] for words in list(leader.lines)), timeout)
    elapsed = real_time.monotonic() - started
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
    return {"calls": rest.calls, "takeovers": takeovers, "seconds": elapsed}
