"""Chat bots hand over to a callback: signed, fresh, never replayed; the reply says what was booked."""
from __future__ import annotations

import json
import uuid
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from storage.models import QueueEntry
from tests.support import agents_api
from webhooks.chat import parse_secrets, signature
from tests.support.waiting_links import split_link

SECRET = "s3cret-for-helpbot"
URL = "/webhooks/chat/callback"


@pytest.fixture(autouse=True)
def chat_setup(app):
    app.config["CHAT_SECRETS"] = {"helpbot": SECRET, "otherbot": "another-secret"}
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")


@pytest.fixture
def client(app):
    return app.test_client()


def signed_headers(raw: bytes, clock, *, integration="helpbot", secret=SECRET, nonce=None, timestamp=None):
    timestamp = str(int(clock.now().timestamp()) if timestamp is None else timestamp)
    nonce = nonce or uuid.uuid4().hex
    return {"Content-Type": "application/json", "X-Chat-Integration": integration, "X-Chat-Timestamp": timestamp,
            "X-Chat-Nonce": nonce, "X-Chat-Signature": signature(secret, timestamp, nonce, raw)}


def post(client, clock, body: dict, **kwargs):
    raw = json.dumps(body).encode()
    return client.post(URL, data=raw, headers=signed_headers(raw, clock, **kwargs))


def entries(runtime):
    with runtime.sessions() as s:
        # not the callback a busy agent is on (agents_api.put_on_a_call)
        return list(s.scalars(select(QueueEntry).where(QueueEntry.phone_number != agents_api.BUSY_CUSTOMER)))


HANDOVER = {
    "phone": "+31 20 123 4567", "name": "Joost", "reason": "mijn factuur klopt niet", "language": "nl-NL",
    "customer_reference": "K-778",
    "transcript": [{"from": "customer", "text": "Mijn factuur klopt niet"},
                   {"from": "bot", "text": "Zal ik u laten terugbellen?"}, {"from": "customer", "text": "Ja graag"}],
}


def test_signed_handover_books_and_replies_what_was_booked(client, runtime, clock, busy_agent):
    busy_agent("billing")
    response = post(client, clock, HANDOVER)
    assert response.status_code == 201, response.get_json()
    reply = response.get_json()
    assert reply["created"] is True
    assert reply["skill"] == "billing"  # "factuur" in Dutch, via the IVR classifier
    assert reply["channel"] == "chat"
    assert reply["position"] == 1
    # The window, in Amsterdam time for a Dutch chat, the same words the status page and the phone use.
    message, link = split_link(reply["message"])
    assert reply["waiting_url"] == "https://ivr.example.com" + link
    assert message == ("Geboekt: we bellen u op het nummer dat eindigt op 4567 tussen 16:00 en 16:20 vandaag, "
                       "dinsdag 24 november, tijdzone Amsterdam. U bent nummer 1 in de rij.")
    assert reply["window"]["text"] in message and reply["window"]["timezone"] == "Europe/Amsterdam"
    assert reply["status_url"].startswith("https://ivr.example.com/api/callbacks/")
    (entry,) = entries(runtime)
    assert entry.phone_number == "+31201234567"
    assert entry.context == {
        "chat_transcript": "customer: Mijn factuur klopt niet\nbot: Zal ik u laten terugbellen?\ncustomer: Ja graag",
        "customer_reference": "K-778", "integration": "helpbot"}

    again = post(client, clock, {**HANDOVER, "transcript": "second chat"})
    assert again.status_code == 200
    assert again.get_json()["message"] == ("U heeft al een terugbelverzoek: we bellen u op het nummer dat eindigt op "
                                           "4567 tussen 16:00 en 16:20 vandaag, dinsdag 24 november, tijdzone "
                                           "Amsterdam.")
    assert len(entries(runtime)) == 1


def test_scheduled_handover_in_english(client, runtime, clock):
    response = post(client, clock, {"phone": "+12125550142", "skill": "support", "preferred_time": "2026-11-25T09:00",
                                    "timezone": "America/New_York", "transcript": "My internet is down"})
    assert response.status_code == 201
    assert split_link(response.get_json()["message"])[0] == ("Booked: we will call you on the number ending in 0142 "
                                                             "between 09:00 and 09:15 tomorrow, Wednesday 25 November, New York time.")


