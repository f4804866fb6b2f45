"""Supervisor pages: how fast a change reaches an open page, and what the board and figures cost.

    python bench/supervisor_bench.py --entries 0,200,2000 --samples 20

- live latency: the app on a loopback port (werkzeug, threaded), a signed-in client holding
  /supervisor/stream open; the bench books a callback in the database (as another process would)
  and times until the stream says `change`.
- board: GET /supervisor/board (the HTML the page swaps in on every change) with N open entries
  spread over the skills.
- figures: GET /supervisor/metrics?period=today over the same day's audit trail.
SQLite file, migrated schema, the real app. Prints a markdown table.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from app import create_app  # noqa: E402
from callbacks import services as callbacks  # noqa: E402
from clock import ManualClock  # noqa: E402
from config import Settings  # noqa: E402
from storage.db import transaction  # noqa: E402
from supervisor import auth  # noqa: E402
from tests.support.live_server import serve  # noqa: E402

PASSWORD = "bench password 123"
START = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)


def fill(runtime, clock, n: int, offset: int) -> None:
    skills = list(runtime.ivr_config.skills)
    with transaction(runtime.sessions) as db:
        for i in range(n):
            request = callbacks.CallbackRequest(
                skill=skills[i % len(skills)], phone_number=f"+1212{offset + i:07d}", channel="web",
                language="en-US", arrived_at=clock.now() - timedelta(seconds=n - i), caller_name=f"Customer {i}",
                reason="a question about my bill")
            entry = callbacks.book_callback(db, request, clock.now()).entry
            callbacks.record(db, entry, "wait_announced", now=clock.now(), seconds=240)


def signed_in(base: str) -> requests.Session:
    s = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/supervisor/login").text).group(1)
    r = s.post(base + "/supervisor/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token},
               allow_redirects=False)
    assert r.status_code == 302
    return s


def timed(fn, samples: int) -> tuple[float, float]:
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


def live_latency(base: str, runtime, clock, samples: int) -> tuple[float, float]:
    session = signed_in(base)
    response = session.get(base + "/supervisor/stream", stream=True, timeout=30)
    lines = response.iter_lines(decode_unicode=True)
    seen = threading.Event()
    stop = threading.Event()

    def read():
        try:
            for line in lines:
                if stop.is_set():
                    return
                if line.startswith("event: change"):
                    seen.set()
        except Exception:  # the stream is closed at the end of the run
            return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(1.0)  # past the hello
    times = []
    for i in range(samples):
        seen.clear()
        t = time.perf_counter()
        fill(runtime, clock, 1, 9_000_000 + i)
        if not seen.wait(10):
            raise SystemExit("no change event within 10 s")
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(0.2 + random.random() * 0.5)  # changes at random moments of the 0.5 s poll
    stop.set()
    response.close()
    times.sort()
    return statistics.median(times), times[max(0, int(round(0.95 * len(times))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", default="0,200,2000")
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    sizes = [int(x) for x in args.entries.split(",")]
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            clock = ManualClock(START)
            app = create_app(Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", secret_key="bench"), clock=clock)
            runtime = app.extensions["ivr"]
            with transaction(runtime.sessions) as db:
                auth.create_user(db, "bench", PASSWORD, role="admin", now=clock.now())
            fill(runtime, clock, n, 0)
            with serve(app) as base:
                session = signed_in(base)
                board = timed(lambda: session.get(base + "/supervisor/board").raise_for_status(), args.samples)
                figures = timed(lambda: session.get(base + "/supervisor/metrics?period=today").raise_for_status(),
                                max(3, args.samples // 4))
                latency = live_latency(base, runtime, clock, args.samples)
            runtime.engine.dispose()
        rows.append((n, latency, board, figures))
        print(f"done {n}", file=sys.stderr)
    print("| open entries | change -> stream event p50 | p95 | GET /supervisor/board p50 | p95 | figures (today) p50 | p95 |")
    print("|---|---|---|---|---|---|---|")
    for n, latency, board, figures in rows:
        print(f"| {n} | {latency[0]:.0f} ms | {latency[1]:.0f} ms | {board[0]:.1f} ms | {board[1]:.1f} ms | "
              f"{figures[0]:.0f} ms | {figures[1]:.0f} ms |")


if __name__ == "__main__":
    main()
