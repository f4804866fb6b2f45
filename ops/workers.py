"""Start the web role (gunicorn with gunicorn.conf.py) on a database and see every worker serve: used
by tests/ops/test_workers.py and bench/workers_start.py. Plain Python, no Flask."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_and_count_serving(database_url: str, workers: int = 4, timeout: float = 60.0) -> tuple[set[int], str]:
    """gunicorn with `workers` workers on `database_url`; the pids of the workers that answered
    /healthz before `timeout` (all of them, when the start went well), and gunicorn's log."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="workers-check", SPEECH_ENABLED="off",
               TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="workers-check-token",
               TWILIO_NUMBER="+15005550006", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", DISPATCHER="off")
    env.pop("DEV_PHONE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers),
         "--threads", "2", "-b", f"127.0.0.1:{port}", "app:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    try:
        while len(seen) < workers and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    seen.add(json.load(response)["pid"])
            except OSError:
                time.sleep(0.05)
    finally:
        proc.terminate()
        try:
            _, log = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, log = proc.communicate()
    return seen, log
