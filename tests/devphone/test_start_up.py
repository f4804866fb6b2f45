"""What `scripts/serve` prints when it starts (it runs `python3 app.py`): on a fresh checkout, with the dev phone
on, every URL the message names is served by the process that printed it: the dev phone's page, the demo page,
the supervisor's sign-in, and Twilio's webhooks (which refuse a request the dev phone did not sign)."""
from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
from urllib.parse import urlsplit

from tests.devphone.conftest import free_port
from tests.support.waiting import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# How each printed address answers a first visit: the pages, the sign-in, the webhooks' refusal of a request the
# dev phone's made-up token did not sign (the message says so).
EXPECTED = {"/dev-phone": ("GET", 200), "/demo": ("GET", 200), "/supervisor/": ("GET", 302),
            "/voice/incoming": ("POST", 403), "/voice/status": ("POST", 403), "/webhooks/sms": ("POST", 403)}


def request(url: str, method: str) -> int:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, parts.path, headers={"Accept": "text/html"}, body=b"" if method == "POST" else None)
        return connection.getresponse().status
    finally:
        connection.close()


def test_every_url_the_start_up_prints_is_served_by_that_process(tmp_path):
    port = free_port()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("TWILIO_", "PUBLIC_BASE_URL", "DEV_PHONE", "VOSK_", "WHISPER_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'ivr.sqlite3'}", HOST="127.0.0.1", PORT=str(port),
               SECRET_KEY="start-up-check", SPEECH_ENABLED="0", DISPATCHER="off", PYTHONUNBUFFERED="1")
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(server.stdout), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any(line.startswith("Dev phone:") for line in printed) or server.poll() is not None,
                 "the start-up message")
        assert server.poll() is None, "".join(printed)
        message = "".join(printed[:printed.index(next(l for l in printed if l.startswith("Dev phone:"))) + 1])
        urls = {url.rstrip(".,)") for url in re.findall(r"https?://\S+", message)}
        base = f"http://127.0.0.1:{port}"
        assert {url for url in urls if not url.startswith(base)} == set(), message  # all on this process
        paths = {url.removeprefix(base) for url in urls} - {""}  # "" is "IVR listening on <base>"
        assert paths == set(EXPECTED), message

        def serving() -> bool:
            try:
                return request(base + "/healthz", "GET") == 200
            except OSError:
                return False

        wait_for(serving, "the server to accept connections")
        answered = {path: request(base + path, EXPECTED[path][0]) for path in sorted(paths)}
        assert answered == {path: status for path, (_, status) in EXPECTED.items()}, "".join(printed)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
