"""Dispatcher benchmark: lag from "due with a free agent" to "calls.create sent", claims per second, and
process memory as pending callbacks grow. Results go to docs/benchmarks.md, section "Dispatcher".

    python bench/dispatcher_bench.py lag [--pending 100000] [--samples 200]
    python bench/dispatcher_bench.py claims [--pending 100000] [--agents 500]
    python bench/dispatcher_bench.py memory            (1k, 10k, 100k: one fresh process each)
    python bench/dispatcher_bench.py all

lag: the real scheduler (DispatcherService: lease, BackgroundScheduler, SQLAlchemyJobStore on the
SQLite app database), wall clock, `samples` callbacks scheduled to fall due every 0.25 s among
`pending` others booked for later days; one free agent per sample. The lag of a sample is the time
calls.create was sent minus the callback's due time. Twilio is a stub that records the instant of
each create (no network, no spec check: the dispatcher is measured, not the fake).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time as real_time
import uuid
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from callbacks.dialing import Dialer, OutboundLinks  # noqa: E402
from callbacks.dispatcher import Dispatcher  # noqa: E402
from callbacks.scheduler import DispatcherService  # noqa: E402
from clock import Clock  # noqa: E402
from common import rss_mb  # noqa: E402
from config import DispatchSettings, load_ivr_config  # noqa: E402
from storage.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from storage.models import Agent, QueueEntry  # noqa: E402


class StubCalls:
    """Just enough of twilio.rest.Client for the dispatcher: records when each create was sent."""

    def __init__(self):
        self.created: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def create(self, **kwargs):
        sent = real_time.time()
        with self.lock:
            self.created.append((sent, kwargs["url"]))
        return type("Call", (), {"sid": "CA" + uuid.uuid4().hex, "status": "queued"})()

    def list(self, **kwargs):
        return []

    def page(self, **kwargs):
        return StubPage()

    def __call__(self, sid):
        return type("Ctx", (), {"update": lambda self, **kw: None,
                                "fetch": lambda self: type("C", (), {"status": "queued"})()})()


class StubPage(list):
    """An empty page of Twilio's call list (recovery then asks call by call)."""

    def next_page(self):
        return None


class StubClient:
    def __init__(self):
        self.calls = StubCalls()
        self.messages = None


