"""X-Twilio-Signature: fixed vectors, forgeries, proxies and JSON bodies."""
from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from app import create_app
from storage.models import Call, QueueEntry
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.support import agents_api
from tests.support.twilio_voice import ACCOUNT_SID, new_sid

PARAMS = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + "1" * 32, "From": "+12125550142", "To": "+15005550006",
          "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}


def count(runtime, model):
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


VECTOR_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
                 "From": "+14158675309", "To": "+18005551212"}


def test_twilio_published_vector_through_our_check(settings, clock):
    # The vector from twilio-python's own tests, sent to a route guarded by our decorator.
    from dataclasses import replace

    from webhooks.security import twilio_signed

    app = create_app(replace(settings, twilio_auth_token="12345", public_base_url="https://mycompany.com"),
                     clock=clock)

    @app.post("/myapp.php")
    @twilio_signed
    def myapp():
        return "ok"

    client = app.test_client()
    good = {"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}
    assert client.post("/myapp.php?foo=1&bar=2", data=VECTOR_PARAMS, headers=good).status_code == 200
    assert client.post("/myapp.php?foo=1&bar=3", data=VECTOR_PARAMS, headers=good).status_code == 403
    assert client.post("/myapp.php?foo=1&bar=2", data={**VECTOR_PARAMS, "Digits": "9"},
                       headers=good).status_code == 403
    app.extensions["ivr"].engine.dispose()


def test_signed_request_is_answered(twilio):
    response = twilio.post("/voice/incoming", PARAMS)
    assert response.status_code == 200 and b"<Gather" in response.data


@pytest.mark.parametrize("signature", ["", "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "not-base64!"])
def test_forged_or_missing_signature_is_refused_and_changes_nothing(twilio, runtime, signature):
    response = twilio.post("/voice/incoming", PARAMS, signature=signature, expect_ok=False)
    assert response.status_code == 403
    assert b"X-Twilio-Signature" in response.data
    assert count(runtime, Call) == 0


def test_signature_over_other_params_is_refused(twilio, runtime):
    signature = twilio.sign(PUBLIC_BASE_URL + "/voice/incoming", PARAMS)
    tampered = {**PARAMS, "From": "+19005550000"}
    response = twilio.post("/voice/incoming", tampered, signature=signature, expect_ok=False)
    assert response.status_code == 403
    assert count(runtime, Call) == 0


def test_signature_for_another_url_is_refused(twilio, runtime):
    signature = twilio.sign("https://elsewhere.example.com/voice/incoming", PARAMS)
    response = twilio.post("/voice/incoming", PARAMS, signature=signature, expect_ok=False)
    assert response.status_code == 403


def test_signature_over_the_url_with_its_default_port_is_accepted_as_twilio_does(twilio, runtime):
    # Twilio signs the URL with or without the port (twilio's RequestValidator accepts both); another port
    # is another URL. PUBLIC_BASE_URL here names no port: https means 443.
    params = {**PARAMS, "CallSid": new_sid("CA")}
    with_port = twilio.sign(PUBLIC_BASE_URL.replace(".com", ".com:443") + "/voice/incoming", params)
    assert twilio.post("/voice/incoming", params, signature=with_port).status_code == 200
    params = {**PARAMS, "CallSid": new_sid("CA")}
    other_port = twilio.sign(PUBLIC_BASE_URL.replace(".com", ".com:8443") + "/voice/incoming", params)
    assert twilio.post("/voice/incoming", params, signature=other_port, expect_ok=False).status_code == 403
    assert count(runtime, Call) == 1


def test_a_repeated_parameter_is_checked_as_twilios_validator_checks_it():
    # Each name once, followed by each of its values sorted: what twilio-python's RequestValidator signs.
    from werkzeug.datastructures import MultiDict

    from webhooks.security import form_signed

    url = PUBLIC_BASE_URL + "/voice/incoming"
    form = MultiDict([*PARAMS.items(), ("Caller", "+12125550199"), ("Caller", "+12125550142")])
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    assert form_signed(AUTH_TOKEN, url, form, signature)
    form.setlist("Caller", ["+12125550199"])
    assert not form_signed(AUTH_TOKEN, url, form, signature)


def test_behind_a_trusted_proxy_the_forwarded_url_of_a_listed_host_is_checked(settings, clock):
    from dataclasses import replace

    app = create_app(replace(settings, public_base_url=None, trusted_proxy_hops=1,
                             twilio_webhook_hosts=("tunnel.example.org",)), clock=clock)
    client = app.test_client()
    public = "https://tunnel.example.org/voice/incoming"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(public, PARAMS)
    headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "tunnel.example.org"}
    assert client.post("/voice/incoming", data=PARAMS, headers=headers,
                       base_url="http://127.0.0.1:5000").status_code == 200
    # Without the forwarded headers the same signature does not match what the app sees.
    headers = {"X-Twilio-Signature": signature}
    assert client.post("/voice/incoming", data={**PARAMS, "CallSid": new_sid("CA")}, headers=headers,
                       base_url="http://127.0.0.1:5000").status_code == 403
    app.extensions["ivr"].engine.dispose()


def test_json_body_is_checked_through_body_sha256(app):
    from webhooks.security import twilio_signed

    @app.post("/test-json-hook")
    @twilio_signed
    def json_hook():
        return "ok"

    client = app.test_client()
    body = json.dumps({"CallSid": "CA" + "2" * 32})
    url = f"{PUBLIC_BASE_URL}/test-json-hook?bodySHA256={hashlib.sha256(body.encode()).hexdigest()}"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, {})
    path = url.removeprefix(PUBLIC_BASE_URL)
    ok = client.post(path, data=body, content_type="application/json", headers={"X-Twilio-Signature": signature},
                     base_url=PUBLIC_BASE_URL)
    assert ok.status_code == 200
    altered = client.post(path, data=body.replace("2", "3"), content_type="application/json",
                          headers={"X-Twilio-Signature": signature}, base_url=PUBLIC_BASE_URL)
    assert altered.status_code == 403


def test_without_an_auth_token_webhooks_say_what_to_set(settings, clock):
    from dataclasses import replace

    app = create_app(replace(settings, twilio_auth_token=None, twilio_account_sid=None), clock=clock)
    response = app.test_client().post("/voice/incoming", data=PARAMS, base_url=PUBLIC_BASE_URL)
    assert response.status_code == 503 and b"TWILIO_AUTH_TOKEN" in response.data
    app.extensions["ivr"].engine.dispose()


# ---- bad input from a correctly signed request -------------------------------------------------

@pytest.mark.parametrize("params,message", [
    ({k: v for k, v in PARAMS.items() if k != "CallSid"}, b"CallSid"),
    ({**PARAMS, "CallSid": "CA123"}, b"CallSid"),
])
def test_missing_or_malformed_call_sid_is_a_400(twilio, runtime, params, message):
    response = twilio.post("/voice/incoming", params, expect_ok=False)
    assert response.status_code == 400 and message in response.data
    assert count(runtime, Call) == 0


def test_digits_that_no_keypad_has_are_a_400(twilio, runtime):
    call = twilio.call()
    response = twilio.post(call.pending.action, {**call.params(), "Digits": "1<script>"}, expect_ok=False)
    assert response.status_code == 400 and b"Digits" in response.data
    assert count(runtime, QueueEntry) == 0


def test_steps_for_unknown_calls_or_turns_are_refused(twilio, runtime):
    unknown = {**PARAMS, "CallSid": new_sid("CA"), "Digits": "1"}
    assert twilio.post("/voice/step/menu?t=1", unknown, expect_ok=False).status_code == 404
    call = twilio.call()
    ahead = twilio.post("/voice/step/menu?t=7", {**call.params(), "Digits": "1"}, expect_ok=False)
    assert ahead.status_code == 409
    missing_turn = twilio.post("/voice/step/menu", {**call.params(), "Digits": "1"}, expect_ok=False)
    assert missing_turn.status_code == 400
    assert count(runtime, QueueEntry) == 0


def test_status_callback_with_an_unknown_status_is_a_400(twilio):
    response = twilio.post("/voice/status", {**PARAMS, "CallStatus": "exploded"}, expect_ok=False)
    assert response.status_code == 400


def test_late_and_repeated_status_callbacks_are_harmless(twilio, runtime, busy_agent):
    busy_agent("billing")  # a wait to tell: arrived, wait_announced, abandoned
    call = twilio.call()
    call.press("1")
    call.hang_up()
    for status in ("completed", "in-progress", "completed"):
        assert twilio.post("/voice/status", {**call.params(), "CallStatus": status}).status_code == 204
    with runtime.sessions() as s:
        assert s.get(Call, call.call_sid).status == "completed"
        # not the callback a busy agent is on (agents_api.put_on_a_call)
        [entry] = s.scalars(select(QueueEntry).where(QueueEntry.phone_number != agents_api.BUSY_CUSTOMER)).all()
        assert entry.state == "abandoned" and len(entry.events) == 3
