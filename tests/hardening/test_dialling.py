"""Toll fraud and bad dial strings. Before: toll-fraud ranges were accepted, extensions silently dropped, and agents' addresses took
+1 900 numbers and any SIP domain. Now only the number kinds the operator allows are dialled
(landline, mobile, toll-free by default), extensions are refused, and agents pass the same check."""
from __future__ import annotations

from dataclasses import replace

import pytest

from app import create_app
from tests.hardening.conftest import rows

AGENTS_TOKEN = "agents-api-token-for-hardening-tests"


@pytest.fixture(autouse=True)
def generous(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")


def ask(app, phone: str):
    return app.test_client().post("/api/callbacks", json={"phone": phone})


@pytest.mark.parametrize("phone,kind", [
    ("+44 70 1234 5678", "personal"),  # UK 070: personal numbering, forwarded anywhere at the caller's cost
    ("+44 76 2345 6789", "pager"),  # UK 076
    ("+49 700 12345678", "personal"),  # DE 0700
    ("+49 164 1234567", "pager"),  # DE 0164
    ("+31 66 1234567", "pager"),  # NL 066
    ("+1 500 234 5678", "personal"),  # US 500
    ("+31 85 123 4567", "VoIP"),  # NL 085
    ("+1 900 555 0100", "premium"),
    ("+44 300 123 4567", "UAN"),
])
def test_numbers_in_toll_fraud_ranges_are_refused_and_nothing_is_stored(app, runtime, phone, kind):
    response = ask(app, phone)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["field"] == "/phone"
    if kind in ("premium", "UAN"):  # premium and shared-cost (UK 03 UAN) ranges have their own code
        assert problem["code"] == "number_premium"
    else:  # every other refused kind is named in the detail
        assert problem["code"] == "number_kind" and kind.lower() in problem["detail"].lower()
    assert rows(runtime)["queue_entries"] == 0


@pytest.mark.parametrize("phone", ["+44 20 7946 0018 ext. 12", "+1 212 555 0142 x3", "+12125550142,,5",
                                   "+1 212 555 0142;ext=7"])
def test_an_extension_is_refused_not_dropped(app, runtime, phone):
    response = ask(app, phone)
    assert response.status_code == 422 and response.get_json()["code"] == "number_extension"
    assert rows(runtime)["queue_entries"] == 0


def test_landlines_mobiles_and_toll_free_are_still_called(app):
    for phone in ("+1 212 555 0142", "+31 6 12345678", "+44 20 7946 0018", "+49 30 1234567", "+1 800 555 0100"):
        assert ask(app, phone).status_code == 201, phone


def test_the_operator_chooses_the_kinds(settings, clock):
    app = create_app(replace(settings, dial_number_kinds=("fixed_line", "mobile", "fixed_line_or_mobile", "voip")),
                     clock=clock)
    try:
        assert ask(app, "+31 85 123 4567").status_code == 201  # VoIP allowed here
        assert ask(app, "+1 800 555 0100").status_code == 422  # toll-free not listed here
    finally:
        app.extensions["ivr"].engine.dispose()


def test_an_unknown_kind_is_a_configuration_error(settings, clock):
    from config import ConfigError

    with pytest.raises(ConfigError, match="DIAL_NUMBER_KINDS"):
        create_app(replace(settings, dial_number_kinds=("mobile", "pagers")), clock=clock)


def test_a_texter_in_a_pager_range_is_told_why(twilio, runtime, app):
    import uuid

    from tests.conftest import PUBLIC_BASE_URL
    from tests.hardening.conftest import sign
    from tests.support.twilio_voice import ACCOUNT_SID

    form = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": "+31661234567",
            "To": "+15005550006", "Body": "BEL MIJ"}
    response = app.test_client().post("/webhooks/sms", data=form, base_url=PUBLIC_BASE_URL,
                                      headers={"X-Twilio-Signature": sign(PUBLIC_BASE_URL + "/webhooks/sms", form)})
    assert "semafoon" in response.get_data(as_text=True)
    assert rows(runtime)["queue_entries"] == 0


# ---- agents ------------------------------------------------------------------------------------------

@pytest.fixture
def agents_api(app, monkeypatch):
    monkeypatch.setenv("AGENTS_API_TOKEN", AGENTS_TOKEN)
    client = app.test_client()
    return lambda body: client.post("/api/agents", json=body, headers={"Authorization": f"Bearer {AGENTS_TOKEN}"})


@pytest.mark.parametrize("address,why", [
    ("+1 900 555 0100", "is not a way to reach an agent: use an E.164 number"),  # spaces: not E.164
    ("+19005550100", "this is a premium rate number, which we do not call"),
    ("+15002345678", "this is a personal number, which we do not call"),
    ("+447623456789", "this is a pager number, which we do not call"),
    ("sip:x@evil.example", "SIP addresses at evil.example are not allowed: list the domain in AGENT_SIP_DOMAINS"),
    ("sip:ann@pbx.example.com.evil.example", "SIP addresses at pbx.example.com.evil.example are not allowed"),
    ("sip:" + "a" * 200 + "@pbx.example.com", "an agent's address has at most 200 characters"),
])
def test_an_agent_address_that_would_dial_toll_fraud_is_refused(agents_api, runtime, address, why):
    response = agents_api({"name": "Ann", "address": address, "skills": ["billing"]})
    assert response.status_code == 400, response.get_data(as_text=True)
    problem = response.get_json()
    assert problem["code"] == "invalid" and why in problem["detail"], problem
    assert rows(runtime)["agents"] == 0


def test_sip_agents_at_a_listed_domain_and_ordinary_numbers_are_fine(agents_api, runtime):
    # tests/conftest.py lists pbx.example.com in AGENT_SIP_DOMAINS.
    for n, address in enumerate(["sip:ann@pbx.example.com", "sip:bo@PBX.example.com:5061;transport=tls",
                                 "+14155550101", "client:cy"]):
        assert agents_api({"name": f"agent {n}", "address": address, "skills": ["billing"]}).status_code == 201
    assert rows(runtime)["agents"] == 4
