"""What a recovery asks Twilio after a restart with N callbacks in flight: one list of our number's calls,
against the per-call status fetches it falls back to (and made before). Results go to docs/benchmarks.md,
section "Dispatcher".

    python bench/recovery_requests.py [--inflight 50,200]

Each size, twice on a fresh SQLite database (create_app's migrations): N agents and N callbacks added
through /api/agents and /api/callbacks, one dispatcher pass places the N agent legs on the in-process
emulated REST API (telephony/rest.py, every request checked against Twilio's spec), half of them then end
with no status callback (no-answer), the rest still ring; a new dispatcher (the restart) runs recover().
"list": as shipped; "per call": Twilio refuses the list (a 500), so every call is fetched on its own.
Prints the requests recover() sent and its wall time (in-process: no network, so the time is the app's and
the emulator's work, not Twilio's round trips).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from callbacks.dialing import Dialer, OutboundLinks  # noqa: E402
from callbacks.dispatcher import Dispatcher  # noqa: E402
from clock import ManualClock  # noqa: E402
from config import DispatchSettings, Settings  # noqa: E402
from telephony.rest import RestApi  # noqa: E402
from tests.support import agents_api  # noqa: E402

START = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)  # a Tuesday, every default skill open
ACCOUNT = "AC" + "0" * 32
NUMBER = "+15005550006"


def one(inflight: int, refuse_list: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AGENTS_API_TOKEN"] = agents_api.TOKEN
        clock = ManualClock(START)
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/ivr.sqlite3", public_base_url="https://ivr.example.com",
                                  secret_key="k", twilio_account_sid=ACCOUNT, twilio_auth_token="t",
                                  twilio_number=NUMBER), clock=clock)
        app.config.update(CALLBACK_LIMIT_PER_IP="100000/minute", CALLBACK_LIMIT_PER_NUMBER="100000/minute")
        client = app.test_client()
        for i in range(inflight):
            agents_api.add_available(client, f"A{i}", f"+1415555{i:04d}", ["billing"], wrap_up_seconds=0)
            made = client.post("/api/callbacks", json={"phone": f"+1212555{i:04d}", "skill": "billing"})
            assert made.status_code == 201, made.get_data(as_text=True)
        rest = RestApi(ACCOUNT, clock=clock.now)
        runtime = app.extensions["ivr"]

        def dispatcher() -> Dispatcher:
            dialer = Dialer(rest.client("t"), NUMBER, OutboundLinks("https://ivr.example.com"), clock)
            return Dispatcher(runtime.sessions, clock, runtime.ivr_config, dialer, DispatchSettings(calls_per_second=0))

        assert len(dispatcher().run_once().claimed) == inflight
        for n, call in enumerate(rest.calls):
            rest.set_status(call["sid"], "no-answer" if n % 2 == 0 else "ringing")
        clock.advance(61)
        restarted = dispatcher()
        if refuse_list:
            rest.fail_next("Calls.json", method="GET", status=500)
        before = len(rest.requests)
        began = time.perf_counter()
        touched = restarted.recover()
        took = time.perf_counter() - began
        asked = [(r["method"], r["template"].rsplit("/Accounts/{AccountSid}", 1)[1]) for r in rest.requests[before:]]
        return {"inflight": inflight, "mode": "per call" if refuse_list else "list", "touched": touched,
                "list_requests": asked.count(("GET", "/Calls.json")), "fetches": asked.count(("GET", "/Calls/{Sid}.json")),
                "other": len(asked) - asked.count(("GET", "/Calls.json")) - asked.count(("GET", "/Calls/{Sid}.json")),
                "seconds": round(took, 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inflight", default="50,200")
    args = parser.parse_args()
    for size in (int(n) for n in args.inflight.split(",")):
        for refuse in (False, True):
            print(json.dumps(one(size, refuse)), flush=True)


if __name__ == "__main__":
    main()
