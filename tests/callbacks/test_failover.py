"""Failover: two scheduler processes on one database (PostgreSQL in the PostgreSQL run),
callbacks due for as many free agents (200 here, each agent added through /api/agents and each callback
booked on the web button, as people do; bench/failover.py runs the 1,000), the leader SIGKILLed
twice mid-burst (a new standby starts after each kill). The standby takes the lease over, and every
callback is dialled exactly once, checked against the requests that reached Twilio's REST API (shared by
the processes through a file, as Twilio's account is). Then every call goes on to its end through the
signed webhooks Twilio sends (the agent answers and keys 1, the customer is dialled once, answers as a
human, hangs up): each callback completes once. Takeover times: bench/failover.py, docs/benchmarks.md."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from clock import Clock
from storage.models import QueueEntry
from tests.callbacks.failover_worker import run_failover
from tests.callbacks.test_exactly_once import finish, twilio_in_a_file  # noqa: F401 - the fixture
from tests.support import agents_api
from tests.support.ivr_file import calendar
from tests.support.outbound_legs import Outbound

# Twilio's records are one shared file rewritten per request (quadratic), so the suite runs a fifth of
# the bench's burst: enough for both kills to land mid-burst.
CALLBACKS = 200
AGENT_LEG = re.compile(r"/outbound/agent/([0-9a-f]+)/(\d+)/answer$")
# Each callback's trail, in order: booked on the web button (its window told and wait announced on the
# page), claimed, the customer dialled after the agent took it, answered, connected, completed; each step once.
TRAIL = ("requested", "window_told", "wait_announced", "dialing_agent", "dialing_customer", "customer_answered",
         "connected", "completed")


def in_order(events) -> tuple:
    """The trail with a takeover's recoveries folded away: a "recovered" (a claim the killed leader made,
    adopted by its successor or put back in line) and the claim again right after it."""
    kept: list[str] = []
    for event in events:
        if event == "recovered" or (event == "dialing_agent" and kept[-1:] == ["dialing_agent"]):
            continue
        kept.append(event)
    return tuple(kept)
EVERY_DAY = {day: "00:00-23:59" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


# The workers run on the wall clock with every skill open; this app follows the calls on from there.
@pytest.mark.ivr(calendar(hours=EVERY_DAY))
def test_leader_killed_twice_mid_burst_every_callback_dialled_once_and_completed(
        app, runtime, database_url, twilio_in_a_file, twilio, clock, monkeypatch):  # noqa: F811 - the fixture
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    result = run_failover(app, database_url, str(twilio_in_a_file.state_path), callbacks=CALLBACKS)
    legs = {AGENT_LEG.search(c["url"]).groups() for c in result["calls"]}
    dialled = Counter(pid for pid, _leg in legs)
    with runtime.sessions() as s:
        entries = s.scalars(select(QueueEntry)).all()
        expected = {e.public_id: e.phone_number for e in entries}
        states = Counter(e.state for e in entries)
    assert set(dialled) == set(expected)  # none lost
    assert max(dialled.values()) == 1 and len(result["calls"]) == CALLBACKS  # none doubled
    assert states == {"dialing_agent": CALLBACKS}
    assert len(result["takeovers"]) == 2
    assert all(t["lease_taken_s"] is not None for t in result["takeovers"])

    clock.set(Clock().now())
    outbound = Outbound(twilio, twilio_in_a_file)
    for pid, leg in sorted(legs):
        finish(outbound, pid, leg, twilio_in_a_file)
    with runtime.sessions() as s:
        entries = s.scalars(select(QueueEntry)).all()
        assert Counter(e.state for e in entries) == {"completed": CALLBACKS}
        trails = Counter(in_order(ev.event for ev in e.events) for e in entries)
    assert trails == {TRAIL: CALLBACKS}
    customers = Counter(c["to"] for c in twilio_in_a_file.calls if c["machine_detection"])
    assert customers == Counter(expected.values())  # each customer dialled once, after the agent took it
