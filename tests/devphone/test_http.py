"""/dev-phone over HTTP: on in development, 404 in a production set-up, refusals that change nothing,
and a keyed call through the page's API that reaches the IVR through the app's real signature check."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from config import ConfigError, Settings
from storage.db import transaction
from storage.models import Agent, Call
from tests.devphone.conftest import DEVELOPMENT, Browser, EventStream, served
from tests.support.waiting import wait_for

PATHS = ["/dev-phone", "/dev-phone/", "/dev-phone/api/setup", "/dev-phone/api/agents", "/dev-phone/api/events?tab=abcdefgh1",
         "/dev-phone/static/devphone.js"]


def rows(runtime) -> tuple[int, int]:
    with transaction(runtime.sessions) as session:
        return (session.scalar(select(func.count(Call.call_sid))), session.scalar(select(func.count(Agent.id))))


# ---- on or off ------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes", [
    {},  # production: PUBLIC_BASE_URL and Twilio credentials set
    {"dev_phone": "off", **DEVELOPMENT},  # development, switched off
    {"dev_phone": "no"},
])
def test_when_off_every_dev_phone_url_is_a_plain_404(make_app, changes):
    app = make_app(**changes)
    client = app.test_client()
    for path in PATHS:
        assert client.get(path).status_code == 404, path
    for path in ("/dev-phone/api/calls", "/dev-phone/api/agents", "/dev-phone/api/line"):
        assert client.post(path, json={"from": "+12125550142"}).status_code == 404, path
    assert "devphone" not in app.extensions
    # Twilio stays what the operator configured (or nothing): no made-up token, no emulated REST client.
    assert app.config["TWILIO_AUTH_TOKEN"] == changes.get("twilio_auth_token", "test-auth-token-0123456789abcdef")
    twilio = app.extensions["ivr"].twilio
    if changes.get("twilio_auth_token", "set") is None:
        assert twilio is None  # no credentials: no client at all
    else:  # Twilio's own REST client with the operator's credentials, not the emulator's
        assert type(twilio).__module__ == "twilio.rest" and twilio.password == app.config["TWILIO_AUTH_TOKEN"]


def test_in_production_it_is_on_only_when_asked_for(make_app):
    app = make_app(dev_phone="on")
    page = app.test_client().get("/dev-phone")
    assert page.status_code == 200
    phone = app.extensions["devphone"]
    # The operator's Twilio account stays the app's: only the page's own calls go through the emulator,
    # signed with the operator's token at the public URL (sent to the local port).
    assert not phone.emulates_rest and phone.client is None
    assert phone.emulator.auth_token == "test-auth-token-0123456789abcdef"
    assert phone.public_base == "https://ivr.example.com"
    assert "dials callbacks through your Twilio account" in page.get_data(as_text=True)


def test_in_development_it_is_on_and_is_the_apps_twilio(dev_app):
    phone = dev_app.extensions["devphone"]
    runtime = dev_app.extensions["ivr"]
    assert phone.emulates_rest
    # Nothing runs until something uses it (commands start without it); the app's first REST request
    # (the dispatcher dialling a callback booked on the web, say) starts it, phones ringing in real time.
    assert phone._emulator is None
    assert runtime.twilio.calls.list(limit=1) == []
    assert phone.emulator.live
    # The dispatcher and barge-in use the emulator's REST API; webhooks are checked with its made-up token.
    assert runtime.twilio is phone.client
    assert runtime.extras["dispatcher"].dialer.client is phone.client
    assert runtime.extras["dispatcher"].dialer.ready
    assert dev_app.config["TWILIO_AUTH_TOKEN"] == phone.emulator.auth_token
    assert len(phone.emulator.auth_token) >= 32
    assert runtime.settings.twilio_number == phone.emulator.number
    port = runtime.settings.port
    assert phone.public_base == phone.local_base == f"http://127.0.0.1:{port}"


def test_the_setting_comes_from_DEV_PHONE(make_app):
    assert Settings.from_env({"DEV_PHONE": " On "}).dev_phone == "on"
    assert Settings.from_env({}).dev_phone is None
    with pytest.raises(ConfigError, match="DEV_PHONE must be on or off"):
        make_app(dev_phone="maybe")


def test_the_page_works_under_the_apps_content_security_policy(dev_app):
    client = dev_app.test_client()
    page = client.get("/dev-phone")
    html = page.get_data(as_text=True)
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    # No inline script, no inline handler: every script is a file of this app.
    assert "<script>" not in html and " onclick=" not in html and "javascript:" not in html
    for asset in ("devphone.js", "devphone.css", "phone-line-worklet.js"):
        assert f"/dev-phone/static/{asset}" in html
        assert client.get(f"/dev-phone/static/{asset}").status_code == 200
    assert page.headers["Cache-Control"] == "no-store"


def test_the_page_warns_when_it_is_served_from_another_port_than_the_emulator_calls(dev_app):
    port = dev_app.extensions["ivr"].settings.port
    client = dev_app.test_client()
    right = client.get("/dev-phone", base_url=f"http://127.0.0.1:{port}").get_data(as_text=True)
    wrong = client.get("/dev-phone", base_url="http://127.0.0.1:8000").get_data(as_text=True)
    assert "came from another port" not in right
    assert "came from another port" in wrong and f"http://127.0.0.1:{port}" in wrong


def test_setup_lists_numbers_skills_and_agents(browser_client):
    setup = browser_client.get("/setup").get_json()
    assert setup["numbers"][0] == {"number": "+15005550006", "language": "en-US"}
    assert {"number": "+31201234567", "language": "nl-NL"} in setup["numbers"]
    assert {s["name"] for s in setup["skills"]} == {"billing", "support", "sales", "general"}
    support = next(s for s in setup["skills"] if s["name"] == "support")
    assert support["open"] is True and support["timezone"] == "America/New_York"  # the test clock: Tuesday 10:00
    assert setup["agents"] == [] and setup["emulates_rest"] is True


# ---- refusals change nothing ------------------------------------------------------------------------

def test_api_calls_without_the_page_are_refused(dev_app):
    client = dev_app.test_client()
    # No page opened in this browser: no line, nothing to act on.
    assert client.get("/dev-phone/api/setup").status_code == 403
    page = Browser(dev_app)
    runtime = dev_app.extensions["ivr"]
    before = rows(runtime)
    call = {"from": "+12125550142", "to": "+15005550006"}
    # No CSRF token (what a cross-site form would send).
    assert page.client.post("/dev-phone/api/calls", json=call).status_code == 400
    # Not JSON.
    assert page.client.post("/dev-phone/api/calls", data=call, headers={"X-CSRFToken": page.token}).status_code == 415
    # From another site, token or not.
    assert page.post("/calls", call, headers={"Origin": "https://evil.example"}).status_code == 403
    assert page.post("/calls", call, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert rows(runtime) == before
    assert dev_app.extensions["devphone"].emulator.calls == {}


@pytest.mark.parametrize("body", [
    {"from": "2125550142"},  # no country code
    {"from": "+1212555014x"},
    {"from": "+12125550142", "to": "not a number"},
    {"from": ["+12125550142"]},
    {"from": "+1" + "2" * 20},
])
def test_a_call_from_a_bad_number_is_refused(browser_client, dev_app, body):
    response = browser_client.post("/calls", body)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "international format" in response.get_json()["detail"]
    assert dev_app.extensions["devphone"].emulator.calls == {}


def test_bad_bodies_are_refused(browser_client):
    response = browser_client.client.post("/dev-phone/api/calls", data=b"{not json", content_type="application/json",
                                          headers={"X-CSRFToken": browser_client.token})
    assert response.status_code == 400
    response = browser_client.client.post("/dev-phone/api/calls", data=b"[1, 2]", content_type="application/json",
                                          headers={"X-CSRFToken": browser_client.token})
    assert response.status_code == 400


def test_calls_that_are_not_this_browsers_cannot_be_touched(browser_client):
    sid = "CA" + "0" * 32
    assert browser_client.post(f"/calls/{sid}/keys", {"key": "1"}).status_code == 404
    assert browser_client.post(f"/calls/{sid}/hang-up").status_code == 404
    assert browser_client.post(f"/calls/{sid}/answer", {"as": "human"}).status_code == 404
    assert browser_client.post(f"/calls/{sid}/prompt-done", {"prompt": 1}).status_code == 404
    assert browser_client.post(f"/calls/{sid}/say", {"text": "hello"}).status_code == 404
    assert browser_client.post("/calls/not-a-sid/keys", {"key": "1"}).status_code == 404


@pytest.mark.parametrize("body,status", [
    ({"skill": "astrology"}, 400),
    ({"skill": ["support"]}, 400),
    ({}, 400),
])
def test_a_demo_agent_needs_a_known_skill(browser_client, dev_app, body, status):
    before = rows(dev_app.extensions["ivr"])
    response = browser_client.post("/agents", body)
    assert response.status_code == status
    assert "Pick one of the skills" in response.get_json()["detail"]
    assert rows(dev_app.extensions["ivr"]) == before


def test_agent_states_go_through_the_agents_rules(browser_client, dev_app):
    runtime = dev_app.extensions["ivr"]
    agent = browser_client.post("/agents", {"skill": "support"})
    assert agent.status_code == 201
    agent = agent.get_json()
    assert agent["address"] == "client:devphone-support" and agent["state"] == "offline"
    # The same one click again gives the same agent, not a second one.
    assert browser_client.post("/agents", {"skill": "support"}).get_json()["id"] == agent["id"]
    assert rows(runtime)[1] == 1
    path = f"/agents/{agent['id']}/state"
    # Not this page's agent yet.
    assert browser_client.post(path, {"state": "available"}, method="PUT").status_code == 409
    assert browser_client.post("/line", {"agent": agent["id"]}).status_code == 200
    for state in ("on_call", "reserved", "wrap_up", "", None, 1):
        response = browser_client.post(path, {"state": state}, method="PUT")
        assert response.status_code == 400, state
    with transaction(runtime.sessions) as session:
        assert session.get(Agent, agent["id"]).state == "offline"
    done = browser_client.post(path, {"state": "available"}, method="PUT")
    assert done.status_code == 200 and done.get_json()["state"] == "available"
    with transaction(runtime.sessions) as session:
        assert session.get(Agent, agent["id"]).state == "available"


@pytest.mark.parametrize("body,status,detail", [
    ({"customer": "0612345678"}, 400, "The caller's number must be in international format: + and 7 to 15 digits."),
    ({"customer": 31612345678}, 400, "customer must be a phone number such as +12125550142."),
    ({"agent": 999}, 404, "No agent 999."),
    ({"agent": True}, 400, "agent must be an agent's id (a whole number)."),
    ({"agent": "1"}, 400, "agent must be an agent's id (a whole number)."),
    ({"colour": "red"}, 400, "Unknown fields: colour (customer, agent)."),
])
def test_the_line_refuses_what_is_not_a_number_or_an_agent(browser_client, dev_app, body, status, detail):
    response = browser_client.post("/line", body)
    assert response.status_code == status and response.get_json()["detail"] == detail, response.get_json()
    line = browser_client.line()
    assert line.customer is None and line.agent_id is None


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "x" * 2001}, {"text": "hi", "language": "fr-FR"},
                                  {"text": "bell\x07"}, {"text": 3}])
def test_prompt_audio_refuses_bad_text(browser_client, body):
    assert browser_client.post("/speech", body).status_code == 400


def test_the_event_stream_names_its_tab(browser_client):
    assert browser_client.get("/events").status_code == 400
    assert browser_client.get("/events?tab=../../x").status_code == 400


# ---- a call through the page's API, over real HTTP -------------------------------------------------

def prompts(events):
    return [e for e in events if e["type"] == "prompt"]


def said(text):
    return lambda seen: any(text in e["text"] for e in prompts(seen))


def test_a_keyed_call_reaches_the_ivr_through_its_signature_check(dev_app):
    page = Browser(dev_app)
    runtime = dev_app.extensions["ivr"]
    phone = dev_app.extensions["devphone"]
    with served(dev_app) as base:
        stream = EventStream(base, page)
        assert stream.until(lambda seen: seen and seen[0]["type"] == "snapshot")[0]["calls"] == []
        placed = page.post("/calls", {"from": "+12125550142", "to": "+15005550006"})
        assert placed.status_code == 201
        sid = placed.get_json()["call_sid"]
        greeting = prompts(stream.until(said("Thank you for calling")))[0]
        assert greeting["language"] == "en-US" and greeting["voice"] == "Polly.Joanna"
        assert greeting["call_sid"] == sid and greeting["phone"] == "customer"
        # The page says when a prompt finished; until then the next one waits (Twilio plays them in turn).
        with phone.emulator.driving():  # what the call waits for, read while the emulator is still
            call = phone.emulator.calls[sid]
            assert call.client_paces_prompts and call.wait_state.items[call.wait_state.pos].text.startswith(
                "Thank you for calling")
            assert not [t for t in phone.emulator.live_driver._timers if t[2] is call and t[4][0] == "item"]
        assert not said("Press 1 for billing")(stream.drain())
        # A report for an unknown prompt, or one that is not a prompt id, changes nothing.
        assert page.post(f"/calls/{sid}/prompt-done", {"prompt": 10_000}).get_json() == {"applied": False}
        assert page.post(f"/calls/{sid}/prompt-done", {"prompt": str(greeting["prompt"])}).status_code == 400
        assert page.post(f"/calls/{sid}/prompt-done", {"prompt": greeting["prompt"]}).get_json() == {"applied": True}
        menu = prompts(stream.until(said("Press 1 for billing")))[-1]
        assert page.post(f"/calls/{sid}/keys", {"key": "12"}).status_code == 400
        # A key during the menu (a prompt inside the Gather) stops it and counts, as on Twilio.
        assert page.post(f"/calls/{sid}/keys", {"key": "2"}).status_code == 204
        events = stream.until(lambda seen: prompts(seen[seen.index(menu) + 1:]))  # the next question
        assert {"type": "stop", "prompt": menu["prompt"], "why": "cut"}.items() <= next(
            e for e in events if e["type"] == "stop" and e["prompt"] == menu["prompt"]).items()
        assert page.post(f"/calls/{sid}/hang-up").status_code == 204
        stream.until(lambda seen: any(e["type"] == "ended" for e in seen))
        assert page.post(f"/calls/{sid}/keys", {"key": "1"}).status_code == 409
        stream.close()
    with transaction(runtime.sessions) as session:
        call = session.get(Call, sid)
        assert call is not None and call.skill == "support"
        assert call.scratch["path"][0]["keys"] == "2"


def test_an_abandoned_page_has_its_calls_hung_up(dev_app):
    page = Browser(dev_app)
    phone = dev_app.extensions["devphone"]
    with served(dev_app) as base:
        stream = EventStream(base, page)
        sid = page.post("/calls", {"from": "+12125550142"}).get_json()["call_sid"]
        stream.until(lambda seen: any(e["type"] == "prompt" for e in seen))
        assert phone.hang_up_abandoned(now=time.monotonic() + 60) == 0  # its page is watching
        stream.close()
        # The server notices the closed stream at its next write (a comment every few seconds).
        wait_for(lambda: not page.line().streams, "the server to notice the page left")
        assert phone.hang_up_abandoned(now=time.monotonic()) == 0  # only just left: a reload is not the end
        assert phone.hang_up_abandoned(now=time.monotonic() + 60) == 1
        # The hang-up is an event for the emulator's worker: the call ends when it has run.
        wait_for(lambda: phone.emulator.calls[sid].status == "completed", "the emulator to end the call")


def test_the_microphone_socket_takes_this_pages_calls_only(dev_app):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    page, stranger = Browser(dev_app), Browser(dev_app)
    with served(dev_app) as base:
        stream = EventStream(base, page)
        sid = page.post("/calls", {"from": "+12125550142"}).get_json()["call_sid"]
        stream.until(lambda seen: prompts(seen))
        url = base.replace("http://", "ws://") + f"/dev-phone/api/calls/{sid}/audio"

        def closed_with(origin, browser, send=None, target=url) -> int:
            cookie = f"session={browser.client.get_cookie('session').value}"
            with connect(target, origin=origin, additional_headers={"Cookie": cookie}, proxy=None) as ws:
                if send is not None:
                    ws.send(send)
                with pytest.raises(ConnectionClosed) as closed:
                    ws.recv(timeout=10)
                return closed.value.rcvd.code

        assert closed_with("https://evil.example", page) == 1008  # another site's page
        assert closed_with(base, stranger) == 1008  # another browser: not its call
        assert closed_with(base, page, send="hello") == 1003  # text is not audio
        assert closed_with(base, page, send=b"\xff" * 4000) == 1003  # more than 200 ms at once
        assert closed_with(base, page, target=url.replace(sid, "CA" + "0" * 32)) == 1008  # no such call
        # Its own page's audio is taken (and goes nowhere without a speech step); the call goes on.
        cookie = f"session={page.client.get_cookie('session').value}"
        with connect(url, origin=base, additional_headers={"Cookie": cookie}, proxy=None) as ws:
            for _ in range(10):
                ws.send(b"\xff" * 160)
        assert dev_app.extensions["devphone"].emulator.calls[sid].status == "in-progress"
        page.post(f"/calls/{sid}/hang-up")
        stream.close()


def test_a_reconnecting_page_gets_what_it_missed_and_a_restarted_app_a_snapshot(browser_client, dev_app):
    phone = dev_app.extensions["devphone"]
    line = browser_client.line()
    for tab in ("tabone01", "tabtwo02"):  # each page that opens the stream is an event for the line
        phone.lines.tune_in(line, tab)
        phone.lines.tune_out(line)
    first = line.events[0]["id"]

    def opening(last_event_id: str, count: int) -> list[str]:
        response = browser_client.client.get("/dev-phone/api/events?tab=tabthree3", buffered=False,
                                             headers={"Last-Event-ID": last_event_id})
        chunks = response.response
        try:
            return [next(chunks).decode() for _ in range(count)]
        finally:
            response.close()

    missed = opening(f"{phone.lines.epoch}.{first}", 3)
    assert missed[0].startswith("retry:")
    assert '"tab": "tabtwo02"' in missed[1] and missed[1].startswith(f"id: {phone.lines.epoch}.")
    assert '"tab": "tabthree3"' in missed[2]
    fresh = opening(f"0000dead.{first}", 2)  # numbered by another process: start from a snapshot
    assert fresh[1].startswith("event: snapshot\n") and '"calls": []' in fresh[1]


def test_a_call_the_app_places_rings_the_phone_with_that_number(dev_app):
    page = Browser(dev_app)
    runtime = dev_app.extensions["ivr"]
    phone = dev_app.extensions["devphone"]
    assert page.post("/line", {"customer": "+12125550142"}).status_code == 200
    hello = '<Response><Say language="en-US">Hello from the app</Say></Response>'
    with served(dev_app) as base:
        stream = EventStream(base, page)
        # Placed through the app's own Twilio client, as the dispatcher places callbacks.
        elsewhere = runtime.twilio.calls.create(to="+13125550199", from_="+15005550006", twiml=hello)
        sid = runtime.twilio.calls.create(to="+12125550142", from_="+15005550006", twiml=hello).sid
        ringing = stream.until(lambda seen: any(e["type"] == "ringing" for e in seen))[-1]
        assert ringing["call_sid"] == sid and ringing["phone"] == "customer" and ringing["from"] == "+15005550006"
        assert page.post(f"/calls/{sid}/keys", {"key": "1"}).status_code == 409  # not answered yet
        assert page.post(f"/calls/{sid}/answer", {"as": "robot"}).status_code == 400
        assert page.post(f"/calls/{elsewhere.sid}/answer", {"as": "human"}).status_code == 404  # not this phone's
        assert page.post(f"/calls/{sid}/answer", {"as": "human"}).status_code == 204
        said = stream.until(lambda seen: any(e["type"] == "prompt" for e in seen))[-1]
        assert said["text"] == "Hello from the app"
        assert page.post(f"/calls/{sid}/answer", {"as": "human"}).status_code == 409  # answered already
        assert page.post(f"/calls/{sid}/prompt-done", {"prompt": said["prompt"]}).get_json() == {"applied": True}
        stream.until(lambda seen: any(e["type"] == "ended" and e["call_sid"] == sid for e in seen))
        # Declining a ringing call: the app hears busy, as from a phone that rejects the call.
        declined = runtime.twilio.calls.create(to="+12125550142", from_="+15005550006", twiml=hello).sid
        stream.until(lambda seen: any(e["type"] == "ringing" and e["call_sid"] == declined for e in seen))
        assert page.post(f"/calls/{declined}/hang-up").status_code == 204
        stream.until(lambda seen: any(e["type"] == "ended" and e["call_sid"] == declined for e in seen))
        assert runtime.twilio.calls(declined).fetch().status == "busy"
        assert not any(e.get("call_sid") == elsewhere.sid for e in stream.seen)
        assert phone.emulator.calls[elsewhere.sid].status == "ringing"  # nobody's phone here: it rings on
        stream.close()


def test_a_callback_to_another_number_rings_the_customer_phone_that_called(dev_app):
    """The caller gave another number for the callback; the customer phone that last
    called the IVR answers for it, and the ringing event says which number rings."""
    page = Browser(dev_app)
    runtime = dev_app.extensions["ivr"]
    hello = '<Response><Say language="en-US">Hello from the app</Say></Response>'
    with served(dev_app) as base:
        stream = EventStream(base, page)
        # The emulator rings a created call on its worker thread; the phone calls only once both rang (the
        # dev phone's listener, subscribed first, has then heard them), so they really came before it.
        rang = set()
        dev_app.extensions["devphone"].emulator.subscribe(
            lambda e: rang.add(e["call_sid"]) if e["type"] == "ringing" else None)
        nobody = runtime.twilio.calls.create(to="+13125550199", from_="+15005550006", twiml=hello).sid
        agent = runtime.twilio.calls.create(to="client:devphone-billing", from_="+15005550006", twiml=hello).sid
        wait_for(lambda: {nobody, agent} <= rang, "both calls to ring")
        sid = page.post("/calls", {"from": "+12125550142"}).get_json()["call_sid"]
        stream.until(lambda seen: any(e["type"] == "prompt" for e in seen))
        assert page.post(f"/calls/{sid}/hang-up").status_code == 204
        stream.until(lambda seen: any(e["type"] == "ended" and e["call_sid"] == sid for e in seen))
        other = runtime.twilio.calls.create(to="+14155550123", from_="+15005550006", twiml=hello).sid
        ringing = stream.until(lambda seen: any(e["type"] == "ringing" and e["call_sid"] == other for e in seen))[-1]
        assert ringing["phone"] == "customer" and ringing["to"] == "+14155550123" and ringing["own_number"] is False
        assert page.post(f"/calls/{other}/answer", {"as": "human"}).status_code == 204
        said = stream.until(lambda seen: any(e["type"] == "prompt" and e["call_sid"] == other for e in seen))[-1]
        assert said["text"] == "Hello from the app"
        # Placed before this phone ever called: nobody's here; an agent's address is never the customer's.
        assert not any(e.get("call_sid") in (nobody, agent) for e in stream.seen)
        stream.close()


def test_after_a_restart_the_page_sends_its_line_again_and_gets_what_rang_meanwhile(make_app, dev_app):
    """The app restarts (a new process: its lines are empty). Its event streams end
    with the old one; the page's new stream gets a snapshot from another epoch, and the page sends its
    caller's number and agent again (devphone.js `resend`). A callback ringing the demo agent before
    that is handed to the page then, within its ring time-out, instead of ringing out (which would set
    the agent offline for a missed offer)."""
    page = Browser(dev_app)
    old = dev_app.extensions["devphone"]
    port = dev_app.extensions["ivr"].settings.port
    with served(dev_app) as base:
        stream = EventStream(base, page)
        stream.until(lambda seen: seen and seen[0]["type"] == "snapshot")
        old.stop()  # the process ends: its event streams end too, so the browser reconnects
        stream.thread.join(timeout=10)
        assert not stream.thread.is_alive()
    restarted = make_app(**DEVELOPMENT, port=port)
    phone = restarted.extensions["devphone"]
    runtime = restarted.extensions["ivr"]
    with served(restarted) as base:
        reborn = Browser(restarted)
        stream = EventStream(base, reborn)
        snapshot = stream.until(lambda seen: seen and seen[0]["type"] == "snapshot")[0]
        assert snapshot["customer"] is None and snapshot["agent_id"] is None  # a new process knows nothing
        hello = '<Response><Say language="en-US">Hello from the app</Say></Response>'
        sid = runtime.twilio.calls.create(to="+12125550142", from_="+15005550006", twiml=hello).sid
        # The emulator rang it (its worker told its listeners, under its lock): no line took it.
        wait_for(lambda: sid in phone.emulator.calls and ("ringing", "+12125550142") in phone.emulator.calls[sid].log,
                 "the emulator to ring the number")
        with phone.emulator.driving():
            assert not any(e.get("call_sid") == sid for line in phone.lines.all() for e in line.events)
        assert reborn.post("/line", {"customer": "+12125550142"}).status_code == 200  # the page's resend
        ringing = stream.until(lambda seen: any(e["type"] == "ringing" and e["call_sid"] == sid for e in seen))[-1]
        assert ringing["phone"] == "customer" and ringing["to"] == "+12125550142"
        assert reborn.post(f"/calls/{sid}/answer", {"as": "human"}).status_code == 204
        said = stream.until(lambda seen: any(e["type"] == "prompt" and e["call_sid"] == sid for e in seen))[-1]
        assert said["text"] == "Hello from the app"
        assert phone.emulator.calls[sid].status == "in-progress"  # the page is speaking the prompt
        assert reborn.post(f"/calls/{sid}/prompt-done", {"prompt": said["prompt"]}).get_json() == {"applied": True}
        ended = stream.until(lambda seen: any(e["type"] == "ended" and e["call_sid"] == sid for e in seen))[-1]
        assert ended["status"] == "completed"  # the TwiML ran out after its one <Say>
        stream.close()
    assert phone.emulator.calls[sid].status == "completed"


def test_a_text_from_the_customer_phone_is_a_signed_sms_webhook_and_its_reply_shows(dev_app):
    """The text box sends Twilio's Messaging webhook through the emulator,
    signed with the app's token, to /webhooks/sms; CALL ME books a callback and the reply is shown."""
    from storage.models import QueueEntry

    page = Browser(dev_app)
    runtime = dev_app.extensions["ivr"]
    assert page.post("/texts", {"body": "CALL ME"}).status_code == 409  # no caller's number yet
    assert page.post("/line", {"customer": "+12125550142"}).status_code == 200
    for bad in ({"body": ""}, {"body": "x" * 1601}, {"body": 5}):
        assert page.post("/texts", bad).status_code == 400
    with served(dev_app) as base:
        stream = EventStream(base, page)
        sent = page.post("/texts", {"body": "CALL ME"})
        assert sent.status_code == 201, sent.get_data(as_text=True)
        [reply] = sent.get_json()["replies"]
        shown = stream.until(lambda seen: any(e["type"] == "message" for e in seen))[-1]
        assert shown["body"] == reply and shown["phone"] == "customer"
        stream.close()
    with transaction(runtime.sessions) as session:
        entry = session.scalars(select(QueueEntry)).one()
        assert entry.channel == "sms" and entry.phone_number == "+12125550142"
    assert any(url.endswith("/webhooks/sms") and status == 200 for url, _, status in
               dev_app.extensions["devphone"].emulator.requests)


