"""Round two: a Hypothesis sweep over every route in Flask's URL map, signed in (an admin, with a real
CSRF token, the agents API's Bearer token, and Twilio's signature on the webhooks) and not. Odd values
everywhere a request carries text (path variables, query, form, JSON): NUL and other control
characters, ids far past any column, dates at the calendar's ends, redirect targets with line breaks.
Whatever is sent: never a 5xx (but /readyz's 503, its documented "not ready": no scheduler leader here)."""
from __future__ import annotations

import json
import re
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import PUBLIC_BASE_URL
from tests.hardening.conftest import CSRF, sign, sign_in

AGENTS_TOKEN = "agents-token-for-the-sweep"
# What a route answers by design: ops/http.py's readiness probe is 503 while the app is not ready.
EXPECTED_5XX = {(503, "ops.readyz")}
PER_ROUTE = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
# Every name a view reads from a form, a query or a JSON body (and Twilio's), plus whatever Hypothesis makes up.
FIELDS = ["username", "password", "next", "back", "text", "reason", "when", "zone", "priority", "current", "skill",
          "skills", "name", "address", "wrap_up_seconds", "remove", "role", "active", "timezone", "state",
          "shown_state", "version", "period", "start", "end", "since", "token", "t", "language", "tab", "actor",
          "phone", "preferred_time", "channel", "context", "CallSid", "AccountSid", "From", "To", "CallStatus",
          "Digits", "Body", "MessageSid", "SpeechResult", "Confidence", "AnsweredBy", "QueueResult"]
ODD = ["\x00", "a\x00b", "x\r\nSet-Cookie: a=1", "\x1b[2J", "\u2028", "9" * 30, "-1", "0", "", "é" * 200,
       "9999-12-31", "0001-01-01", "9999-12-31T23:59", "/supervisor/\r\n", "//evil.example/", "https://evil.example"]
USUAL = ["available", "offline", "admin", "supervisor", "+12125550142", "+3197012345678", "Europe/Amsterdam",
         "Mars/Base", "up", "down", "1", "2", "call-now", "menu", "billing", "billing:7", "2026-11-25T14:30",
         "2026-11-24", "7d", "/supervisor/", "CA" + "0" * 32, "in-progress", "completed", "human", "web"]
TWILIO_CALL = {"AccountSid": "AC" + "0" * 32, "CallSid": "CA" + "0" * 32, "From": "+12125550142",
               "To": "+15005550006", "CallStatus": "in-progress"}
values = st.one_of(st.sampled_from(ODD), st.sampled_from(USUAL), st.text(max_size=30),
                   st.integers(-2, 10**30).map(str))
fields = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), values, max_size=4)
json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), values,
                                     st.just("\ud800")),  # a lone surrogate: only JSON can carry one
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(values, inner, max_size=3),
                           max_leaves=8)


def _int_variables(rule) -> set[str]:
    return {name for name, converter in rule._converters.items() if "int" in type(converter).__name__.lower()}


@pytest.fixture
def world(app, runtime, users, generous_limits, monkeypatch):
    """Something for ids to point at: a callback booked through the API and an agent added through its API."""
    monkeypatch.setenv("AGENTS_API_TOKEN", AGENTS_TOKEN)
    app.config.update(SUPERVISOR_LOGIN_LIMIT="100000/minute", SUPERVISOR_ACCOUNT_LIMIT="100000/minute",
                      CHAT_SECRETS={"helpbot": "chat-secret"})
    booked = app.test_client().post("/api/callbacks", json={"phone": "+12125550142"}).get_json()
    agent = app.test_client().post("/api/agents", json={"name": "Ann", "address": "+12125550199", "skills": ["billing"]},
                                   headers={"Authorization": f"Bearer {AGENTS_TOKEN}"}).get_json()
    return {"public_id": booked["id"], "entry_id": booked["id"], "agent_id": str(agent["id"]),
            "agent_ref": str(agent["id"]), "user_id": "1", "step": "menu", "leg": "1", "action": "note",
            "filename": "supervisor.js"}


