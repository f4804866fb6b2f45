"""Hostile input over every public entry but /media (its own suite): Twilio webhooks (unsigned, and
signed with odd values), the callback API (raw bodies, and schemathesis over its OpenAPI description)
and the chat webhook (signed and not). Whatever is sent: never a 5xx, and a refused request writes
no row anywhere."""
from __future__ import annotations

import json
import uuid

import pytest
import schemathesis
import schemathesis.config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PUBLIC_BASE_URL
from tests.hardening.conftest import rows, sign, twilio_routes
from webhooks.chat import signature

SECRET = "chat-secret-for-hostile-tests"
RUN = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))

TWILIO_NAMES = ["CallSid", "AccountSid", "From", "To", "Caller", "Called", "CallStatus", "Digits", "Body",
                "MessageSid", "QueueSid", "QueuePosition", "QueueResult", "QueueTime", "AnsweredBy",
                "DialCallStatus", "DequeingCallSid", "CallDuration", "SpeechResult", "Confidence"]
odd_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["CA" + "0" * 32, "CA" + uuid.uuid4().hex, "SM" + uuid.uuid4().hex, "+12125550142",
                     "sip:alice@pbx.example.com", "client:bob", "\x00", "completed", "in-progress", "1", "#",
                     "9" * 5000, "é" * 300, "\ud800", "<Say>x</Say>", "-1", "hangup", "leave", "human"]),
)
twilio_form = st.dictionaries(st.one_of(st.sampled_from(TWILIO_NAMES), st.text(max_size=12)), odd_text, max_size=8)


@pytest.fixture
def open_limits(app):
    app.config.update(CALLBACK_LIMIT_PER_IP="1000000/minute", CALLBACK_LIMIT_PER_NUMBER="1000000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="1000000/minute", CHAT_SECRETS={"helpbot": SECRET})


def _clean(form: dict) -> dict:
    # What an HTTP form can carry at all: no lone surrogates (they cannot be encoded).
    return {k.encode("utf-8", "replace").decode(): v.encode("utf-8", "replace").decode() for k, v in form.items()}


def header(value: str) -> str:
    """What an HTTP header can carry at all: Latin-1, no line breaks."""
    return value.encode("latin-1", "replace").decode("latin-1").replace("\r", " ").replace("\n", " ")


def check(runtime, send):
    before = rows(runtime)
    response = send()
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert rows(runtime) == before, response.status_code
    return response


def test_twilio_webhooks_unsigned(app, runtime, open_limits):
    client, routes = app.test_client(), twilio_routes(app)

    @RUN
    @given(route=st.sampled_from(routes), form=twilio_form, signature_=odd_text)
    def attack(route, form, signature_):
        headers = {"X-Twilio-Signature": header(signature_)}
        response = check(runtime, lambda: client.post(route, data=_clean(form), headers=headers,
                                                      base_url=PUBLIC_BASE_URL))
        assert response.status_code in (400, 403)

    attack()


def test_twilio_webhooks_signed_with_odd_values(app, runtime, open_limits):
    client, routes = app.test_client(), twilio_routes(app)

    @RUN
    @given(route=st.sampled_from(routes), form=twilio_form)
    def attack(route, form):
        form = _clean(form)
        headers = {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + route, form)}
        check(runtime, lambda: client.post(route, data=form, headers=headers, base_url=PUBLIC_BASE_URL))

    attack()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20)
api_fields = st.fixed_dictionaries({}, optional={
    "phone": st.one_of(st.sampled_from(["+12125550142", "+31612345678", "+447012345678", "911"]), odd_text),
    "name": odd_text, "skill": st.sampled_from(["billing", "support", "general", "x"]), "reason": odd_text,
    "when": st.sampled_from(["asap", "scheduled", "later"]), "preferred_time": odd_text,
    "timezone": st.sampled_from(["Europe/Amsterdam", "Nowhere/Land", ""]), "language": odd_text,
    "channel": st.sampled_from(["web", "api", "chat", "sms", "x"]), "context": json_values,
    "transcript": json_values, "customer_reference": odd_text,
})
raw_bodies = st.one_of(
    st.binary(max_size=300),
    api_fields.map(lambda d: json.dumps(d, ensure_ascii=True).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=1, max_value=3000).map(lambda n: b'{"phone": ' + b"[" * n + b"]" * n + b"}"),
)


def test_the_callback_api(app, runtime, open_limits):
    client = app.test_client()

    @RUN
    @given(body=raw_bodies, content_type=st.sampled_from(["application/json", "text/plain", "application/json; x"]),
           origin=st.sampled_from([None, "https://evil.example", "https://ivr.example.com"]))
    def attack(body, content_type, origin):
        headers = {"Origin": origin} if origin else {}
        check(runtime, lambda: client.post("/api/callbacks", data=body, content_type=content_type, headers=headers))

    attack()


def test_the_chat_webhook(app, runtime, clock, open_limits):
    client = app.test_client()

    @RUN
    @given(body=raw_bodies, signed=st.booleans(), nonce=st.one_of(st.just(None), odd_text))
    def attack(body, signed, nonce):
        timestamp = str(int(clock.now().timestamp()))
        nonce = uuid.uuid4().hex if nonce is None else header(nonce)
        headers = {"Content-Type": "application/json", "X-Chat-Integration": "helpbot",
                   "X-Chat-Timestamp": timestamp, "X-Chat-Nonce": nonce,
                   "X-Chat-Signature": signature(SECRET, timestamp, nonce, body) if signed else "sha256=x"}
        check(runtime, lambda: client.post("/webhooks/chat/callback", data=body, headers=headers))

    attack()


@pytest.fixture
def api_schema(app, open_limits):
    config = schemathesis.config.SchemathesisConfig.from_str("""
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
""")
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_by_its_openapi_description(case, runtime):
    before = rows(runtime)
    response = case.call()
    assert response.status_code < 500
    if response.status_code >= 400:
        assert rows(runtime) == before