@pytest.mark.parametrize("tamper", ["body", "secret", "integration", "signature_missing", "nonce_malformed"])
def test_bad_signature_is_refused_and_nothing_booked(client, runtime, clock, tamper):
    raw = json.dumps(HANDOVER).encode()
    headers = signed_headers(raw, clock)
    if tamper == "body":
        raw = raw.replace(b"4567", b"4568")
    elif tamper == "secret":
        headers = signed_headers(raw, clock, secret="guessed")
    elif tamper == "integration":
        headers["X-Chat-Integration"] = "otherbot"
    elif tamper == "signature_missing":
        del headers["X-Chat-Signature"]
    elif tamper == "nonce_malformed":
        headers["X-Chat-Nonce"] = "short"
    response = client.post(URL, data=raw, headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert entries(runtime) == []


def test_unknown_integration_and_disabled_webhook(app, client, runtime, clock):
    assert post(client, clock, HANDOVER, integration="nobody").status_code == 401
    app.config["CHAT_SECRETS"] = {}
    assert post(client, clock, HANDOVER).status_code == 503
    assert entries(runtime) == []


def test_replayed_message_is_refused(client, runtime, clock):
    raw = json.dumps({"phone": "+12125550142"}).encode()
    headers = signed_headers(raw, clock, nonce="nonce-0001")
    booked = client.post(URL, data=raw, headers=headers)
    assert booked.status_code == 201
    # The customer cancels (the status link the bot passed on); an attacker replays the captured request
    # to book the call again.
    status = urlsplit(booked.get_json()["status_url"])
    cancelled = client.delete(f"{status.path}?{status.query}")
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled", cancelled.get_json()
    replay = client.post(URL, data=raw, headers=headers)
    assert replay.status_code == 401
    assert replay.get_json()["code"] == "replay"
    assert [e.state for e in entries(runtime)] == ["cancelled"]


@pytest.mark.parametrize("age", [-301, 301, 3600])
def test_old_or_future_timestamp_is_refused(client, runtime, clock, age):
    now = int(clock.now().timestamp())
    response = post(client, clock, {"phone": "+12125550142"}, timestamp=now - age)
    assert response.status_code == 401
    assert response.get_json()["code"] == "stale"
    assert entries(runtime) == []


@pytest.mark.parametrize("body,field", [
    ({"reason": "billing"}, "/phone"),
    ({"phone": "+12125550142", "page_url": "https://x.example"}, "/page_url"),
    ({"phone": "+12125550142", "transcript": 42}, "/transcript"),
    ({"phone": "+12125550142", "transcript": [{"from": "bot"}]}, "/transcript/0/text"),
    ({"phone": "911"}, "/phone"),
])
def test_missing_or_wrong_fields_are_named(client, runtime, clock, body, field):
    response = post(client, clock, body)
    assert response.status_code == 422
    assert response.get_json()["field"] == field
    assert entries(runtime) == []


def test_long_transcript_keeps_its_end(client, runtime, clock):
    lines = [{"from": "customer", "text": f"line {i} " + "x" * 90} for i in range(200)]
    raw = json.dumps({"phone": "+12125550142", "transcript": lines}).encode()
    assert len(raw) < 64 * 1024
    response = client.post(URL, data=raw, headers=signed_headers(raw, clock))
    assert response.status_code == 201
    (entry,) = entries(runtime)
    assert len(entry.context["chat_transcript"]) == 20_000
    assert entry.context["chat_transcript"].endswith("line 199 " + "x" * 90)


def test_parse_secrets():
    assert parse_secrets("botname:secret, other:secret2 ,broken,:x,y:") == {"botname": "secret", "other": "secret2"}


def test_chat_is_limited_per_customer_number_not_per_bot_address(app, client, runtime, clock):
    app.config.update(CALLBACK_LIMIT_PER_NUMBER="1/hour", CALLBACK_LIMIT_PER_IP="1/hour")
    assert post(client, clock, {"phone": "+12125550142"}).status_code == 201
    limited = post(client, clock, {"phone": "+1 212 555 0142"})
    assert limited.status_code == 429
    for n in range(3):
        assert post(client, clock, {"phone": f"+1212555015{n}"}).status_code == 201


def test_oversized_handover_is_413(client, runtime, clock):
    response = post(client, clock, {"phone": "+12125550142", "transcript": "x" * 70_000})
    assert response.status_code == 413
    assert response.get_json()["code"] == "too_large"
    assert entries(runtime) == []


def test_a_handover_for_a_full_time_is_refused_with_the_next_free_times(client, runtime, clock, add_agent):
    add_agent("Ann", "+14155550101", skills=("support",))  # one support agent: one callback at a time
    first = post(client, clock, {"phone": "+12125550142", "skill": "support", "preferred_time": "2026-11-25T09:00",
                                 "timezone": "America/New_York"})
    assert first.status_code == 201
    full = post(client, clock, {"phone": "+12125550143", "skill": "support", "preferred_time": "2026-11-25T09:00",
                                "timezone": "America/New_York"})
    assert full.status_code == 409 and full.mimetype == "application/problem+json"
    assert full.get_json()["code"] == "full"
    assert full.get_json()["next_free"] == ["2026-11-25T09:05", "2026-11-25T09:10", "2026-11-25T09:15"]
    assert [e.phone_number for e in entries(runtime)] == ["+12125550142"]
