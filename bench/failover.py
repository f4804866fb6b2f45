"""Failover bench: two scheduler processes on one database, 1,000 callbacks due for as many free agents,
the leader SIGKILLed at 25 % and 60 % of the calls placed. Prints one JSON line: calls placed, doubled,
lost, and per kill the seconds until the standby held the lease and until its first call.

    python bench/failover.py [DATABASE_URL] [CALLBACKS]     # default: a fresh SQLite file, 1000
"""
from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from storage.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from storage.models import QueueEntry  # noqa: E402
from tests.callbacks.failover_worker import run_failover  # noqa: E402
from tests.callbacks.test_failover import AGENT_LEG  # noqa: E402


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="ivr-failover-"))
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{work / 'ivr.db'}"
    migrate(url)
    sessions = make_sessionmaker(make_engine(url))
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    result = run_failover(sessions, url, str(work / "twilio.json"), callbacks=count, timeout=1800)
    dialled = Counter(AGENT_LEG.search(c["url"]).group(1) for c in result["calls"])
    with sessions() as s:
        expected = {e.public_id for e in s.scalars(select(QueueEntry))}
    print(json.dumps({"database": url.split(":")[0], "callbacks": len(expected), "calls": len(result["calls"]),
                      "doubled": sum(1 for n in dialled.values() if n > 1), "lost": len(expected - set(dialled)),
                      "takeovers": result["takeovers"], "seconds": round(result["seconds"], 1)}))


if __name__ == "__main__":
    main()
