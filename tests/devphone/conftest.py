"""Apps with the dev phone on (development: no PUBLIC_BASE_URL, no Twilio credentials) or off, and the
app served on the very port its settings name: the dev phone's Twilio reaches the app there, and the
app accepts webhooks without PUBLIC_BASE_URL only for that address (webhooks/security.py)."""
from __future__ import annotations

import re
import socket
import threading
from dataclasses import replace

import pytest

from app import create_app
from telephony.transport import serve

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served(app):
    """Serve `app` on 127.0.0.1 at the port its settings name; yields the base URL."""
    return serve(app, port=app.extensions["ivr"].settings.port)


@pytest.fixture
def make_app(settings, clock):
    """create_app with changed settings; dev phones and engines are stopped afterwards."""
    made = []

    def make(**changes):
        app = create_app(replace(settings, **changes), clock=clock)
        app.config["TESTING"] = True
        made.append(app)
        return app

    yield make
    for app in made:
        if "devphone" in app.extensions:
            app.extensions["devphone"].stop()
        app.extensions["ivr"].engine.dispose()


DEVELOPMENT = {"public_base_url": None, "twilio_account_sid": None, "twilio_auth_token": None, "twilio_number": None}


@pytest.fixture
def dev_app(make_app):
    """`python app.py` on a fresh checkout: no PUBLIC_BASE_URL, no Twilio account."""
    return make_app(**DEVELOPMENT, port=free_port())


class Browser:
    """A test client that opened /dev-phone, sending what its page sends (JSON, the CSRF token)."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        page = self.client.get("/dev-phone")
        assert page.status_code == 200
        self.token = CSRF.search(page.get_data(as_text=True)).group(1)

    def post(self, path, data=None, *, headers=None, method="POST"):
        return self.client.open(f"/dev-phone/api{path}", method=method, json=data if data is not None else {},
                                headers={"X-CSRFToken": self.token, **(headers or {})})

    def get(self, path):
        return self.client.get(f"/dev-phone/api{path}")

    def line(self):
        """The dev phone's line for this browser (its session names it)."""
        with self.client.session_transaction() as session:
            key = session["devphone_line"]
        return self.app.extensions["devphone"].lines.line(key)


@pytest.fixture
def browser_client(dev_app):
    return Browser(dev_app)


class EventStream:
    """The page's event stream (SSE) read over real HTTP with the browser's cookie, in a thread."""

    def __init__(self, base: str, page: Browser, tab: str = "testtab01"):
        import queue
        import urllib.request

        self.events: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        cookie = page.client.get_cookie("session")
        request = urllib.request.Request(f"{base}/dev-phone/api/events?tab={tab}",
                                         headers={"Cookie": f"session={cookie.value}", "Accept": "text/event-stream"})
        self.response = urllib.request.urlopen(request, timeout=30)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        import json

        kind, data = "message", []
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    event = json.loads("\n".join(data))
                    self.events.put(event if kind == "message" else {"type": kind, **event})
                    kind, data = "message", []
        except (OSError, ValueError, AttributeError):  # closed (from the test's thread)
            pass

    def until(self, predicate, timeout: float = 30.0) -> list[dict]:
        """Events read so far, once `predicate(events)` holds."""
        import json
        import queue
        import time

        deadline = time.monotonic() + timeout
        self.drain()
        while not predicate(self.seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"not seen in {timeout} s: {json.dumps(self.seen)[-3000:]}")
            try:
                self.seen.append(self.events.get(timeout=min(left, 0.5)))
            except queue.Empty:
                continue
        return self.seen

    def drain(self) -> list[dict]:
        """Everything that has arrived, without waiting."""
        import queue

        while True:
            try:
                self.seen.append(self.events.get_nowait())
            except queue.Empty:
                return self.seen

    def close(self):
        self.response.close()
