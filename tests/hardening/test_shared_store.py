"""The rate limiter's storage shared by processes (RATELIMIT_STORAGE_URI=database://, the default: the
app's own database, storage/counters.py). Two real app processes (gunicorn, one worker each, as the web
role runs) on one database: a burst of wrong passwords from one address, split over both, is evaluated
only up to the per-address limit; a chat message accepted by one is refused as a replay by the other.
With memory:// (counts per process) the same burst gets a limit's worth on each process, which shows the
test tells the two apart."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from ops.workers import free_port
from storage.models import QueueEntry
from tests.hardening.conftest import CSRF, at_once
from webhooks.chat import signature

ROOT = Path(__file__).resolve().parents[2]
CHAT_SECRET = "shared-store-chat-secret"
BURST = 40


@contextmanager
def two_processes(database_url: str, storage_uri: str | None):
    """Two gunicorn masters with one worker each, on their own ports, on one database; their base URLs."""
    procs, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="shared-store-check",
                       SPEECH_ENABLED="off", TWILIO_AUTH_TOKEN="shared-store-token", DISPATCHER="off",
                       PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", CHAT_SECRETS=f"helpbot:{CHAT_SECRET}",
                       SUPERVISOR_LOGIN_LIMIT="10/minute", SUPERVISOR_ACCOUNT_LIMIT="100000/minute",
                       CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")
            env.pop("DEV_PHONE", None)
            env.pop("RATELIMIT_STORAGE_URI", None)
            if storage_uri:
                env["RATELIMIT_STORAGE_URI"] = storage_uri
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "-w", "1", "--threads",
                 "24", "-b", f"127.0.0.1:{port}", "app:create_app()"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            urls.append(f"http://127.0.0.1:{port}")
        pids = set()
        for url, proc in zip(urls, procs):
            while proc.poll() is None:  # until it serves (or dies: then the assertion below says so)
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
                        pids.add(json.load(response)["pid"])
                        break
                except OSError:
                    time.sleep(0.1)
        assert len(pids) == 2, "both processes serve, each its own pid"
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=60)


def burst_of_wrong_passwords(urls: list[str]) -> list[int]:
    prepared = []
    for n in range(BURST):
        browser = requests.Session()
        base = urls[n % 2]
        page = browser.get(base + "/supervisor/login", timeout=60).text
        prepared.append((base, browser, CSRF.search(page).group(1)))
    turns = iter(range(BURST))

    def send():
        base, browser, token = prepared[next(turns)]
        return browser.post(base + "/supervisor/login", allow_redirects=False, timeout=120,
                            data={"username": "sam", "password": "a wrong guess", "csrf_token": token}).status_code

    return at_once(BURST, send)


def signed_chat(body: dict) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
    return raw, {"Content-Type": "application/json", "X-Chat-Integration": "helpbot", "X-Chat-Timestamp": timestamp,
                 "X-Chat-Nonce": nonce, "X-Chat-Signature": signature(CHAT_SECRET, timestamp, nonce, raw)}


def test_sign_in_limit_and_chat_replay_guard_hold_across_two_processes(database_url, runtime, users):
    with two_processes(database_url, None) as urls:
        statuses = burst_of_wrong_passwords(urls)
        # Exactly the limit's worth evaluated over both processes (per process, 10 on each would pass).
        assert statuses.count(401) == 10 and statuses.count(429) == BURST - 10, statuses

        raw, headers = signed_chat({"phone": "+31 20 123 4567", "reason": "mijn factuur", "language": "nl-NL"})
        first = requests.post(urls[0] + "/webhooks/chat/callback", data=raw, headers=headers, timeout=60)
        assert first.status_code == 201, first.text
        replayed = requests.post(urls[1] + "/webhooks/chat/callback", data=raw, headers=headers, timeout=60)
        assert replayed.status_code == 401 and replayed.json()["code"] == "replay", replayed.text
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(QueueEntry)) == 1


def test_with_counts_per_process_the_burst_gets_a_limit_on_each(database_url, runtime, users):
    with two_processes(database_url, "memory://") as urls:
        statuses = burst_of_wrong_passwords(urls)
    assert statuses.count(401) == 20, statuses
