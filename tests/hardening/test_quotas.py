"""Refused requests do not spend the victim's quota (they did). Per-number limits now count only requests
that were authenticated and accepted, so five refused or unsigned requests for a number leave its
real booking alone; accepted ones still count."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.conftest import PUBLIC_BASE_URL
from tests.hardening.conftest import rows, sign
from tests.support.twilio_voice import ACCOUNT_SID
from webhooks.chat import signature

VICTIM = "+12125550142"
SECRET = "chat-secret-for-quota-tests"


@pytest.fixture
def per_number_five(app):
    app.config.update(CALLBACK_LIMIT_PER_NUMBER="5/hour", CALLBACK_LIMIT_PER_IP="1000/minute",
                      CHAT_SECRETS={"helpbot": SECRET})


REFUSED_API_BODIES = [
    ({"phone": VICTIM, "channel": "web"}, {}, 403),  # a web page without its form token
    ({"phone": VICTIM}, {"Origin": "https://evil.example"}, 403),  # from a site that may not embed us
    ({"phone": VICTIM, "website": "http://spam.example"}, {}, 400),  # the honeypot
    ({"phone": VICTIM, "when": "scheduled"}, {}, 422),  # no time given
    ({"phone": VICTIM, "skill": "no-such-team"}, {}, 422),
]


def test_refused_api_requests_do_not_spend_the_numbers_quota(app, runtime, per_number_five):
    client = app.test_client()
    for body, headers, status in REFUSED_API_BODIES:
        assert client.post("/api/callbacks", json=body, headers=headers).status_code == status
    assert rows(runtime)["queue_entries"] == 0
    assert client.post("/api/callbacks", json={"phone": VICTIM}).status_code == 201
    # Accepted requests do count: four more answers (the open callback) and the quota is used up.
    assert [client.post("/api/callbacks", json={"phone": VICTIM}).status_code for _ in range(5)] \
        == [200, 200, 200, 200, 429]


def test_unsigned_chat_requests_do_not_lock_a_number_out_of_chat(app, runtime, clock, per_number_five):
    client = app.test_client()
    raw = json.dumps({"phone": VICTIM}).encode()
    for n in range(6):
        forged = {"Content-Type": "application/json", "X-Chat-Integration": "helpbot",
                  "X-Chat-Timestamp": str(int(clock.now().timestamp())), "X-Chat-Nonce": uuid.uuid4().hex,
                  "X-Chat-Signature": "sha256=" + "0" * 64}
        assert client.post("/webhooks/chat/callback", data=raw, headers=forged).status_code == 401
    assert rows(runtime)["queue_entries"] == 0
    timestamp, nonce = str(int(clock.now().timestamp())), uuid.uuid4().hex
    signed = {"Content-Type": "application/json", "X-Chat-Integration": "helpbot", "X-Chat-Timestamp": timestamp,
              "X-Chat-Nonce": nonce, "X-Chat-Signature": signature(SECRET, timestamp, nonce, raw)}
    assert client.post("/webhooks/chat/callback", data=raw, headers=signed).status_code == 201


def test_unsigned_texts_do_not_spend_the_texters_quota(app, runtime, per_number_five):
    client = app.test_client()

    def text(signed: bool):
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": VICTIM,
                "To": "+15005550006", "Body": "CALL ME"}
        return client.post("/webhooks/sms", data=form, base_url=PUBLIC_BASE_URL, headers={
            "X-Twilio-Signature": sign(PUBLIC_BASE_URL + "/webhooks/sms", form) if signed else "forged"})

    assert [text(False).status_code for _ in range(6)] == [403] * 6
    assert "Booked" in text(True).get_data(as_text=True)
    assert rows(runtime)["queue_entries"] == 1


def test_the_sixth_text_in_an_hour_gets_a_reply_not_an_http_error(app, runtime):
    """The default per-number limit (5/hour): the sixth text is answered in TwiML, so the texter hears why."""
    client = app.test_client()
    answers = []
    for n in range(6):
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": VICTIM,
                "To": "+15005550006", "Body": "CALL ME" if n % 2 == 0 else "BEL MIJ"}
        response = client.post("/webhooks/sms", data=form, base_url=PUBLIC_BASE_URL, headers={
            "X-Twilio-Signature": sign(PUBLIC_BASE_URL + "/webhooks/sms", form)})
        assert response.status_code == 200 and response.mimetype == "text/xml"
        answers.append(response.get_data(as_text=True))
    assert "dit uur al meerdere verzoeken" in answers[5]  # in the language of the text (BEL MIJ)
    assert not any("meerdere" in a or "several requests" in a for a in answers[:5])
    assert rows(runtime)["queue_entries"] == 1