def setup(pending: int, agents: int, *, due_samples: list[datetime] | None = None, queued: bool = False):
    tmp = tempfile.mkdtemp(prefix="dispatch-bench-")
    url = f"sqlite:///{tmp}/bench.sqlite3"
    migrate(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    now = datetime.now(timezone.utc)
    config = load_ivr_config()
    always_open = {day: (time(0, 0), time(23, 59, 59)) for day in range(7)}
    config = replace(config, skills={n: replace(s, hours=always_open) for n, s in config.skills.items()})
    rows = []
    for i in range(pending):
        when = None if queued else now + timedelta(days=2, seconds=i)
        rows.append({
            "public_id": uuid.uuid4().hex, "skill": "billing", "kind": "callback", "channel": "web",
            "state": "queued" if queued else "scheduled", "priority": 0, "arrived_at": now - timedelta(seconds=pending - i),
            "phone_number": f"+1212{i:07d}", "language": "en-US", "context": {}, "attempts": 0,
            "scheduled_for": when, "next_attempt_at": when, "open_key": f"+1212{i:07d}|billing",
            "created_at": now - timedelta(hours=1), "updated_at": now - timedelta(hours=1), "version": 1,
        })
    due_ids = {}
    for j, due in enumerate(due_samples or []):
        due_ids[uuid.uuid4().hex] = due
        rows.append({
            "public_id": list(due_ids)[-1], "skill": "billing", "kind": "callback", "channel": "web",
            "state": "scheduled", "priority": 0, "arrived_at": now - timedelta(days=1, seconds=j),
            "phone_number": f"+1313{j:07d}", "language": "en-US", "context": {}, "attempts": 0,
            "scheduled_for": due, "next_attempt_at": due, "open_key": f"+1313{j:07d}|billing",
            "created_at": now - timedelta(hours=1), "updated_at": now - timedelta(hours=1), "version": 1,
        })
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(QueueEntry), rows[start:start + 5000])
        conn.execute(insert(Agent), [{
            "name": f"agent{k}", "address": f"+1415{k:07d}", "skills": {"billing": 5}, "state": "available",
            "state_changed_at": now, "wrap_up_seconds": 0, "version": 1} for k in range(agents)])
    client = StubClient()
    clock = Clock()
    dialer = Dialer(client, "+15005550006", OutboundLinks("https://ivr.example.com"), clock)
    dispatcher = Dispatcher(sessions, clock, config, dialer,
                            DispatchSettings(calls_per_second=0, early_window_seconds=0, sms=False))
    dispatcher.due_ids = due_ids
    return engine, dispatcher, client


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def bench_lag(pending: int, samples: int) -> dict:
    engine, dispatcher, client = setup(pending, samples)
    service = DispatcherService(dispatcher, engine, holder="bench", lease_ttl=30, sweep_seconds=60)
    service.start()
    while not service.is_leader:
        real_time.sleep(0.05)
    # Book the measured callbacks now (the backlog is already there), due every 0.25 s from 2 s on,
    # and wake the dispatcher as a booking does; from then on only the scheduler's wake-ups run it.
    start = datetime.now(timezone.utc) + timedelta(seconds=2)
    dues = {uuid.uuid4().hex: start + timedelta(seconds=0.25 * i) for i in range(samples)}
    with engine.begin() as conn:
        conn.execute(insert(QueueEntry), [{
            "public_id": pid, "skill": "billing", "kind": "callback", "channel": "web", "state": "scheduled",
            "priority": 0, "arrived_at": due - timedelta(days=1), "phone_number": f"+1313{j:07d}",
            "language": "en-US", "context": {}, "attempts": 0, "scheduled_for": due, "next_attempt_at": due,
            "open_key": f"+1313{j:07d}|billing", "created_at": datetime.now(timezone.utc),
            "updated_at": datetime.now(timezone.utc), "version": 1} for j, (pid, due) in enumerate(dues.items())])
    dispatcher.wake()
    deadline = real_time.time() + 0.25 * samples + 30
    while real_time.time() < deadline and len(client.calls.created) < samples:
        real_time.sleep(0.2)
    service.stop()
    # The agent leg's URL names the entry, so each create is matched to its own callback's due time.
    lags = []
    for sent, url in client.calls.created:
        public_id = url.split("/outbound/agent/", 1)[1].split("/", 1)[0]
        lags.append(sent - dues[public_id].timestamp())
    return {"pending": pending, "samples": len(lags), "p50_s": round(pct(lags, 50), 4),
            "p99_s": round(pct(lags, 99), 4), "max_s": round(max(lags), 4), "rss_mb": round(rss_mb(), 1)}


def bench_claims(pending: int, agents: int) -> dict:
    engine, dispatcher, client = setup(pending, agents, queued=True)
    began = real_time.perf_counter()
    report = dispatcher.run_once()
    spent = real_time.perf_counter() - began
    return {"pending": pending, "agents": agents, "claimed": len(report.claimed),
            "seconds": round(spent, 3), "claims_per_s": round(len(report.claimed) / spent, 1)}


def bench_memory_one(pending: int) -> dict:
    engine, dispatcher, client = setup(pending, 20)
    before = rss_mb()
    passes = []
    for _ in range(30):
        began = real_time.perf_counter()
        dispatcher.run_once()
        dispatcher.recover()
        passes.append(real_time.perf_counter() - began)
    return {"pending": pending, "rss_mb_after_setup": round(before, 1), "rss_mb_after_30_passes": round(rss_mb(), 1),
            "pass_ms_p50": round(1000 * statistics.median(passes), 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["lag", "claims", "memory", "memory-one", "all"])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--agents", type=int, default=500)
    args = parser.parse_args()
    results = {}
    if args.what == "memory-one":
        print(json.dumps(bench_memory_one(args.pending)))
        return
    if args.what in ("lag", "all"):
        results["lag"] = bench_lag(args.pending, args.samples)
        print(json.dumps(results["lag"]), flush=True)
    if args.what in ("claims", "all"):
        results["claims"] = bench_claims(args.pending, args.agents)
        print(json.dumps(results["claims"]), flush=True)
    if args.what in ("memory", "all"):
        for size in (1_000, 10_000, 100_000):
            out = subprocess.run([sys.executable, __file__, "memory-one", "--pending", str(size)],
                                 capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            print(out, flush=True)


if __name__ == "__main__":
    os.environ.setdefault("DISPATCHER", "off")
    main()
