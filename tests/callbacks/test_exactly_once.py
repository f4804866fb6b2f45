"""Exactly once across crashes and across processes: every callback is dialled once and completes once."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ["+14155550101", "+14155550102", "+14155550103"]


def run_worker(database_url, state_path, clock, mode, timeout=120):
    return subprocess.run([sys.executable, "-m", "tests.callbacks.dispatch_worker", database_url, str(state_path),
                           clock.now().isoformat(), mode], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def twilio_in_a_file(tmp_path, emulator, app):
    """The emulated account keeps its REST records in a file, so processes we kill and restart share it
    (tests/callbacks/dispatch_worker.py opens the same file)."""
    return emulator.share_state(tmp_path / "twilio.json")


def test_sigkill_mid_dial_and_restart_each_callback_completes_once(
        database_url, twilio_in_a_file, runtime, make_dispatcher, add_agent, book, entry_of, clock, twilio):
    from tests.support.outbound_legs import Outbound

    for i, number in enumerate(AGENTS):
        add_agent(f"A{i}", number)
    outbound = Outbound(twilio, twilio_in_a_file)
    # Waiting for its retry: its first call found the customer busy (this process, before the crashes).
    retrying = book("+12125550162")
    assert [c.public_id for c in make_dispatcher().run_once().claimed] == [retrying]
    agent_sid = next(c["sid"] for c in twilio_in_a_file.calls if f"/agent/{retrying}/1/" in (c["url"] or ""))
    outbound.leg(agent_sid).answer().press("1")
    outbound.to("+12125550162").ring_out("busy")
    assert entry_of(retrying).state == "retry_wait"
    placed_before = len(twilio_in_a_file.calls)
    clock.advance(100)
    mid_created = book("+12125550160")               # process dies right after calls.create
    clock.advance(100)
    mid_claimed = book("+12125550161")               # process dies between claim and calls.create
    clock.advance(100)
    scheduled = book("+12125550163", scheduled_for=clock.now() + timedelta(minutes=30))

    state = twilio_in_a_file.state_path
    first = run_worker(database_url, state, clock, "kill-after-create")
    assert first.returncode == -signal.SIGKILL, first.stderr
    second = run_worker(database_url, state, clock, "kill-before-create")
    assert second.returncode == -signal.SIGKILL, second.stderr
    assert entry_of(mid_created).state == "dialing_agent" and entry_of(mid_created).agent_call_sid is None
    assert entry_of(mid_claimed).state == "dialing_agent"
    assert len(twilio_in_a_file.calls) == placed_before + 1  # only the first process reached Twilio

    # Start again (this process): reconcile, then serve everything as time passes.
    dispatcher = make_dispatcher()
    dispatcher.dialer.client = runtime.twilio
    clock.advance(61)
    # One claim released (its call was never placed); the other's call is found at Twilio, still ringing: kept.
    assert dispatcher.recover() == 1
    adopted = entry_of(mid_created)
    assert adopted.agent_call_sid == twilio_in_a_file.calls[placed_before]["sid"]  # found by listing, not dialled again
    assert entry_of(mid_claimed).state == "queued"
    assert entry_of(mid_claimed).events[-1].event == "recovered"

    served: Counter = Counter()

    def serve_all():
        for claim in dispatcher.run_once().claimed:
            served[claim.public_id] += 1
            finish(outbound, claim.public_id, claim.leg, twilio_in_a_file)

    finish(outbound, mid_created, 1, twilio_in_a_file)  # the call the dead process placed goes on normally
    for _ in range(4):
        serve_all()
        clock.advance(minutes=10)
    serve_all()
    for pid in (mid_created, mid_claimed, retrying, scheduled):
        entry = entry_of(pid)
        assert entry.state == "completed", (pid, entry.state, [e.event for e in entry.events])
        assert [e.event for e in entry.events].count("connected") == 1
    customers = Counter(c["to"] for c in twilio_in_a_file.calls if c["machine_detection"])
    # Each customer rung once, but the one who was busy: once more for their retry.
    assert customers == Counter({"+12125550160": 1, "+12125550161": 1, "+12125550162": 2, "+12125550163": 1})
    assert served[mid_created] == 0  # never claimed a second time


def finish(outbound, pid, leg, fake):
    agent_sid = next(c["sid"] for c in fake.calls if f"/agent/{pid}/{leg}/" in (c["url"] or ""))
    agent = outbound.leg(agent_sid).answer()
    agent.press("1")
    customer_sid = next(c["sid"] for c in fake.calls if f"/customer/{pid}/{leg}/" in (c["url"] or ""))
    customer = outbound.leg(customer_sid).answer()
    customer.amd("human")
    customer.hang_up()
    assert agent.ended  # the conference ended with the customer


def test_two_dispatcher_processes_dial_each_callback_once(database_url, twilio_in_a_file, runtime, add_agent, book,
                                                          entry_of, clock, tmp_path):
    """Two dispatcher processes on one database, started together behind a barrier, each answering the
    calls it places through its own emulator's signed webhooks: every callback is claimed by exactly one of
    them, dialled once and completed once. (How the work splits between them depends on the scheduler of
    the machine, so it is not asserted here; bench/two_dispatchers.py measures it.)"""
    for i in range(6):
        add_agent(f"A{i}", f"+1415555020{i}")
    pids = []
    for i in range(30):
        pids.append(book(f"+121255502{i:02d}"))
        clock.advance(1)
    state = twilio_in_a_file.state_path
    start = tmp_path / "start"
    start.mkdir()
    procs = [subprocess.Popen([sys.executable, "-m", "tests.callbacks.dispatch_worker", database_url, str(state),
                               clock.now().isoformat(), "loop", str(start)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    wait_for(lambda: len(list(start.glob("ready-*"))) == 2 or any(p.poll() is not None for p in procs),
             "both workers to reach the start barrier", seconds=120)
    (start / "go").touch()
    outputs = [p.communicate(timeout=180) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-2000:]
    claimed = [json.loads(out.strip().splitlines()[-1])["claimed"] for out, _ in outputs]
    assert sorted(claimed[0] + claimed[1]) == sorted(pids)  # each claimed by exactly one process, once
    customers = Counter(c["to"] for c in twilio_in_a_file.calls if c["machine_detection"])
    assert customers == Counter({f"+121255502{i:02d}": 1 for i in range(30)})
    agents_rung = [c for c in twilio_in_a_file.calls if "/agent/" in (c["url"] or "")]
    assert len(agents_rung) == 30
    for pid in pids:
        entry = entry_of(pid)
        assert entry.state == "completed", (pid, entry.state, [e.event for e in entry.events])
        events = [e.event for e in entry.events]
        assert events.count("dialing_agent") == 1 and events.count("connected") == 1 and entry.attempts == 1
