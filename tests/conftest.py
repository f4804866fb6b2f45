"""Shared fixtures: the real app on a fresh migrated database, a manual clock, and Twilio's part.

DATABASE_URL_TEST selects the database for the suite (PostgreSQL: scripts/test sets it); each test
gets its own SQLite file or its own PostgreSQL schema-free database, migrated with Alembic exactly as
production is.
"""
from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from callbacks import services as callbacks
from callbacks.dialing import Dialer, OutboundLinks
from callbacks.dispatcher import Dispatcher
from clock import ManualClock
from config import DEFAULT_IVR_CONFIG, DispatchSettings, Settings
from storage.models import Agent, QueueEntry
from telephony.emulator import Emulator
from telephony.transport import WsgiTransport
from tests.support import agents_api
from tests.support import ivr_file as ivr_files
from tests.support.outbound_legs import Outbound

# Tests assert what the recognisers hear, not how fast: a live answer waits for Whisper as long as a busy
# test machine needs (docs/speech.md, "Capacity"; tests/ivr/test_speech_capacity.py covers the deadline).
os.environ.setdefault("SPEECH_ANSWER_DEADLINE", "60")

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://ivr.example.com"
# Tuesday 2026-11-24 10:00 in New York: every default skill is open.
OPEN_HOURS = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)


def pytest_configure(config):
    config.addinivalue_line("markers", "ivr(*edits): this test's own IVR file, the shipped one with `edits` "
                                       "applied (tests/support/ivr_file.py)")


def _postgres_database(base_url: str):
    """A new, empty PostgreSQL database for one test; dropped afterwards."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base_url.rsplit("/", 1)[0] + "/" + name

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture
def database_url(tmp_path):
    pg = os.environ.get("DATABASE_URL_TEST")
    if pg:
        url, drop = _postgres_database(pg)
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path / 'ivr.sqlite3'}"


@pytest.fixture
def clock():
    return ManualClock(OPEN_HOURS)


@pytest.fixture
def ivr_file(request, tmp_path):
    """The IVR file this test's app loads: the shipped one, or a copy changed by the test's
    @pytest.mark.ivr(edit, ...) (tests/support/ivr_file.py: calendar, skill, any function of the parsed file)."""
    marker = request.node.get_closest_marker("ivr")
    if marker is None:
        return DEFAULT_IVR_CONFIG
    raw = ivr_files.shipped()
    for edit in marker.args:
        edit(raw)
    return ivr_files.write(raw, tmp_path / "ivr.toml")


@pytest.fixture
def settings(database_url, ivr_file):
    return Settings(
        database_url=database_url,
        ivr_config_path=str(ivr_file),
        public_base_url=PUBLIC_BASE_URL,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=AUTH_TOKEN,
        twilio_number="+15005550006",
        secret_key="test-secret-key",
        # The test installation's PBX: agents' SIP addresses must be at a listed domain.
        agent_sip_domains=("pbx.example.com",),
        # Keypad prompts unless a test turns speech on (tests/speech does, with real models).
        speech_enabled=False,
    )


@pytest.fixture
def emulator(clock):
    """Twilio, emulated by the product (telephony/): calls, media streams, queues and the REST API."""
    em = Emulator(AUTH_TOKEN, PUBLIC_BASE_URL, clock=clock.now, number="+15005550006")
    yield em
    em.close()


@pytest.fixture
def twilio_rest(emulator):
    """Twilio's REST API, answered by the emulator and checked against Twilio's OpenAPI spec."""
    return emulator.rest


@pytest.fixture
def app(settings, clock, twilio_rest):
    app = create_app(settings, clock=clock, twilio_client=twilio_rest.client(AUTH_TOKEN))
    app.config["TESTING"] = True
    yield app
    app.extensions["ivr"].engine.dispose()


@pytest.fixture
def speech_app(settings, clock, emulator, monkeypatch):
    """The app as shipped, speech on: PocketSphinx for en-US (no Vosk model from the environment)."""
    for name in ("VOSK_MODEL_PATH", "VOSK_MODEL_PATH_EN_US", "VOSK_MODEL_PATH_NL_NL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(replace(settings, speech_enabled=True), clock=clock,
                     twilio_client=emulator.rest.client(AUTH_TOKEN))
    app.config["TESTING"] = True
    assert "en-US" in app.extensions["ivr"].speech_languages and "media" in app.blueprints
    yield app
    app.extensions["ivr"].engine.dispose()


@pytest.fixture
def second_pass_ready(speech_app):
    """Whisper's worker loaded and warm before the first answer (the server does this at start:
    speech.engines.prepare_for_calls); without it an answer right after start has PocketSphinx's words alone."""
    from speech.engines import second_pass_for

    whisper = second_pass_for("en-US")
    if whisper is not None:
        assert whisper.wait_ready(120)


@pytest.fixture
def runtime(request):
    """The runtime of the app the test rings: the speech app's when the test has one (its `phone` rings it),
    else `app`'s (as busy_agent picks)."""
    the_app = "speech_app" if "speech_app" in request.fixturenames else "app"
    return request.getfixturevalue(the_app).extensions["ivr"]


