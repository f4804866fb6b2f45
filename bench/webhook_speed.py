"""Webhook speed side by side: the minimal persisted webhook (bench/minimal_webhook.py) and this app,
each under the same gunicorn set-up (2 workers x 4 threads, gthread), driven by the same load: 64
keep-alive connections sending distinct, signed POST /voice/incoming requests (a new CallSid each).
The client is a small asyncio HTTP/1.1 loop in this process; every request is built and signed before
the clock starts. Servers are measured back to back in each round, so a busy machine shows in both.

    nice -n 10 python3 bench/webhook_speed.py [--rounds 3] [--seconds 10] [--postgres URL]

--postgres adds this app on PostgreSQL (an admin URL as scripts/postgres prints: a fresh database is
made and dropped). Prints one table row per server and round, then the ratios, for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from ops.workers import free_port  # noqa: E402

TOKEN = "bench-auth-token-0123456789abcdef"
NUMBER = "+15005550006"
CONNECTIONS = 64


def signed_requests(port: int, count: int) -> list[bytes]:
    validator = RequestValidator(TOKEN)
    base = f"http://127.0.0.1:{port}"
    out = []
    for i in range(count):
        params = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32,
                  "From": f"+1212555{i % 10000:04d}", "To": NUMBER, "CallStatus": "ringing",
                  "Direction": "inbound", "ApiVersion": "2010-04-01"}
        body = urlencode(params).encode()
        sig = validator.compute_signature(base + "/voice/incoming", params)
        out.append(b"POST /voice/incoming HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   b"Content-Type: application/x-www-form-urlencoded\r\nX-Twilio-Signature: %s\r\n"
                   b"Content-Length: %d\r\n\r\n%s" % (port, sig.encode(), len(body), body))
    return out


async def _connection(port, queue, latencies, failures, deadline):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline and queue:
            raw = queue.pop()
            began = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - began)
            if not head.startswith(b"HTTP/1.1 200"):
                failures.append(head.split(b"\r\n", 1)[0])
            if b"connection: close" in head.lower():
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def _drive(port, requests, seconds):
    latencies, failures = [], []
    began = time.perf_counter()
    await asyncio.gather(*(_connection(port, requests, latencies, failures, began + seconds)
                           for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - began
    return latencies, failures, elapsed


def load(port: int, seconds: float) -> dict:
    asyncio.run(_drive(port, signed_requests(port, 300), 3.0))  # warm-up: imports, caches, connections
    requests = signed_requests(port, int(seconds * 4000))
    latencies, failures, elapsed = asyncio.run(_drive(port, requests, seconds))
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50": q[49] * 1000, "p99": q[98] * 1000,
            "n": len(latencies), "failed": len(failures), "first_failure": failures[:1]}


def serve(app: str, env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", "2", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", app],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        except urllib.error.HTTPError:
            return proc  # it answers (the minimal webhook has no /healthz)
        except OSError:
            time.sleep(0.2)
            continue
        return proc
    proc.kill()
    raise SystemExit(f"{app} did not start")


def measure(name: str, app: str, extra_env: dict, seconds: float) -> dict:
    port = free_port()
    env = dict(os.environ, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_NUMBER=NUMBER,
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", SECRET_KEY="bench", SPEECH_ENABLED="off",
               DISPATCHER="off", **extra_env)
    env.pop("DEV_PHONE", None)
    proc = serve(app, env, port)
    try:
        result = load(port, seconds)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    result["name"] = name
    return result


def postgres_database(admin_url: str):
    from sqlalchemy import create_engine, text

    name = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (scripts/postgres start)")
    args = parser.parse_args()
    print("| round | server | requests/s | p50 ms | p99 ms | failed |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory() as folder:
            rows = [measure("minimal persisted webhook", "bench.minimal_webhook:create_app()",
                            {"MINIMAL_DB": f"{folder}/minimal.db"}, args.seconds),
                    measure("this app, SQLite", "app:create_app()",
                            {"DATABASE_URL": f"sqlite:///{folder}/ivr.db"}, args.seconds)]
            if args.postgres:
                url, drop = postgres_database(args.postgres)
                try:
                    rows.append(measure("this app, PostgreSQL", "app:create_app()", {"DATABASE_URL": url},
                                        args.seconds))
                finally:
                    drop()
        for row in rows:
            print(f"| {round_} | {row['name']} | {row['rps']:.0f} | {row['p50']:.0f} | {row['p99']:.0f} | "
                  f"{row['failed']} of {row['n']} {row['first_failure'] or ''} |", flush=True)
        ratios.append((rows[1]["rps"] / rows[0]["rps"], rows[1]["p99"] / rows[0]["p99"]))
    for i, (rps, p99) in enumerate(ratios, 1):
        print(f"round {i}: app/minimal throughput {rps:.2f} x, p99 {p99:.2f} x")
    print(f"median: throughput {statistics.median(r for r, _ in ratios):.2f} x, "
          f"p99 {statistics.median(p for _, p in ratios):.2f} x")


if __name__ == "__main__":
    main()