def _sweep(app, world, client, *, signed_in: bool, csrf: str | None = None, me: str | None = None) -> dict:
    """Every route, PER_ROUTE odd requests each; what each endpoint answered."""
    answered: dict[str, set[int]] = {}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "supervisor.logout" or not signed_in]
    assert len(rules) >= 45
    for rule in rules:
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        ints = _int_variables(rule)
        twilio_signed = getattr(app.view_functions[rule.endpoint], "twilio_signed", False)

        @PER_ROUTE
        @given(method=st.sampled_from(methods), data=st.data(), query=fields, form=fields, body=json_values,
               as_json=st.booleans())
        def attack(method, data, query, form, body, as_json):
            path = rule.rule
            for name in rule.arguments:
                known = world.get(name, "x")
                raw = data.draw(st.one_of(st.just(known), st.integers(0, 10**30).map(str)) if name in ints
                                else st.one_of(st.just(known), values), label=name)
                if signed_in and name == "user_id" and raw == me:
                    raw = known  # the sweep's own admin stays signed in
                path = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{name}>", quote(raw, safe="") or "x", path)
            if twilio_signed and signed_in:  # as Twilio calls them: the URLs the IVR gave it, a call's fields
                query = data.draw(st.sampled_from([{}, {"t": "1"}, query]), label="twilio query")
                form = {**TWILIO_CALL, **form} if data.draw(st.booleans(), label="a call's fields") else form
            url = path + ("?" + urlencode(query) if query else "")
            headers = {"Accept": data.draw(st.sampled_from(["text/html", "application/json", "*/*"]), label="accept")}
            if method in ("GET", "DELETE"):
                kwargs = {}
            elif as_json and not twilio_signed:
                kwargs = {"data": json.dumps(body), "content_type": "application/json"}
            else:
                form = dict(form, **({"csrf_token": csrf} if csrf and rule.endpoint.startswith("supervisor.") else {}))
                kwargs = {"data": form}
                if signed_in and twilio_signed:
                    headers["X-Twilio-Signature"] = sign(PUBLIC_BASE_URL + url, form)
            if signed_in:  # over https a form needs a same-site Referer too (flask-wtf), as a browser sends
                headers.update(Authorization=f"Bearer {AGENTS_TOKEN}", Referer=PUBLIC_BASE_URL + "/supervisor/")
            response = client.open(url, method=method, headers=headers, base_url=PUBLIC_BASE_URL, **kwargs)
            status = response.status_code
            response.close()  # the live queue's event stream is not read to its (never) end
            assert status < 500 or (status, rule.endpoint) in EXPECTED_5XX, (method, url, kwargs, status)
            answered.setdefault(rule.endpoint, set()).add(status)

        attack()
    return answered


def test_no_route_answers_5xx_to_a_stranger(app, world):
    _sweep(app, world, app.test_client(), signed_in=False)


def test_no_route_answers_5xx_to_a_signed_in_admin(app, world):
    client = app.test_client()
    signed = sign_in(client, "ada", base_url=PUBLIC_BASE_URL, headers={"Referer": PUBLIC_BASE_URL + "/supervisor/"})
    assert signed.headers["Location"] == "/supervisor/"
    page = client.get("/supervisor/agents", base_url=PUBLIC_BASE_URL, headers={"Accept": "text/html"})
    csrf = CSRF.search(page.get_data(as_text=True)).group(1)
    answered = _sweep(app, world, client, signed_in=True, csrf=csrf, me="2")
    # The sweep got past the guards: views answered (not only CSRF or signature refusals).
    assert {200, 303} & answered["supervisor.act"] and 303 in answered["supervisor.agent_add"]
    assert answered["voice.incoming"] - {400, 403} and 200 in answered["agents_api.list_all"]
    # Still signed in after all that (the sweep really ran as the admin, to the end).
    assert client.get("/supervisor/", base_url=PUBLIC_BASE_URL, headers={"Accept": "text/html"}).status_code == 200
