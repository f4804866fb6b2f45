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


def test_without_secret_key_one_is_generated_once_and_kept(tmp_path):
    import os
    import stat

    from app import instance_secret

    instance = tmp_path / "instance"
    key = instance_secret(str(instance))
    assert re.fullmatch(r"[0-9a-f]{64}", key), key  # 32 random bytes, hex
    path = instance / "secret_key"
    assert path.read_text() == key and stat.S_IMODE(os.stat(path).st_mode) == 0o600  # readable by its owner only
    assert instance_secret(str(instance)) == key  # the next start reads it: sessions and stream tokens survive


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
