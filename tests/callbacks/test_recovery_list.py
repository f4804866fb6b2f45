"""After a restart, the in-flight calls are reconciled from one list of Twilio's calls (GET Calls.json, the
calls our number placed since the oldest claim's day), not one status request per call; a call the list
does not show is still asked about on its own. Calls placed through the dispatcher, answered through the
signed outbound webhooks; what happened while we were down is Twilio's record changing with no status
callback arriving (the emulator's set_status)."""
from __future__ import annotations

import pytest

from callbacks import dialing
from tests.callbacks.conftest import FROM
from tests.support import agents_api

AGENTS = ["+14155550101", "+14155550102", "+14155550103"]
CUSTOMERS = ["+12125550161", "+12125550162", "+12125550163"]


@pytest.fixture
def staffed(app, monkeypatch):
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute")
    client = app.test_client()
    for i, address in enumerate(AGENTS):
        agents_api.add_available(client, f"Agent {i}", address, ["billing"], wrap_up_seconds=0)
    pids = []
    for number in CUSTOMERS:
        booked = client.post("/api/callbacks", json={"phone": number, "skill": "billing", "channel": "api"})
        assert booked.status_code == 201, booked.get_json()
        pids.append(booked.get_json()["id"])
    return pids


def gets(rest, since: int) -> list[tuple[str, dict]]:
    return [(r["template"].rsplit("/Accounts/{AccountSid}", 1)[1], r["query"])
            for r in rest.requests[since:] if r["method"] == "GET"]


def test_a_restart_reconciles_every_in_flight_call_from_one_list_request(
        staffed, dispatcher, make_dispatcher, outbound, twilio_rest, entry_of, clock):
    connected, rang_out, ringing = staffed
    assert sorted(c.public_id for c in dispatcher.run_once().claimed) == sorted(staffed)
    # The first callback is connected: its agent accepted, its customer (a person) answered.
    legs = {pid: next(c["sid"] for c in twilio_rest.calls if f"/agent/{pid}/1/" in c["url"]) for pid in staffed}
    agent = outbound.leg(legs[connected]).answer()
    agent.press("1")
    customer_sid = next(c["sid"] for c in twilio_rest.calls if f"/customer/{connected}/1/" in c["url"])
    outbound.leg(customer_sid).answer().amd("human")
    assert [entry_of(pid).state for pid in staffed] == ["connected", "dialing_agent", "dialing_agent"]

    # The process dies. Meanwhile the connected call ends, the second agent's phone rings out, the third
    # still rings; none of their status callbacks reaches anyone.
    twilio_rest.set_status(customer_sid, "completed")
    twilio_rest.set_status(legs[connected], "completed")
    twilio_rest.set_status(legs[rang_out], "no-answer")
    twilio_rest.set_status(legs[ringing], "ringing")
    clock.advance(61)  # past the grace: the agents held by those calls are asked about too

    restarted = make_dispatcher()
    before = len(twilio_rest.requests)
    assert restarted.recover() == 2  # the connected call and the agent who did not answer
    day = clock.now().date().isoformat()
    assert gets(twilio_rest, before) == [("/Calls.json", {"From": FROM, "StartTime>": f"{day}T00:00:00Z",
                                                          "PageSize": 1000})]
    states = [entry_of(pid) for pid in staffed]
    assert states[0].state == "completed" and [e.event for e in states[0].events].count("completed") == 1
    # The agent who did not answer: the callback is back in line for another agent.
    assert (states[1].state, states[1].events[-1].event, states[1].agent_id) == ("queued", "agent_missed", None)
    assert states[2].state == "dialing_agent" and states[2].agent_call_sid == legs[ringing]

    # Exactly once: reconciling again changes nothing, and still asks Twilio once.
    trail = [[e.event for e in entry.events] for entry in states]
    before = len(twilio_rest.requests)
    assert restarted.recover() == 0
    assert [[e.event for e in entry_of(pid).events] for pid in staffed] == trail
    assert [path for path, _query in gets(twilio_rest, before)] == ["/Calls.json"]


def test_when_the_list_is_refused_each_call_is_asked_about_on_its_own(
        staffed, dispatcher, make_dispatcher, twilio_rest, entry_of, clock):
    """Twilio answers the list with a 500: every in-flight call's status is fetched on its own, as before,
    and applied."""
    dispatcher.run_once()
    legs = {pid: next(c["sid"] for c in twilio_rest.calls if f"/agent/{pid}/1/" in c["url"]) for pid in staffed}
    for sid in legs.values():
        twilio_rest.set_status(sid, "no-answer")
    restarted = make_dispatcher()
    twilio_rest.fail_next("Calls.json", method="GET", status=500)
    before = len(twilio_rest.requests)
    assert restarted.recover() == 3
    asked = [path for path, _query in gets(twilio_rest, before)]
    assert asked == ["/Calls.json"] + ["/Calls/{Sid}.json"] * 3
    assert [r.get("failed") for r in twilio_rest.requests[before:] if r["method"] == "GET"] == [500, None, None, None]
    assert [(entry_of(pid).state, entry_of(pid).events[-1].event) for pid in staffed] == [
        ("queued", "agent_missed")] * 3


def test_a_list_longer_than_a_page_is_followed_by_its_next_page_uri(
        staffed, dispatcher, make_dispatcher, twilio_rest, entry_of, monkeypatch):
    """Pages of two calls: Twilio lists the newest first, so the first agent leg is on the second page, read
    through the first page's next_page_uri (its Page and PageToken), not asked about on its own."""
    monkeypatch.setattr(dialing, "LIST_PAGE", 2)
    dispatcher.run_once()
    legs = [next(c["sid"] for c in twilio_rest.calls if f"/agent/{pid}/1/" in c["url"]) for pid in staffed]
    for sid in legs:
        twilio_rest.set_status(sid, "no-answer")
    restarted = make_dispatcher()
    before = len(twilio_rest.requests)
    assert restarted.recover() == 3
    first, second = gets(twilio_rest, before)
    assert first[1]["PageSize"] == 2 and "PageToken" not in first[1]
    newest_first = sorted(legs, key=lambda sid: twilio_rest.call(sid)["seq"], reverse=True)
    assert second == ("/Calls.json", {**{k: v for k, v in first[1].items() if k != "PageSize"},
                                      "PageSize": "2", "Page": "1", "PageToken": "PA" + newest_first[1]})
    assert [(entry_of(pid).state, entry_of(pid).events[-1].event) for pid in staffed] == [
        ("queued", "agent_missed")] * 3
