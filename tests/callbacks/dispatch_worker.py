"""A dispatcher in its own process, for the restart and two-process tests (not collected by pytest).

python -m tests.callbacks.dispatch_worker DB_URL TWILIO_STATE START_ISO MODE
MODE: kill-after-create  - claim and place calls; SIGKILL right after Twilio created the first call
      kill-before-create - claim; SIGKILL before calls.create is sent
      loop               - serve until no callback is open, answering every call it places
                           (through the same dispatcher handlers the webhooks call)
Prints one JSON line on a clean exit: {"claimed": [public ids]}.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import datetime

from sqlalchemy import func, select

from app import create_app
from clock import ManualClock
from config import Settings
from storage.models import QueueEntry
from tests.support.twilio_rest import FakeTwilioHttp, client_for

AUTH_TOKEN = "test-auth-token-0123456789abcdef"


def main() -> None:
    db_url, state_path, start, mode = sys.argv[1:5]
    clock = ManualClock(datetime.fromisoformat(start))
    fake = FakeTwilioHttp("AC" + "0" * 32, clock=clock.now, state_path=state_path)
    settings = Settings(database_url=db_url, public_base_url="https://ivr.example.com",
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
        claimed = serve_until_done(dispatcher, runtime, fake)
        print(json.dumps({"claimed": claimed}), flush=True)
        return
    raise SystemExit(f"{mode}: the process should have been killed")


def serve_until_done(dispatcher, runtime, fake, deadline_seconds: float = 90) -> list[str]:
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
            complete(dispatcher, fake, claim)
        with runtime.sessions() as s:
            open_ = s.scalar(select(func.count()).select_from(QueueEntry).where(
                QueueEntry.state.in_(("queued", "dialing_agent", "dialing_customer", "connected"))))
        if not open_:
            break
        if not report.claimed:
            time.sleep(0.01)
    return claimed


def complete(dispatcher, fake, claim) -> None:
    """Everyone answers: the agent accepts, a human picks up, both hang up (Twilio's callbacks, in order)."""
    agent_sid = next(c["sid"] for c in reversed(fake.calls) if f"/agent/{claim.public_id}/{claim.leg}/" in (c["url"] or ""))
    dispatcher.agent_answer(claim.public_id, claim.leg, agent_sid, "https://ivr.example.com/accept")
    dispatcher.agent_accept(claim.public_id, claim.leg, agent_sid, "1", dispatcher.dialer.links)
    customer_sid = next(c["sid"] for c in reversed(fake.calls)
                        if f"/customer/{claim.public_id}/{claim.leg}/" in (c["url"] or ""))
    dispatcher.customer_answer(claim.public_id, claim.leg, customer_sid)
    dispatcher.customer_amd(claim.public_id, claim.leg, customer_sid, "human")
    fake.set_status(customer_sid, "completed")
    dispatcher.customer_status(claim.public_id, claim.leg, customer_sid, "completed")
    fake.set_status(agent_sid, "completed")
    dispatcher.agent_status(claim.public_id, claim.leg, agent_sid, "completed")


if __name__ == "__main__":
    main()
