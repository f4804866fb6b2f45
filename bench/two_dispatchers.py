"""How two dispatcher processes on one database share the work (a measurement, not a test: the share
depends on the machine's scheduler; tests/callbacks/test_exactly_once.py checks that each callback is
dialled exactly once). Results go to docs/benchmarks.md, section "Dispatcher".

    python bench/two_dispatchers.py [--rounds 3] [--callbacks 30] [--agents 6]

Each round: a fresh SQLite database migrated by create_app, agents and callbacks added through
/api/agents and /api/callbacks, then two `tests.callbacks.dispatch_worker loop` processes released
together behind their start barrier; each answers its own calls through its emulator's signed webhooks.
Prints, per round, how many callbacks each process claimed and the wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app  # noqa: E402
from clock import ManualClock  # noqa: E402
from config import Settings  # noqa: E402
from tests.support import agents_api  # noqa: E402

START = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)  # a Tuesday, every default skill open


def one_round(callbacks: int, agents: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        url = f"sqlite:///{tmp / 'ivr.sqlite3'}"
        os.environ["AGENTS_API_TOKEN"] = agents_api.TOKEN
        app = create_app(Settings(database_url=url, public_base_url="https://ivr.example.com", secret_key="k",
                                  twilio_account_sid="AC" + "0" * 32, twilio_auth_token="test-auth-token",
                                  twilio_number="+15005550006"), clock=ManualClock(START))
        client = app.test_client()
        app.config.update(CALLBACK_LIMIT_PER_IP="100000/minute", CALLBACK_LIMIT_PER_NUMBER="100000/minute")
        for i in range(agents):
            agents_api.add_available(client, f"A{i}", f"+1415555{i:04d}", ["billing"], wrap_up_seconds=0)
        for i in range(callbacks):
            made = client.post("/api/callbacks", json={"phone": f"+1212555{i:04d}", "skill": "billing"})
            assert made.status_code == 201, made.get_data(as_text=True)
        app.extensions["ivr"].engine.dispose()
        start_dir = tmp / "start"
        start_dir.mkdir()
        cmd = [sys.executable, "-m", "tests.callbacks.dispatch_worker", url, str(tmp / "twilio.json"),
               START.isoformat(), "loop", str(start_dir)]
        procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        while len(list(start_dir.glob("ready-*"))) < 2:
            time.sleep(0.01)
        began = time.monotonic()
        (start_dir / "go").touch()
        outs = [p.communicate(timeout=300)[0] for p in procs]
        took = time.monotonic() - began
        claimed = [len(json.loads(out.strip().splitlines()[-1])["claimed"]) for out in outs]
        return {"claimed": claimed, "seconds": round(took, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--callbacks", type=int, default=30)
    parser.add_argument("--agents", type=int, default=6)
    args = parser.parse_args()
    for n in range(args.rounds):
        print(json.dumps({"round": n + 1, **one_round(args.callbacks, args.agents)}), flush=True)


if __name__ == "__main__":
    main()
