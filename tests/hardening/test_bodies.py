"""Malformed bodies never reach a 500. Every body the app parses is bounded and checked first, so
each of these is a precise 4xx that stores nothing."""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.conftest import PUBLIC_BASE_URL
from tests.hardening.conftest import rows, sign, twilio_routes
from webhooks.chat import signature

SECRET = "chat-secret-for-body-tests"

HOSTILE_JSON = {
    "deeply nested": b'{"phone": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "a 5000-digit integer": b'{"phone": ' + b"9" * 5000 + b"}",
    "a lone surrogate": b'{"phone": "+12125550142", "name": "\\ud800"}',
    "a lone surrogate in a key": b'{"phone": "+12125550142", "\\udfff": 1}',
    "NaN": b'{"phone": "+12125550142", "name": NaN}',
    "Infinity": b'{"phone": Infinity}',
    "not UTF-8": b'{"phone": "\xff\xfe"}',
    "a huge exponent": b'{"phone": 1e99999}',
}


@pytest.fixture
def chat_on(app):
    app.config.update(CHAT_SECRETS={"helpbot": SECRET}, CALLBACK_LIMIT_PER_NUMBER="1000/minute")


@pytest.mark.parametrize("name", HOSTILE_JSON)
def test_hostile_json_to_the_callback_api_is_a_400(app, runtime, name):
    response = app.test_client().post("/api/callbacks", data=HOSTILE_JSON[name], content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json" and response.get_json()["code"] == "malformed_json"
    assert rows(runtime)["queue_entries"] == 0


@pytest.mark.parametrize("name", HOSTILE_JSON)
@pytest.mark.parametrize("signed", [True, False])
def test_hostile_json_to_the_chat_webhook_is_refused(app, runtime, clock, chat_on, name, signed):
    raw = HOSTILE_JSON[name]
    timestamp, nonce = str(int(clock.now().timestamp())), uuid.uuid4().hex
    headers = {"Content-Type": "application/json", "X-Chat-Integration": "helpbot", "X-Chat-Timestamp": timestamp,
               "X-Chat-Nonce": nonce,
               "X-Chat-Signature": signature(SECRET, timestamp, nonce, raw) if signed else "sha256=00"}
    response = app.test_client().post("/webhooks/chat/callback", data=raw, headers=headers)
    assert response.status_code == (400 if signed else 401)
    assert rows(runtime)["queue_entries"] == 0


@pytest.mark.parametrize("header,value", [("X-Chat-Signature", "sha256=\xe9"), ("X-Chat-Timestamp", "\xb2"),
                                          ("X-Chat-Timestamp", "9" * 5000)])
def test_odd_chat_headers_are_a_401(app, runtime, clock, chat_on, header, value):
    raw = b'{"phone": "+12125550142"}'
    timestamp, nonce = str(int(clock.now().timestamp())), uuid.uuid4().hex
    headers = {"Content-Type": "application/json", "X-Chat-Integration": "helpbot", "X-Chat-Timestamp": timestamp,
               "X-Chat-Nonce": nonce, "X-Chat-Signature": signature(SECRET, timestamp, nonce, raw), header: value}
    assert app.test_client().post("/webhooks/chat/callback", data=raw, headers=headers).status_code == 401
    assert rows(runtime)["queue_entries"] == 0


def test_a_json_body_on_any_twilio_route_is_a_403(app, runtime):
    client = app.test_client()
    for path in twilio_routes(app):
        body = json.dumps({"CallSid": "CA" + "1" * 32, "From": "+12125550142"})
        # Even with a signature over the URL alone: Twilio signs a JSON body through ?bodySHA256=.
        response = client.post(path, data=body, content_type="application/json", base_url=PUBLIC_BASE_URL,
                                headers={"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, {})})
        assert response.status_code == 403, (path, response.status_code)
    assert sum(rows(runtime).values()) == 0


def test_odd_signature_headers_are_a_403(app, runtime):
    form = {"CallSid": "CA" + "1" * 32, "From": "+12125550142"}
    for value in ("\xe9\xe9\xe9", "a" * 10000):
        response = app.test_client().post("/voice/incoming", data=form, base_url=PUBLIC_BASE_URL,
                                          headers={"X-Twilio-Signature": value})
        assert response.status_code == 403
    assert sum(rows(runtime).values()) == 0


def chunks(megabytes: int):
    for _ in range(megabytes * 16):
        yield b"x" * 65536


@pytest.mark.parametrize("path,content_type", [
    ("/api/callbacks", "application/json"),
    ("/webhooks/chat/callback", "application/json"),
    ("/voice/incoming", "application/x-www-form-urlencoded"),
    ("/webhooks/sms", "application/x-www-form-urlencoded"),
    ("/supervisor/login", "application/x-www-form-urlencoded"),
])
def test_a_10_mb_chunked_body_is_a_413(live_app, runtime, chat_on, path, content_type):
    # A generator makes requests send Transfer-Encoding: chunked, with no Content-Length to refuse early.
    response = requests.post(live_app + path, data=chunks(10), headers={"Content-Type": content_type}, timeout=120)
    assert response.status_code == 413, (response.status_code, response.text[:200])
    assert sum(rows(runtime).values()) == 0


def test_a_small_chunked_body_is_read_as_usual(live_app, runtime, generous_limits):
    def body():
        yield b'{"phone": '
        yield b'"+12125550142"}'

    response = requests.post(live_app + "/api/callbacks", data=body(), headers={"Content-Type": "application/json"},
                             timeout=60)
    assert response.status_code == 201
    assert rows(runtime)["queue_entries"] == 1


@pytest.mark.parametrize("name", HOSTILE_JSON)
def test_hostile_json_to_the_agents_api_is_a_400(app, runtime, monkeypatch, name):
    monkeypatch.setenv("AGENTS_API_TOKEN", "agents-token")
    response = app.test_client().post("/api/agents", data=HOSTILE_JSON[name], content_type="application/json",
                                      headers={"Authorization": "Bearer agents-token"})
    assert response.status_code == 400
    assert rows(runtime)["agents"] == 0