def test_the_chat_hand_over_goes_through_the_real_chat_api(dev_app):
    """The page's chat hand-over is a signed request to /webhooks/chat/callback
    (the "devphone" integration, its secret made up at start); the callback is booked for the chat channel."""
    from storage.models import QueueEntry

    page = Browser(dev_app)
    runtime = dev_app.extensions["ivr"]
    assert page.post("/chat", {"text": "call me"}).status_code == 409  # no number to call back yet
    assert page.post("/line", {"customer": "+12125550142"}).status_code == 200
    assert page.post("/chat", {"text": ""}).status_code == 400
    with served(dev_app) as base:
        stream = EventStream(base, page)
        handed = page.post("/chat", {"text": "my internet is down, please call me"})
        assert handed.status_code == 201, handed.get_data(as_text=True)
        message = handed.get_json()["message"]
        shown = stream.until(lambda seen: any(e["type"] == "message" for e in seen))[-1]
        assert shown["body"] == message
        stream.close()
    with transaction(runtime.sessions) as session:
        entry = session.scalars(select(QueueEntry)).one()
        assert entry.channel == "chat" and entry.phone_number == "+12125550142"
    # Unsigned, the same API refuses it: the page went through the signature check.
    assert dev_app.test_client().post("/webhooks/chat/callback", json={"phone": "+12125550142"}).status_code == 401