@pytest.fixture
def busy_agent(request, monkeypatch):
    """busy_agent("billing"): an agent staffed on the skill and on a call (a wait can then be told; with
    nobody staffed none is). Added through /api/agents with the bearer token, set available, then offered a
    callback another customer booked on the web, which they answered (tests/support/agents_api.py). On the
    app the test rings: the speech app when the test has one (its `phone` rings it), else `app` with `twilio`."""
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    if "speech_app" in request.fixturenames:
        the_app, emulator = request.getfixturevalue("speech_app"), request.getfixturevalue("emulator")
    else:
        the_app, emulator = request.getfixturevalue("app"), request.getfixturevalue("twilio")

    def add(*skills: str, name: str = "Busy", address: str = "+12125550177") -> int:
        client = the_app.test_client()
        agent_id = agents_api.add_available(client, name, address, list(skills), wrap_up_seconds=0)
        agents_api.put_on_a_call(client, emulator, the_app.extensions["ivr"], agent_id, address, skills[0])
        return agent_id

    return add


def _ringing(emulator, the_app):
    emulator.attach(WsgiTransport(the_app, PUBLIC_BASE_URL))
    yield emulator
    emulator.close()  # its media streams and loopback server end before the app does


@pytest.fixture
def twilio(app, emulator):
    """The emulator attached to the test app: `twilio.call()` rings the IVR (tests/support/twilio_voice.py)."""
    yield from _ringing(emulator, app)


@pytest.fixture
def phone(speech_app, emulator):
    """The emulator attached to the speech app: `phone.call()` rings it and `call.say(...)` streams the
    caller's audio over /media; tests/support/media_stream.py drives that socket message by message."""
    yield from _ringing(emulator, speech_app)


@pytest.fixture
def ws_url(phone):
    """The speech app's /media WebSocket, as the emulator's loopback server serves it."""
    return phone.transport.websocket_url(PUBLIC_BASE_URL.replace("https://", "wss://") + "/media")


@pytest.fixture(scope="session")
def browser():
    """One chromium for the whole run; each test opens its own context (cookies, storage)."""
    from playwright.sync_api import expect, sync_playwright

    from tests.support.browser import PATIENCE_MS, launch

    expect.set_options(timeout=PATIENCE_MS)
    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture
def live_app(app):
    """The app served on a real loopback port: yields its base URL."""
    from tests.support.live_server import serve

    with serve(app) as base_url:
        yield base_url


@pytest.fixture
def supervisor(app, runtime, clock):
    """A supervisor signed in to the supervisor pages (CSRF token and all), to steer callbacks as one would."""
    from storage.db import transaction
    from supervisor import auth
    from tests.supervisor.conftest import PASSWORD, Signed

    with transaction(runtime.sessions) as s:
        auth.create_user(s, "sam", PASSWORD, role="supervisor", now=clock.now())
    return Signed(app.test_client(), "sam")


# The dispatcher and what it serves, shared by tests/callbacks and tests/routing: a dispatcher on the test app
# with settings a test can change, agents, callbacks booked through the public API as the web button books
# them, and Twilio's part for the calls it places.

@pytest.fixture
def make_dispatcher(runtime):
    def make(config=None, **overrides) -> Dispatcher:
        # Retries inside the window told are off here (every miss waits the retry delay), so a test reads
        # one retry policy at a time; tests/callbacks/test_retry_in_window.py turns them on.
        settings = replace(DispatchSettings(calls_per_second=0, retry_delay_seconds=600, max_attempts=3,
                                            early_window_seconds=60, retry_in_window={}), **overrides)
        dialer = Dialer(runtime.twilio, runtime.settings.twilio_number, OutboundLinks(PUBLIC_BASE_URL),
                        runtime.clock, messaging_number=runtime.settings.twilio_messaging_number)
        d = Dispatcher(runtime.sessions, runtime.clock, config or runtime.ivr_config, dialer, settings)
        runtime.extras["dispatcher"] = d  # the webhooks use the same one
        return d

    return make


@pytest.fixture
def dispatcher(make_dispatcher):
    return make_dispatcher()


@pytest.fixture
def outbound(twilio, twilio_rest):
    return Outbound(twilio, twilio_rest)


@pytest.fixture
def add_agent(app, runtime, monkeypatch, request):
    def add(name: str, address: str, skills=("billing",), state="available", wrap_up=0):
        """A new agent through /api/agents with the bearer token (tests/support/agents_api.py), set
        available, or left offline; state "on_call": then on a call, a callback for another customer
        (agents_api.BUSY_CUSTOMER) that the dispatcher offered them and they answered."""
        monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
        client = app.test_client()
        agent_id = agents_api.add(client, name, address, list(skills), wrap_up_seconds=wrap_up,
                                  state="available" if state == "on_call" else state)
        if state == "on_call":
            agents_api.put_on_a_call(client, request.getfixturevalue("twilio"), runtime, agent_id, address,
                                     skills[0])
        return agent_id

    return add


@pytest.fixture
def book(app, runtime):
    """book(number, ...): a callback asked for on the web button (tests/support/web_button.py), each visitor
    from their own address. Booked now (the clock's now); to book one earlier than another, book it and
    then `clock.advance(...)`. Returns the callback's public id."""
    from tests.support.web_button import book_on_the_web  # it reads this module's base URL

    client = app.test_client()
    visitors = itertools.count(1)

    def book(number: str, skill="billing", **fields) -> str:
        address = f"203.0.113.{next(visitors)}"
        return book_on_the_web(client, runtime.ivr_config, number, skill, address=address, **fields)["id"]

    return book


@pytest.fixture
def entry_of(runtime):
    def get(public_id: str) -> QueueEntry:
        with runtime.sessions() as s:
            entry = callbacks.get_entry(s, public_id)
            entry.events  # load the trail before the session closes
            s.expunge_all()
            return entry

    return get


@pytest.fixture
def agent_of(runtime):
    def get(agent_id: int):
        with runtime.sessions() as s:
            agent = s.get(Agent, agent_id)
            s.expunge_all()
            return agent

    return get
