"""A dispatcher in its own process, for the restart and two-process tests (not collected by pytest).

python -m tests.callbacks.dispatch_worker DB_URL TWILIO_STATE START_ISO MODE [START_DIR]
MODE: kill-after-create  - claim and place calls; SIGKILL right after Twilio created the first call
      kill-before-create - claim; SIGKILL before calls.create is sent
      loop               - serve until no callback is open: this process's emulator rings every call it
                           places and the parties answer, so the app hears Twilio's signed webhooks
                           (TwiML fetches, AMD verdict, status callbacks) exactly as in production
START_DIR (loop): a start barrier; the worker writes START_DIR/ready-<pid>, then waits for START_DIR/go,
so processes started one after another begin serving together.
Prints one JSON line on a clean exit: {"claimed": [public ids]}.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from app import create_app
from clock import ManualClock
from config import Settings
from storage.models import QueueEntry
from telephony.emulator import Emulator
from telephony.transport import WsgiTransport
from tests.support.outbound_legs import Outbound
from tests.support.twilio_rest import FakeTwilioHttp, client_for

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://ivr.example.com"


def main() -> None:
    db_url, state_path, start, mode = sys.argv[1:5]
    start_dir = Path(sys.argv[5]) if len(sys.argv) > 5 else None
    clock = ManualClock(datetime.fromisoformat(start))
    emulator = None
    if mode == "loop":
        emulator = Emulator(AUTH_TOKEN, PUBLIC_BASE_URL, clock=clock.now, number="+15005550006",
                            state_path=state_path)
        fake = emulator.rest
    else:
        fake = FakeTwilioHttp("AC" + "0" * 32, clock=clock.now, state_path=state_path)
    settings = Settings(database_url=db_url, public_base_url=PUBLIC_BASE_URL,
                        twilio_account_sid="AC" + "0" * 32, twilio_auth_token=AUTH_TOKEN,
                        twilio_number="+15005550006", secret_key="k")
    app = create_app(settings, clock=clock, twilio_client=client_for(fake, AUTH_TOKEN), migrate_schema=False)
    runtime = app.extensions["ivr"]
    dispatcher = runtime.extras["dispatcher"]
    from dataclasses import replace
    dispatcher.settings = replace(dispatcher.settings, calls_per_second=0)
    dispatcher.limiter.interval = 0

    if mode == "kill-after-create":
        fake.on_create.append(lambda call: os.kill(os.getpid(), signal.SIGKILL))
        dispatcher.run_once()
    elif mode == "kill-before-create":
        def die(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        dispatcher.dialer.call_agent = die
        dispatcher.run_once()
    elif mode == "loop":
        emulator.attach(WsgiTransport(app, PUBLIC_BASE_URL))
        if start_dir is not None:
            (start_dir / f"ready-{os.getpid()}").touch()
            while not (start_dir / "go").exists():
                time.sleep(0.005)
        claimed = serve_until_done(dispatcher, runtime, Outbound(emulator, fake))
        emulator.close()
        print(json.dumps({"claimed": claimed}), flush=True)
        return
    raise SystemExit(f"{mode}: the process should have been killed")


def serve_until_done(dispatcher, runtime, outbound, deadline_seconds: float = 90) -> list[str]:
    claimed: list[str] = []
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        try:
            report = dispatcher.run_once()
        except Exception as exc:  # noqa: BLE001 - SQLite busy under contention: try again
            print(f"run_once: {exc!r}", file=sys.stderr)
            continue
        for claim in report.claimed:
            claimed.append(claim.public_id)
            complete(outbound, claim)
        with runtime.sessions() as s:
            open_ = s.scalar(select(func.count()).select_from(QueueEntry).where(
                QueueEntry.state.in_(("queued", "dialing_agent", "dialing_customer", "connected"))))
        if not open_:
            break
        if not report.claimed:
            time.sleep(0.01)
    return claimed


def complete(outbound, claim) -> None:
    """Everyone answers: the agent accepts with 1, a human picks up (AMD says so), the customer hangs up
    and the conference ends the agent's leg; each step reaches the app as Twilio's signed webhook."""
    calls = outbound.rest.calls
    agent_sid = next(c["sid"] for c in reversed(calls) if f"/agent/{claim.public_id}/{claim.leg}/" in (c["url"] or ""))
    agent = outbound.leg(agent_sid).answer()
    agent.press("1")
    calls = outbound.rest.calls
    customer_sid = next(c["sid"] for c in reversed(calls)
                        if f"/customer/{claim.public_id}/{claim.leg}/" in (c["url"] or ""))
    customer = outbound.leg(customer_sid).answer()
    customer.amd("human")
    customer.hang_up()
    assert agent.ended, agent.describe_wait()


if __name__ == "__main__":
    main()
