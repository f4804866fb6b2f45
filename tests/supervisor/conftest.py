"""Fixtures for the supervisor pages: users, a signed-in test client, and callbacks to steer."""
from __future__ import annotations

import itertools
import json
import re
import uuid

import pytest

from callbacks import services as callbacks
from storage.db import transaction
from supervisor import auth
from tests.support import agents_api
from tests.support.outbound_legs import Outbound
from tests.support.web_button import book_on_the_web

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def users(runtime, clock):
    with transaction(runtime.sessions) as db:
        auth.create_user(db, "ada", PASSWORD, role="admin", now=clock.now(), timezone="Europe/Amsterdam")
        auth.create_user(db, "sam", PASSWORD, role="supervisor", now=clock.now(), timezone="America/New_York")
        auth.create_user(db, "kim", PASSWORD, role="supervisor", now=clock.now(), timezone="America/New_York")
    return ("ada", "sam", "kim")


class Signed:
    """A test client signed in as one user, with that session's CSRF token."""

    def __init__(self, client, username: str):
        self.client = client
        self.username = username
        page = client.get("/supervisor/login")
        token = CSRF.search(page.get_data(as_text=True)).group(1)
        response = client.post("/supervisor/login", data={"username": username, "password": PASSWORD,
                                                          "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        page = client.get("/supervisor/", headers={"Accept": "text/html"})
        assert page.status_code == 200
        self.token = CSRF.search(page.get_data(as_text=True)).group(1)

    def act(self, public_id: str, action: str, version: int, **form):
        return self.client.post(f"/supervisor/entries/{public_id}/{action}",
                                data={"csrf_token": self.token, "version": str(version), **form},
                                headers={"X-Requested-With": "fetch"})

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers={"Accept": "text/html"}, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})},
                                headers={"X-Requested-With": "fetch"}, **kwargs)


@pytest.fixture
def sign_in(app, users):
    def sign(username: str = "sam") -> Signed:
        return Signed(app.test_client(), username)

    return sign


_visitors = itertools.count(1)


def book(app, number: str = "+12125550100", skill: str = "billing", **fields) -> str:
    """A callback asked for on the web button (tests/support/web_button.py), now; its public id."""
    return book_on_the_web(app.test_client(), app.extensions["ivr"].ivr_config, number, skill,
                           address=f"198.51.100.{next(_visitors) % 250 + 1}", **fields)["id"]


FAILING_AGENT = "+14155550109"  # the agent who takes the attempts of callbacks that fail


@pytest.fixture
def fail(app, twilio, runtime, clock, monkeypatch):
    """fail(*public_ids): the callbacks fail as they do in production. An agent (FAILING_AGENT) added through
    /api/agents takes each attempt the app's dispatcher offers; the customers never answer (signed status
    callbacks: no-answer); after the last attempt the dispatcher gives up, and the agent signs off. Nothing
    else may be waiting for the dispatcher to offer."""
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    client = app.test_client()
    dispatcher = runtime.extras["dispatcher"]
    legs = Outbound(twilio)

    def make_fail(*public_ids: str) -> None:
        agent_id = agents_api.add_available(client, "Fay", FAILING_AGENT, ["billing"], wrap_up_seconds=0)
        customers = {pid: entry(runtime, pid).phone_number for pid in public_ids}
        # Every attempt the dispatcher makes, soon inside the window told or after the retry delay, misses,
        # until it gives up on each.
        while any(entry(runtime, pid).state != "failed" for pid in public_ids):
            report = dispatcher.run_once()
            if not report.claimed:
                if report.rate_limited:  # the calls-per-second pacing: wait its turn
                    clock.set(report.next_wake)
                else:  # the next attempt due
                    clock.set(min(e.next_attempt_at for e in map(lambda pid: entry(runtime, pid), public_ids)
                                  if e.state != "failed"))
                continue
            [claim] = report.claimed  # one agent: one offer at a time
            agent = legs.to(FAILING_AGENT).answer().press("1")
            legs.to(customers[claim.public_id]).ring_out("no-answer")
            agent.follow_steering()
            assert agent.ended and agents_api.state_of(client, agent_id) == "available", agent.heard_text()
        for pid in public_ids:
            e = entry(runtime, pid)
            assert e.attempts >= dispatcher.settings.max_attempts, [x.event for x in e.events]
        agents_api.put_state(client, agent_id, "offline")

    return make_fail


def entry(runtime, public_id: str):
    with runtime.sessions() as db:
        found = callbacks.get_entry(db, public_id)
        found.events  # load the trail before the session closes
        db.expunge_all()
        return found


CHAT_SECRET = "s3cret-for-helpbot"


def chat_handover(app, clock, body: dict) -> dict:
    """A chat bot's signed hand-over (POST /webhooks/chat/callback), as a bot sends it."""
    from webhooks.chat import signature

    app.config["CHAT_SECRETS"] = {"helpbot": CHAT_SECRET}
    raw = json.dumps(body).encode()
    timestamp, nonce = str(int(clock.now().timestamp())), uuid.uuid4().hex
    response = app.test_client().post("/webhooks/chat/callback", data=raw, headers={
        "Content-Type": "application/json", "X-Chat-Integration": "helpbot", "X-Chat-Timestamp": timestamp,
        "X-Chat-Nonce": nonce, "X-Chat-Signature": signature(CHAT_SECRET, timestamp, nonce, raw)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def dispatcher_for(runtime):
    """The dispatcher as the app builds it, dialling through the fake Twilio REST API."""
    from callbacks.dialing import Dialer, OutboundLinks
    from callbacks.dispatcher import Dispatcher
    from config import DispatchSettings
    from tests.conftest import PUBLIC_BASE_URL

    dialer = Dialer(runtime.twilio, runtime.settings.twilio_number, OutboundLinks(PUBLIC_BASE_URL), runtime.clock,
                    messaging_number=runtime.settings.twilio_messaging_number)
    settings = DispatchSettings(calls_per_second=0, retry_delay_seconds=600, max_attempts=3, early_window_seconds=60,
                                retry_in_window={})  # every miss waits the retry delay (see tests/conftest.py)
    dispatcher = Dispatcher(runtime.sessions, runtime.clock, runtime.ivr_config, dialer, settings)
    runtime.extras["dispatcher"] = dispatcher
    return dispatcher
