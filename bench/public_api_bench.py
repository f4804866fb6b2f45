"""How long a web callback request takes through the real app (WSGI, SQLite file, migrations applied),
with lines of different lengths already waiting: booking (validate, classify, number, book, position,
estimate) and a status read. Run: python bench/public_api_bench.py [--line 0,1000,10000] [--requests 200]

Prints a Markdown table for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from clock import ManualClock  # noqa: E402
from config import Settings  # noqa: E402
from storage.models import QueueEntry  # noqa: E402

OPEN = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)


def fill_line(app, count: int) -> None:
    rt = app.extensions["ivr"]
    with rt.sessions() as s:
        for i in range(count):
            at = OPEN - timedelta(seconds=count - i)
            s.add(QueueEntry(public_id=uuid.uuid4().hex, skill="billing", kind="callback", channel="web",
                             state="queued", priority=0, arrived_at=at, phone_number=f"+1212555{i:04d}"[:12],
                             language="en-US", context={}, attempts=0, created_at=at, updated_at=at,
                             open_key=f"bench{i}|billing"))
        s.commit()


def run(line: int, requests: int) -> tuple[float, float, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", secret_key="bench")
        app = create_app(settings, clock=ManualClock(OPEN))
        app.config.update(CALLBACK_LIMIT_PER_IP="1000000/minute", CALLBACK_LIMIT_PER_NUMBER="1000000/minute",
                          CALLBACK_LIMIT_STATUS_PER_IP="1000000/minute")
        fill_line(app, line)
        client = app.test_client()
        book, read = [], []
        links = []
        for i in range(requests):
            number = f"+1646555{i % 10000:04d}"
            start = time.perf_counter()
            response = client.post("/api/callbacks", json={"phone": number, "reason": "question about my invoice",
                                                           "name": "Bench", "context": {"page_url": "https://x.example/"}})
            book.append(time.perf_counter() - start)
            assert response.status_code == 201, response.get_json()
            links.append(urlsplit(response.get_json()["status_url"]))
        for link in links:
            start = time.perf_counter()
            response = client.get(link.path + "?" + link.query)
            read.append(time.perf_counter() - start)
            assert response.status_code == 200
        app.extensions["ivr"].engine.dispose()
    ms = lambda xs, q: statistics.quantiles(xs, n=100)[q - 1] * 1000  # noqa: E731
    return ms(book, 50), ms(book, 95), ms(read, 50), ms(read, 95)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--line", default="0,1000,10000")
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    print("| entries already in line | POST /api/callbacks p50 | p95 | GET status p50 | p95 |")
    print("|---|---|---|---|---|")
    for line in [int(x) for x in args.line.split(",")]:
        b50, b95, r50, r95 = run(line, args.requests)
        print(f"| {line} | {b50:.1f} ms | {b95:.1f} ms | {r50:.1f} ms | {r95:.1f} ms |", flush=True)


if __name__ == "__main__":
    main()
