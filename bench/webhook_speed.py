"""Webhook speed side by side: the minimal persisted webhook (bench/minimal_webhook.py) and this app,
each under the same gunicorn set-up (2 workers x 4 threads, gthread), driven by the same load: 64
keep-alive connections sending distinct, signed POST /voice/incoming requests (a new CallSid each).
The client is a small asyncio HTTP/1.1 loop in this process; every request is built and signed before
the clock starts. Servers are measured back to back in each round, so a busy machine shows in both.

    nice -n 5 python3 bench/webhook_speed.py [--rounds 3] [--seconds 10] [--postgres URL] [--against DIR]

Bare Flask (the ceiling: no check, no database), the minimal persisted webhook and this app, each round
in a rotated order (interleaved, so a busy spell of a shared machine does not fall on one server only).
--postgres adds this app on PostgreSQL (an admin URL as scripts/postgres prints: a fresh database is
made and dropped). --against DIR adds another checkout of the app (e.g. `git archive <commit> | tar -x -C
DIR`), served from DIR in the same rounds: a before/after measured back to back. Prints one row per server and round, then each server's median and spread and its
ratios to the minimal webhook of the same round, for docs/benchmarks.md.
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


def serve(app: str, env: dict, port: int, root: Path = ROOT) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", "2", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", app],
        cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def measure(name: str, app: str, extra_env: dict, seconds: float, root: Path = ROOT) -> dict:
    port = free_port()
    env = dict(os.environ, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_NUMBER=NUMBER,
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", SECRET_KEY="bench", SPEECH_ENABLED="off",
               DISPATCHER="off", **extra_env)
    env.pop("DEV_PHONE", None)
    proc = serve(app, env, port, root)
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


def profile(calls: int, database_url: str | None) -> None:
    """CPU per request of a typical call's first three webhooks (the greeting, the menu answer "1", the
    status callback "completed"), in this process through Flask's test client, with cProfile's top
    functions for each: where the time goes, without gunicorn or the load client in the way."""
    import cProfile
    import pstats

    base = "http://127.0.0.1:8000"
    folder = tempfile.mkdtemp()
    os.environ.update(TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_NUMBER=NUMBER,
                      PUBLIC_BASE_URL=base, SECRET_KEY="bench", SPEECH_ENABLED="off", DISPATCHER="off",
                      DATABASE_URL=database_url or f"sqlite:///{folder}/ivr.db")
    os.environ.pop("DEV_PHONE", None)
    from app import create_app

    client = create_app().test_client()
    validator = RequestValidator(TOKEN)

    def post(path: str, params: dict) -> None:
        sig = validator.compute_signature(base + path, params)
        response = client.post(path, data=params, headers={"X-Twilio-Signature": sig})
        assert response.status_code < 300, (path, response.status_code, response.get_data(as_text=True)[:300])

    routes = {"incoming": ("/voice/incoming", {"CallStatus": "ringing"}),
              "menu answer": ("/voice/step/menu?t=1", {"CallStatus": "in-progress", "Digits": "1"}),
              "status": ("/voice/status", {"CallStatus": "completed", "CallDuration": "42"})}
    sids = ["CA" + uuid.uuid4().hex for _ in range(calls + 20)]
    for sid in sids[:20]:  # warm-up
        for path, extra in routes.values():
            post(path, {"CallSid": sid, "From": "+12125550100", "To": NUMBER, **extra})
    for name, (path, extra) in routes.items():
        profiler = cProfile.Profile()
        began, cpu = time.perf_counter(), time.process_time()
        profiler.enable()
        for i, sid in enumerate(sids[20:]):
            post(path, {"CallSid": sid, "From": f"+1212555{i % 10000:04d}", "To": NUMBER, **extra})
        profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - began
        print(f"\n## {name}: {cpu / calls * 1000:.2f} ms CPU, {wall / calls * 1000:.2f} ms wall per request "
              "(under the profiler)")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def spread(values) -> str:
    values = sorted(values)
    return f"{statistics.median(values):.0f} ({values[0]:.0f}-{values[-1]:.0f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server (scripts/postgres start)")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="also serve the app checked out in DIR (another commit), in the same rounds")
    parser.add_argument("--profile", type=int, metavar="CALLS",
                        help="profile CALLS calls' first three webhooks in this process instead")
    parser.add_argument("--database", help="with --profile: the database URL (default: a new SQLite file)")
    args = parser.parse_args()
    if args.profile:
        return profile(args.profile, args.database)
    names = [BARE, MINIMAL, APP_SQLITE] + ([APP_POSTGRES] if args.postgres else [])
    if args.against:
        names += [OTHER_SQLITE] + ([OTHER_POSTGRES] if args.postgres else [])
    print("| round | server | requests/s | p50 ms | p99 ms | failed |")
    print("|---|---|---|---|---|---|")
    results: dict[str, list[dict]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        # Interleaved: each round starts with a different server, so a busy spell does not hit one alone.
        order = names[round_ % len(names):] + names[:round_ % len(names)]
        with tempfile.TemporaryDirectory() as folder:
            for name in order:
                row = run_server(name, folder, args)
                results[name].append(row)
                print(f"| {round_ + 1} | {name} | {row['rps']:.0f} | {row['p50']:.0f} | {row['p99']:.0f} | "
                      f"{row['failed']} of {row['n']} {row['first_failure'] or ''} |", flush=True)
    print("\nmedian (min-max) over rounds; ratios against the minimal webhook of the same round")
    print("| server | requests/s | p99 ms | throughput / minimal | p99 / minimal |")
    print("|---|---|---|---|---|")
    for name in names:
        rows, base = results[name], results[MINIMAL]
        rps = [r["rps"] / b["rps"] for r, b in zip(rows, base)]
        p99 = [r["p99"] / b["p99"] for r, b in zip(rows, base)]
        print(f"| {name} | {spread(r['rps'] for r in rows)} | {spread(r['p99'] for r in rows)} | "
              f"{statistics.median(rps):.2f} ({min(rps):.2f}-{max(rps):.2f}) | "
              f"{statistics.median(p99):.2f} ({min(p99):.2f}-{max(p99):.2f}) |")


BARE, MINIMAL = "bare Flask", "minimal persisted webhook"
APP_SQLITE, APP_POSTGRES = "this app, SQLite", "this app, PostgreSQL"
OTHER_SQLITE, OTHER_POSTGRES = "--against, SQLite", "--against, PostgreSQL"


def run_server(name: str, folder: str, args) -> dict:
    root = args.against if name in (OTHER_SQLITE, OTHER_POSTGRES) else ROOT
    if name == BARE:
        return measure(name, "bench.minimal_webhook:create_bare_app()", {}, args.seconds)
    if name == MINIMAL:
        return measure(name, "bench.minimal_webhook:create_app()",
                       {"MINIMAL_DB": f"{folder}/minimal-{uuid.uuid4().hex[:6]}.db"}, args.seconds)
    if name in (APP_SQLITE, OTHER_SQLITE):
        return measure(name, "app:create_app()",
                       {"DATABASE_URL": f"sqlite:///{folder}/ivr-{uuid.uuid4().hex[:6]}.db"}, args.seconds, root)
    url, drop = postgres_database(args.postgres)
    try:
        return measure(name, "app:create_app()", {"DATABASE_URL": url}, args.seconds, root)
    finally:
        drop()


if __name__ == "__main__":
    main()
