"""Duplicate webhooks: Twilio retries slow webhooks, so the same request can arrive twice at once. Sent 20 times
at once to a live server, every copy gets the same answer (the stored one), never a 500, and the
work is done once."""
from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from storage.models import Call, CallTurn, QueueEntry, QueueEvent, ReceivedText
from tests.hardening.conftest import at_once, rows, signed_post
from tests.support.twilio_voice import ACCOUNT_SID

TIMES = 20


def call_params(sid: str, **extra) -> dict:
    return {"AccountSid": ACCOUNT_SID, "CallSid": sid, "From": "+12125550142", "To": "+15005550006",
            "CallStatus": "in-progress", "Direction": "inbound", "ApiVersion": "2010-04-01", **extra}


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def test_the_same_incoming_call_twenty_times_at_once(live_app, runtime):
    sid = new_call_sid()
    answers = at_once(TIMES, lambda: signed_post(live_app, "/voice/incoming", call_params(sid)))
    assert [a.status_code for a in answers] == [200] * TIMES
    assert len({a.text for a in answers}) == 1  # the first answer, replayed
    with runtime.sessions() as s:
        assert s.scalars(select(Call.call_sid)).all() == [sid]
        assert s.scalars(select(CallTurn.turn).where(CallTurn.call_sid == sid)).all() == [0]


def test_the_same_key_press_twenty_times_at_once(live_app, runtime):
    sid = new_call_sid()
    greeting = signed_post(live_app, "/voice/incoming", call_params(sid))
    assert greeting.status_code == 200
    # Where the menu's keys go, as the TwiML says (the step and turn in its action URL).
    action = re.search(r'<Gather[^>]*action="https://ivr\.example\.com([^"]+)"', greeting.text).group(1)
    action = action.replace("&amp;", "&")
    answers = at_once(TIMES, lambda: signed_post(live_app, action, call_params(sid, Digits="2")))
    assert [a.status_code for a in answers] == [200] * TIMES
    assert len({a.text for a in answers}) == 1
    with runtime.sessions() as s:
        assert s.scalars(select(CallTurn.turn).where(CallTurn.call_sid == sid).order_by(CallTurn.turn)).all() \
            == [0, 1]
        # One key press moved the call on once: one place in support's line (nobody staffed: it holds while
        # the caller hears the callback offer), with one arrival event.
        entries = s.scalars(select(QueueEntry).where(QueueEntry.call_sid == sid)).all()
        assert [(e.state, e.skill) for e in entries] == [("holding", "support")]
        events = s.scalars(select(QueueEvent.event).where(QueueEvent.entry_id == entries[0].id)).all()
        assert events == ["arrived"]


def test_a_late_duplicate_of_a_key_press_gets_the_same_answer(live_app, runtime):
    sid = new_call_sid()
    greeting = signed_post(live_app, "/voice/incoming", call_params(sid))
    action = re.search(r'<Gather[^>]*action="https://ivr\.example\.com([^"]+)"', greeting.text).group(1)
    action = action.replace("&amp;", "&")
    first = signed_post(live_app, action, call_params(sid, Digits="2"))
    before = rows(runtime)
    late = signed_post(live_app, action, call_params(sid, Digits="2"))
    assert (late.status_code, late.text) == (first.status_code, first.text)
    assert rows(runtime) == before


def test_the_same_status_callback_twenty_times_at_once(live_app, runtime):
    sid = new_call_sid()
    assert signed_post(live_app, "/voice/incoming", call_params(sid)).status_code == 200
    answers = at_once(TIMES, lambda: signed_post(live_app, "/voice/status",
                                                 call_params(sid, CallStatus="completed", CallDuration="12")))
    assert [a.status_code for a in answers] == [204] * TIMES
    with runtime.sessions() as s:
        assert s.get(Call, sid).status == "completed"


def text_params(message_sid: str, body: str = "CALL ME", sender: str = "+12125550142") -> dict:
    return {"MessageSid": message_sid, "AccountSid": ACCOUNT_SID, "From": sender, "To": "+15005550006",
            "Body": body, "NumMedia": "0"}


def test_the_same_text_twenty_times_at_once_books_once(live_app, runtime, generous_limits):
    params = text_params("SM" + uuid.uuid4().hex)
    answers = at_once(TIMES, lambda: signed_post(live_app, "/webhooks/sms", params))
    assert [a.status_code for a in answers] == [200] * TIMES
    assert len({a.text for a in answers}) == 1 and "Booked" in answers[0].text
    with runtime.sessions() as s:
        assert len(s.scalars(select(QueueEntry)).all()) == 1
        assert s.scalars(select(ReceivedText.message_sid)).all() == [params["MessageSid"]]


def test_a_replayed_signed_text_books_nothing_again(live_app, runtime, generous_limits, supervisor):
    """The same MessageSid, after its callback was cancelled, does not book a second one."""
    params = text_params("SM" + uuid.uuid4().hex)
    first = signed_post(live_app, "/webhooks/sms", params)
    assert "Booked" in first.text
    with runtime.sessions() as s:
        entry = s.scalars(select(QueueEntry)).one()
    # A supervisor cancels it on the supervisor page: the number may book again.
    cancelled = supervisor.act(entry.public_id, "cancel", entry.version, reason="asked by phone")
    assert cancelled.status_code == 200, cancelled.get_data(as_text=True)
    before = rows(runtime)
    replay = signed_post(live_app, "/webhooks/sms", params)
    assert (replay.status_code, replay.text) == (200, first.text)
    assert rows(runtime) == before


def test_the_same_outbound_callbacks_twenty_times_at_once(live_app, app, runtime, generous_limits, monkeypatch):
    """The calls the dispatcher places: the agent's answer, key and status callbacks, each 20 times at once."""
    from tests.support import agents_api

    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    agent_id = agents_api.add_available(app.test_client(), "Ann", "+12125550199", ["general"])
    booked = app.test_client().post("/api/callbacks", json={"phone": "+12125550142", "skill": "general"})
    assert booked.status_code == 201
    dispatcher = runtime.extras["dispatcher"]
    assert dispatcher.run_once().claimed
    with runtime.sessions() as s:
        entry = s.scalars(select(QueueEntry)).one()
        public_id, leg, agent_sid = entry.public_id, int(entry.context.get("leg", 0)), entry.agent_call_sid
    assert agent_sid
    base = f"/outbound/agent/{public_id}/{leg}"
    agent_call = {"AccountSid": ACCOUNT_SID, "CallSid": agent_sid, "From": "+15005550006", "To": "+12125550199"}
    for path, params, ok in [(f"{base}/answer", agent_call, 200),
                             (f"{base}/accept", {**agent_call, "Digits": "1"}, 200),
                             (f"{base}/status", {**agent_call, "CallStatus": "completed"}, 204)]:
        answers = at_once(TIMES, lambda: signed_post(live_app, path, params))
        assert [a.status_code for a in answers] == [ok] * TIMES, path
    with runtime.sessions() as s:
        entry = s.scalars(select(QueueEntry)).one()
        events = s.scalars(select(QueueEvent.event).where(QueueEvent.entry_id == entry.id)).all()
    # The agent's call ended: wrap-up (30 s by default), once.
    assert agents_api.state_of(app.test_client(), agent_id) == "wrap_up"
    # Each thing that happened is recorded once, however many copies of its webhook came; the agent
    # leaving before the customer was connected puts the callback back with a new window told.
    assert events == ["requested", "window_told", "wait_announced", "dialing_agent", "dialing_customer",
                      "agent_left", "window_told"], "|".join(events)
