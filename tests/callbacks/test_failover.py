"""Failover (issue 22): two scheduler processes on one database (PostgreSQL in the PostgreSQL run),
callbacks due for as many free agents (200 here; bench/failover.py runs the 1,000), the leader SIGKILLed twice mid-burst (a new standby starts
after each kill). The standby takes the lease over, and every callback is dialled exactly once,
checked against the requests that reached Twilio's REST API (shared by the processes through a file,
as Twilio's account is). Takeover times: bench/failover.py, docs/benchmarks.md."""
from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select

from storage.models import QueueEntry
from tests.callbacks.failover_worker import run_failover

# Twilio's records are one shared file rewritten per request (quadratic), so the suite runs a fifth of
# the bench's burst: enough for both kills to land mid-burst.
CALLBACKS = 200
AGENT_LEG = re.compile(r"/outbound/agent/([0-9a-f]+)/(\d+)/answer$")


def test_leader_killed_twice_mid_burst_every_callback_dialled_once(runtime, database_url, tmp_path):
    result = run_failover(runtime.sessions, database_url, str(tmp_path / "twilio.json"), callbacks=CALLBACKS)
    dialled = Counter(AGENT_LEG.search(c["url"]).group(1) for c in result["calls"])
    with runtime.sessions() as s:
        entries = s.scalars(select(QueueEntry)).all()
        expected = {e.public_id for e in entries}
        states = Counter(e.state for e in entries)
    assert set(dialled) == expected  # none lost
    assert max(dialled.values()) == 1 and len(result["calls"]) == CALLBACKS  # none doubled
    assert states == {"dialing_agent": CALLBACKS}
    assert len(result["takeovers"]) == 2
    assert all(t["lease_taken_s"] is not None for t in result["takeovers"])
