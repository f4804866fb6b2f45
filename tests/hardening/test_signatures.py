"""Twilio signatures are checked against our own address only. Before: without PUBLIC_BASE_URL a signature made for any host was accepted through a forged Host
or X-Forwarded-Host, on every Twilio route, and a signature for another app on the same account
replayed here. Now signatures are checked only against PUBLIC_BASE_URL, a listed host, or (for
development on one machine) the loopback address the app serves, and anything else is refused with
what to set."""
from __future__ import annotations

from dataclasses import replace

import pytest

from app import create_app
from tests.conftest import PUBLIC_BASE_URL
from tests.hardening.conftest import rows, sign, twilio_routes
from tests.support.twilio_voice import ACCOUNT_SID, new_sid


def params() -> dict:
    return {"AccountSid": ACCOUNT_SID, "CallSid": new_sid("CA"), "MessageSid": new_sid("SM"), "From": "+12125550142",
            "To": "+15005550006", "CallStatus": "completed", "Digits": "1", "Body": "CALL ME",
            "AnsweredBy": "human", "QueueResult": "hangup"}


@pytest.fixture
def make_app(settings, clock):
    made = []

    def make(**changes):
        app = create_app(replace(settings, **changes), clock=clock)
        app.config.update(CALLBACK_LIMIT_PER_NUMBER="1000/minute")
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["ivr"].engine.dispose()


def test_every_twilio_route_is_found(app):
    routes = twilio_routes(app)
    for expected in ("/voice/incoming", "/voice/status", "/webhooks/sms", "/outbound/customer/"):
        assert any(r.startswith(expected) for r in routes), routes


@pytest.mark.parametrize("how", ["Host", "X-Forwarded-Host"])
def test_without_a_public_url_a_signature_for_a_forged_host_is_refused_on_every_route(make_app, how):
    app = make_app(public_base_url=None)
    client = app.test_client()
    before = rows(app.extensions["ivr"])
    for path in twilio_routes(app):
        form = params()
        signature = sign("https://attacker.example" + path, form)
        headers = {"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https"}
        if how == "Host":
            response = client.post(path, data=form, headers=headers, base_url="https://attacker.example")
        else:
            headers["X-Forwarded-Host"] = "attacker.example"
            response = client.post(path, data=form, headers=headers, base_url="http://127.0.0.1:5000")
        assert response.status_code == 403, path
        # A forged Host is named (the operator must set PUBLIC_BASE_URL); a forwarded host is not trusted at all,
        # so the signature is checked over the real host and fails.
        expected = "set PUBLIC_BASE_URL" if how == "Host" else "X-Twilio-Signature is missing or does not match"
        assert expected in response.get_data(as_text=True), path
    assert rows(app.extensions["ivr"]) == before  # nothing booked, no call stored


def test_a_forged_host_text_books_nothing(make_app):
    app = make_app(public_base_url=None)
    form = params()
    response = app.test_client().post("/webhooks/sms", data=form, base_url="https://attacker.example",
                                      headers={"X-Twilio-Signature": sign("https://attacker.example/webhooks/sms",
                                                                          form)})
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "set PUBLIC_BASE_URL" in body and "TWILIO_WEBHOOK_HOSTS" in body
    assert rows(app.extensions["ivr"])["queue_entries"] == 0


def test_a_signature_for_another_app_on_the_account_does_not_replay_here(app, runtime):
    form = params()
    other_app = "https://other-app.example.net/webhooks/sms"
    response = app.test_client().post("/webhooks/sms", data=form, base_url="https://other-app.example.net",
                                      headers={"X-Twilio-Signature": sign(other_app, form)})
    assert response.status_code == 403
    assert rows(runtime)["queue_entries"] == 0


def test_a_listed_host_is_accepted_and_only_that_one(make_app):
    app = make_app(public_base_url=None, twilio_webhook_hosts=("ivr.example.org",))
    client = app.test_client()
    form = params()
    ok = client.post("/voice/incoming", data=form, base_url="https://ivr.example.org",
                     headers={"X-Twilio-Signature": sign("https://ivr.example.org/voice/incoming", form)})
    assert ok.status_code == 200
    form = params()
    other = client.post("/voice/incoming", data=form, base_url="https://ivr.example.net",
                        headers={"X-Twilio-Signature": sign("https://ivr.example.net/voice/incoming", form)})
    assert other.status_code == 403
    # Without TRUSTED_PROXY_HOPS, X-Forwarded-Host cannot claim the listed host either.
    form = params()
    forwarded = client.post("/voice/incoming", data=form, base_url="http://127.0.0.1:5000",
                            headers={"X-Twilio-Signature": sign("https://ivr.example.org/voice/incoming", form),
                                     "X-Forwarded-Host": "ivr.example.org", "X-Forwarded-Proto": "https"})
    assert forwarded.status_code == 403
    assert rows(app.extensions["ivr"])["calls"] == 1


@pytest.mark.parametrize("base", ["http://127.0.0.1:5000", "http://localhost:5000"])
def test_local_development_accepts_the_address_the_app_serves_from_this_machine(make_app, base):
    """`python app.py` without PUBLIC_BASE_URL: the dev phone on the same machine signs for the app's URL."""
    app = make_app(public_base_url=None, port=5000)
    form = params()
    signature = sign(base + "/voice/incoming", form)
    response = app.test_client().post("/voice/incoming", data=form, base_url=base,
                                      headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


@pytest.mark.parametrize("base,peer", [("http://127.0.0.1:8080", "127.0.0.1"),  # not the port it serves
                                       ("http://127.0.0.1:5000", "198.51.100.7"),  # not from this machine
                                       ("https://127.0.0.1:5000", "127.0.0.1")])  # not how it serves
def test_local_development_accepts_nothing_else(make_app, base, peer):
    app = make_app(public_base_url=None, port=5000)
    form = params()
    response = app.test_client().post("/voice/incoming", data=form, base_url=base,
                                      environ_base={"REMOTE_ADDR": peer},
                                      headers={"X-Twilio-Signature": sign(base + "/voice/incoming", form)})
    assert response.status_code == 403
    assert rows(app.extensions["ivr"])["calls"] == 0


def test_with_a_public_url_the_host_header_does_not_matter(app, runtime):
    form = params()
    signature = sign(PUBLIC_BASE_URL + "/voice/incoming", form)
    response = app.test_client().post("/voice/incoming", data=form, base_url="http://10.0.0.5:8000",
                                      headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_local_development_on_a_named_address_accepts_it_from_this_machine_only(make_app):
    """HOST=192.0.2.10: the dev phone in the same process signs http://192.0.2.10:5000 and comes from there."""
    app = make_app(public_base_url=None, host="192.0.2.10", port=5000)
    for peer, status in (("192.0.2.10", 200), ("198.51.100.7", 403)):
        form = params()
        response = app.test_client().post("/voice/incoming", data=form, base_url="http://192.0.2.10:5000",
                                          environ_base={"REMOTE_ADDR": peer}, headers={
                                              "X-Twilio-Signature": sign("http://192.0.2.10:5000/voice/incoming",
                                                                         form)})
        assert response.status_code == status, peer
