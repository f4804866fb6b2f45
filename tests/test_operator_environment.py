"""Settings read from the environment, as an operator sets them: the variables exported, the app built by
create_app() with no arguments (as scripts/serve and gunicorn build it), then requests and the dispatcher the
app would run show each setting took effect."""
from __future__ import annotations

import json
import re
import uuid

from app import create_app
from callbacks.chat_signature import signature
from callbacks.scheduler import SWEEP_JOB, build_dispatcher
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.support.waiting import wait_for

SHOP = "https://shop.example.com"


def test_settings_exported_by_the_operator_reach_the_running_app(monkeypatch, database_url):
    environment = {
        "DATABASE_URL": database_url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_NUMBER": "+15005550006", "SECRET_KEY": "operator-secret-key",
        "SPEECH_ENABLED": "0", "DEV_PHONE": "off",
        "TWILIO_MESSAGING_NUMBER": "+15005550007",
        "CHAT_SECRETS": "shopbot:" + "s" * 32,
        "CALLBACK_WIDGET_ORIGINS": SHOP + ", https://other.example.com/",
        "DISPATCH_CALLS_PER_SECOND": "3", "CALLBACK_MAX_ATTEMPTS": "5", "CALLBACK_RETRY_DELAY_SECONDS": "90",
        "CALLBACK_EARLY_WINDOW_SECONDS": "45", "DISPATCHER": "on", "DISPATCH_SWEEP_SECONDS": "7",
        "CALLBACK_RETRY_IN_WINDOW_SECONDS": "no-answer=90, busy=30, machine=0",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    client = app.test_client()
    # DISPATCHER=on: the app runs the scheduler around its dispatcher, at DISPATCH_SWEEP_SECONDS.
    service = app.extensions["ivr"].extras["dispatcher_service"]
    try:
        assert service.dispatcher is app.extensions["ivr"].extras["dispatcher"] and service.sweep_seconds == 7
        # The leader's first pass (its takeover, the job added after the sweep's) has run.
        wait_for(lambda: service._ticks >= 1, "the scheduler to take the lease over and pass")
        assert service.is_leader and service.scheduler.get_job(SWEEP_JOB).trigger.interval.total_seconds() == 7
    finally:
        service.stop()

    # CALLBACK_WIDGET_ORIGINS: the shop's page gets a form token, a page elsewhere is refused.
    assert client.get("/api/callback-form", headers={"Origin": SHOP}).status_code == 200
    assert client.get("/api/callback-form", headers={"Origin": "https://other.example.com"}).status_code == 200
    refused = client.get("/api/callback-form", headers={"Origin": "https://evil.example.com"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "origin_not_allowed"

    # CHAT_SECRETS: chat webhooks are on (an unsigned request is refused as unsigned, not as "disabled"),
    # and a hand-over signed with the secret the operator gave shopbot books.
    unsigned = client.post("/webhooks/chat/callback", json={"text": "call me"})
    assert unsigned.status_code == 401, unsigned.get_data(as_text=True)
    raw = json.dumps({"phone": "+12125550142", "skill": "billing", "language": "en-US"}).encode()
    timestamp, nonce = str(int(app.extensions["ivr"].clock.now().timestamp())), uuid.uuid4().hex
    signed = client.post("/webhooks/chat/callback", data=raw, headers={
        "Content-Type": "application/json", "X-Chat-Integration": "shopbot", "X-Chat-Timestamp": timestamp,
        "X-Chat-Nonce": nonce, "X-Chat-Signature": signature("s" * 32, timestamp, nonce, raw)})
    assert signed.status_code == 201 and signed.get_json()["channel"] == "chat", signed.get_data(as_text=True)

    # DISPATCH_*/CALLBACK_* and TWILIO_MESSAGING_NUMBER: the dispatcher the scheduler would run.
    dispatcher = build_dispatcher(app.extensions["ivr"])
    assert dispatcher.dialer.messaging_number == "+15005550007"
    assert (dispatcher.settings.calls_per_second, dispatcher.settings.max_attempts,
            dispatcher.settings.retry_delay_seconds, dispatcher.settings.early_window_seconds) == (3, 5, 90, 45)
    # Busy raised to the one-minute floor, machine off (its misses wait the retry delay).
    assert dispatcher.settings.retry_in_window == {"no-answer": 90, "busy": 60}


def test_without_chat_secrets_chat_webhooks_are_off(monkeypatch, database_url):
    for name, value in {"DATABASE_URL": database_url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "SECRET_KEY": "k",
                        "SPEECH_ENABLED": "0", "DEV_PHONE": "off"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CHAT_SECRETS", raising=False)
    response = create_app().test_client().post("/webhooks/chat/callback", json={"text": "call me"})
    assert response.status_code == 503 and response.get_json()["code"] == "disabled"


def operator_exports(monkeypatch, **variables) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_without_secret_key_the_app_generates_one_once_and_every_app_shares_it(monkeypatch, database_url, tmp_path):
    """No SECRET_KEY exported: create_app() (as scripts/serve and each gunicorn worker build it) writes a key to
    the checkout's instance/secret_key the first time, and the next app reads it: a supervisor signed in on one
    is signed in on the other (a restart, or a second worker, keeps the sessions)."""
    import os
    import stat

    import app as app_module
    from storage.db import transaction
    from supervisor import auth
    from tests.supervisor.conftest import PASSWORD, Signed

    checkout = tmp_path / "checkout"  # a fresh checkout's instance/ folder, where create_app() keeps the key
    monkeypatch.setattr(app_module, "INSTANCE_PATH", str(checkout / "instance"))
    operator_exports(monkeypatch, DATABASE_URL=database_url, PUBLIC_BASE_URL=PUBLIC_BASE_URL, SPEECH_ENABLED="0",
                     DEV_PHONE="off", DISPATCHER="off")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app()
    path = checkout / "instance" / "secret_key"
    key = path.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}", key) and first.config["SECRET_KEY"] == key  # 32 random bytes, hex
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # readable by its owner only
    second = create_app()
    assert second.config["SECRET_KEY"] == key and path.read_text() == key  # read, not made again

    with transaction(first.extensions["ivr"].sessions) as db:
        auth.create_user(db, "sam", PASSWORD, role="supervisor", now=first.extensions["ivr"].clock.now(),
                         timezone="UTC")
    signed_in = Signed(first.test_client(), "sam").client.get_cookie("session")

    def queue_page(app):
        client = app.test_client()
        client.set_cookie("session", signed_in.value, domain=signed_in.domain, path=signed_in.path,
                          secure=signed_in.secure)
        return client.get("/supervisor/", headers={"Accept": "text/html"})

    assert queue_page(second).status_code == 200  # the session made by the first app is good in the second
    monkeypatch.setenv("SECRET_KEY", "another-machines-key")
    refused = queue_page(create_app())  # an app with another key does not take it: signing in again
    assert refused.status_code == 302 and "/supervisor/login" in refused.headers["Location"]


def test_the_messaging_number_the_operator_sets_sends_a_phone_callers_confirmation(
        monkeypatch, database_url, clock, emulator):
    """TWILIO_MESSAGING_NUMBER exported, the app built from the environment with its scheduler on: a caller books
    a callback on the phone, and the confirmation text goes to Twilio's REST API From that number. (The injected
    clock and the emulator's REST API stand in for the wall clock and api.twilio.com; every setting is read from
    the environment.)"""
    from datetime import datetime, timezone

    from telephony.transport import WsgiTransport

    operator_exports(monkeypatch, DATABASE_URL=database_url, PUBLIC_BASE_URL=PUBLIC_BASE_URL,
                     TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_NUMBER="+15005550006",
                     TWILIO_MESSAGING_NUMBER="+15005550007", SECRET_KEY="operator-secret-key", SPEECH_ENABLED="0",
                     DEV_PHONE="off", DISPATCHER="on", DISPATCH_SWEEP_SECONDS="1")
    monkeypatch.delenv("CALLBACK_SMS", raising=False)  # texts on, as shipped
    clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc))  # Friday 19:00 in New York: billing is closed
    app = create_app(clock=clock, twilio_client=emulator.rest.client(AUTH_TOKEN))
    emulator.attach(WsgiTransport(app, PUBLIC_BASE_URL))
    service = app.extensions["ivr"].extras["dispatcher_service"]
    try:
        call = emulator.call(from_number="+12125550142")
        call.press("1")  # billing: closed, a callback at the next opening is offered
        call.press("1")  # call me back
        call.press("1")  # on this number
        assert "We will call you back between 08:00 and 08:10 on Monday 30 November" in call.last_heard
        wait_for(lambda: [r for r in emulator.rest.requests if r["path"].endswith("/Messages.json")],
                 "the scheduler's pass to text the confirmation")
    finally:
        service.stop()
    [text] = [r for r in emulator.rest.requests if r["method"] == "POST" and r["path"].endswith("/Messages.json")]
    assert (text["form"]["From"], text["form"]["To"]) == ("+15005550007", "+12125550142")
    assert "08:00" in text["form"]["Body"]


def test_every_url_the_start_up_message_prints_is_served(app, settings):
    import re

    from app import describe_setup

    text = describe_setup(settings)
    urls = re.findall(r"(GET|POST)? ?(https?://\S+?)(?=[\s,]|$)", text)
    printed = {url.removeprefix(PUBLIC_BASE_URL).rstrip(".") for _, url in urls if url.startswith(PUBLIC_BASE_URL)}
    assert printed == {"/voice/incoming", "/voice/status", "/webhooks/sms", "/supervisor/", "/demo"}, text
    client = app.test_client()
    for path in ("/voice/incoming", "/voice/status", "/webhooks/sms"):  # Twilio's webhooks: they ask for a signature
        assert client.post(path, data={}, base_url=PUBLIC_BASE_URL).status_code == 403, path
    signing_in = client.get("/supervisor/", base_url=PUBLIC_BASE_URL, headers={"Accept": "text/html"})
    assert signing_in.status_code == 302 and "/supervisor/login" in signing_in.headers["Location"]
    assert client.get("/demo", base_url=PUBLIC_BASE_URL).status_code == 200
