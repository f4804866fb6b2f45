"""Failover bench: two scheduler processes on one database, 1,000 callbacks due for as many free agents,
the leader SIGKILLed at 25 % and 60 % of the calls placed. Prints one JSON line: calls placed, doubled,
lost, and per kill the seconds until the standby held the lease and until its first call.

    python bench/failover.py [DATABASE_URL] [CALLBACKS]     # default: a fresh SQLite file, 1000
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from app import create_app  # noqa: E402
from clock import Clock  # noqa: E402
from config import Settings  # noqa: E402
from storage.models import QueueEntry  # noqa: E402
from tests.callbacks.failover_worker import ACCOUNT, AUTH_TOKEN, BASE, run_failover  # noqa: E402
from tests.support import agents_api, ivr_file  # noqa: E402
from tests.callbacks.test_failover import AGENT_LEG, EVERY_DAY  # noqa: E402


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="ivr-failover-"))
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{work / 'ivr.db'}"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    # Agents and callbacks go in through /api/agents and the web button, on an app migrated by create_app.
    os.environ["AGENTS_API_TOKEN"] = agents_api.TOKEN
    # The workers run with every skill open at any hour; so does this app, which takes the bookings.
    raw = ivr_file.shipped()
    ivr_file.calendar(hours=EVERY_DAY)(raw)
    config = ivr_file.write(raw, work / "ivr.toml")
    app = create_app(Settings(database_url=url, ivr_config_path=str(config), public_base_url=BASE,
                              twilio_account_sid=ACCOUNT, twilio_auth_token=AUTH_TOKEN, twilio_number="+15005550006",
                              secret_key="k"), clock=Clock())
    sessions = app.extensions["ivr"].sessions
    result = run_failover(app, url, str(work / "twilio.json"), callbacks=count, timeout=1800)
    dialled = Counter(AGENT_LEG.search(c["url"]).group(1) for c in result["calls"])
    with sessions() as s:
        expected = {e.public_id for e in s.scalars(select(QueueEntry))}
    print(json.dumps({"database": url.split(":")[0], "callbacks": len(expected), "calls": len(result["calls"]),
                      "doubled": sum(1 for n in dialled.values() if n > 1), "lost": len(expected - set(dialled)),
                      "takeovers": result["takeovers"], "seconds": round(result["seconds"], 1)}))


if __name__ == "__main__":
    main()
