"""The dev phone's "open every team for this demo" switch: one click makes every team
open at any hour for the app whose dev phone is on, through routing.hours' one funnel; a production
app (PUBLIC_BASE_URL set, DEV_PHONE unset) has no such switch at all."""
from __future__ import annotations

from datetime import datetime, timezone

from routing import hours
from telephony.emulator import Emulator
from telephony.transport import WsgiTransport
from tests.devphone.conftest import Browser, served
from tests.support import agents_api

SATURDAY_NIGHT = datetime(2026, 11, 21, 8, 0, tzinfo=timezone.utc)  # 03:00 in New York: every team closed


def caller(app):
    """Twilio as the dev phone's emulator signs, stepped (virtual time) through the app in-process."""
    phone = app.extensions["devphone"]
    return Emulator(phone.emulator.auth_token, phone.public_base, number=phone.emulator.number,
                    transport=WsgiTransport(app, phone.public_base), clock=app.extensions["ivr"].clock.now)


def test_the_switch_opens_every_team_for_the_ivr_and_the_page(dev_app, clock, monkeypatch):
    clock.set(SATURDAY_NIGHT)
    runtime = dev_app.extensions["ivr"]
    page = Browser(dev_app)
    setup = page.get("/setup").get_json()
    assert setup["open_every_team"] is False and not any(s["open"] for s in setup["skills"])
    closed = caller(dev_app).call("+12125550142")
    closed.press("1")  # billing
    assert "closed right now" in " ".join(closed.heard)

    switched = page.post("/demo-hours", {"open_every_team": True}, method="PUT")
    assert switched.status_code == 200
    assert all(s["open"] and s["opens_at"] is None for s in switched.get_json()["skills"])
    assert page.get("/setup").get_json()["open_every_team"] is True
    assert all(hours.is_open(skill, SATURDAY_NIGHT) for skill in runtime.ivr_config.skills.values())
    # Someone is on (busy on a call), so a wait can be told: with nobody staffed none is. An agent added
    # through /api/agents takes a callback booked on the web button, placed through the dev phone's live
    # Twilio, which reaches the app over HTTP: the app is served for it.
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    client = dev_app.test_client()
    with served(dev_app):
        busy = agents_api.add_available(client, "Busy", "+12125550177", ["billing"], wrap_up_seconds=0)
        agents_api.put_on_a_call_live(client, dev_app.extensions["devphone"].emulator, runtime, busy,
                                      "+12125550177", "billing")
        # The IVR, the dispatcher and booking rules all ask routing.hours: the caller is put through now.
        opened = caller(dev_app).call("+12125550142")
        opened.press("1")
    assert "closed right now" not in " ".join(opened.heard)
    assert "The wait is about 4 minutes" in opened.last_heard  # the one agent is busy: the wait is offered

    assert page.post("/demo-hours", {"open_every_team": False}, method="PUT").status_code == 200
    assert not any(hours.is_open(skill, SATURDAY_NIGHT) for skill in runtime.ivr_config.skills.values())


def test_the_switch_refuses_what_is_not_true_or_false(browser_client, dev_app):
    for bad in ({"open_every_team": "yes"}, {}, {"open_every_team": 1}):
        answer = browser_client.post("/demo-hours", bad, method="PUT")
        assert answer.status_code == 400, bad
    assert dev_app.extensions["devphone"].demo_hours.on is False


def test_a_production_app_has_no_switch(make_app, clock):
    """PUBLIC_BASE_URL set and DEV_PHONE unset: no dev phone, no URL, and skills wired to nothing."""
    clock.set(SATURDAY_NIGHT)
    app = make_app()
    assert "devphone" not in app.extensions
    assert app.test_client().put("/dev-phone/api/demo-hours", json={"open_every_team": True}).status_code == 404
    skills = app.extensions["ivr"].ivr_config.skills.values()
    assert all(skill.demo_hours is None for skill in skills)
    assert not any(hours.is_open(skill, SATURDAY_NIGHT) for skill in skills)
