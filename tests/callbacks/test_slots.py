"""A chosen start time holds as many callbacks as agents can be free at it (routing/slots.py), on every
booking path that is not the phone (tests/ivr/test_full_times.py): the web button is not offered a full
time, the API, the web form and a text refuse one and name the next free times, and callbacks booked
overnight "as soon as you open" are spread over the first free times, each told its own. Agents and
callbacks come through the real routes (/api/agents, /api/callbacks, the signed SMS webhook); time from a
ManualClock (Tuesday 24 November 2026, 10:00 in New York)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.models import QueueEntry
from tests.webhooks.test_sms import reply_of, text

AGENTS = ("+14155550101", "+14155550102")
NEW_YORK = ZoneInfo("America/New_York")


def scheduled(client, number: str, local: str, zone: str = "America/New_York", skill: str = "billing"):
    return client.post("/api/callbacks", json={"phone": number, "skill": skill, "channel": "api",
                                               "when": "scheduled", "preferred_time": local, "timezone": zone})


def due_local(runtime) -> list[str]:
    with runtime.sessions() as s:
        due = sorted(s.scalars(select(QueueEntry.next_attempt_at).where(QueueEntry.kind == "callback")).all())
    return [d.astimezone(NEW_YORK).strftime("%H:%M") for d in due]


def test_overnight_asap_callbacks_are_spread_over_the_first_free_times(app, add_agent, runtime, clock):
    for n, address in enumerate(AGENTS):
        add_agent(f"Agent {n}", address, state="offline")  # two billing agents, expected at the opening
    clock.advance(12 * 3600)  # 22:00 in New York: closed until 08:00
    client = app.test_client()
    booked = [client.post("/api/callbacks", json={"phone": f"+1212555{150 + n:04d}", "skill": "billing",
                                                  "channel": "api"}) for n in range(7)]
    assert [b.status_code for b in booked] == [201] * 7
    # Two agents can be free at 08:00; each callback keeps its agent 240 s (the assumed handle time), so
    # the next two start at 08:05, when both are free again, and so on: never more due at once than agents.
    assert due_local(runtime) == ["08:00", "08:00", "08:05", "08:05", "08:10", "08:10", "08:15"]
    assert booked[-1].get_json()["scheduled_for_local"].endswith("08:15")


def test_the_web_button_does_not_offer_a_full_time(app, add_agent, runtime, clock):
    client = app.test_client()
    add_agent("Ann", AGENTS[0])  # one agent: one callback can start at a time
    slots = client.get("/api/callback-form?skill=billing").get_json()["slots"]
    first, second = slots[0]["value"], slots[1]["value"]
    assert scheduled(client, "+12125550160", first).status_code == 201
    offered = [s["value"] for s in client.get("/api/callback-form?skill=billing").get_json()["slots"]]
    assert first not in offered and second in offered


def test_the_api_refuses_a_full_time_and_names_the_next_free_ones(app, add_agent, runtime, clock):
    client = app.test_client()
    for n, address in enumerate(AGENTS):
        add_agent(f"Agent {n}", address)
    assert [scheduled(client, f"+1212555016{n}", "2026-11-24T14:00").status_code for n in range(2)] == [201, 201]
    refused = scheduled(client, "+12125550162", "2026-11-24T14:00")
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["code"] == "full" and problem["field"] == "/preferred_time"
    assert problem["next_free"] == ["2026-11-24T14:05", "2026-11-24T14:10", "2026-11-24T14:15"]
    assert problem["timezone"] == "America/New_York"
    assert problem["detail"] == ("that time is fully booked; the next free times are 2026-11-24 14:05, "
                                 "2026-11-24 14:10, 2026-11-24 14:15 America/New_York")
    assert due_local(runtime) == ["14:00", "14:00"]  # nothing booked for the refused one
    spec = client.get("/api/openapi.json").get_json()  # documented for API clients
    assert "409" in spec["paths"]["/api/callbacks"]["post"]["responses"]
    assert {"next_free", "timezone"} <= set(spec["components"]["schemas"]["Problem"]["properties"])
    # The same number asking for a free time is booked.
    assert scheduled(client, "+12125550162", "2026-11-24T14:05").status_code == 201


def test_a_time_beyond_the_staffing_horizon_is_booked_not_called_full(app, add_agent, runtime, clock):
    """Times up to the booking horizon (14 days) can be chosen; staffing is predicted 8 days ahead only, so
    a time 10 days out is not counted (and not refused as full) while one tomorrow is."""
    client = app.test_client()
    add_agent("Ann", AGENTS[0])  # one agent: one callback can start at a time, where staffing is counted
    assert scheduled(client, "+12125550160", "2026-11-25T14:00").status_code == 201
    assert scheduled(client, "+12125550161", "2026-11-25T14:00").status_code == 409
    far = scheduled(client, "+12125550162", "2026-12-04T14:00")  # Friday, 10 days on: open
    assert far.status_code == 201, far.get_json()
    assert far.get_json()["scheduled_for_local"].startswith("2026-12-04T14:00")


def test_a_time_inside_the_handle_of_earlier_ones_is_full_too(app, add_agent, runtime, clock):
    """Agents who took the 14:00 callbacks are not free at 14:02: the start minute counts who can be free."""
    client = app.test_client()
    for n, address in enumerate(AGENTS):
        add_agent(f"Agent {n}", address)
    for n in range(2):
        assert scheduled(client, f"+1212555017{n}", "2026-11-24T14:00").status_code == 201
    refused = scheduled(client, "+12125550172", "2026-11-24T14:02")
    assert refused.status_code == 409 and refused.get_json()["next_free"][0] == "2026-11-24T14:05"
    # Named in the zone the customer asked in.
    amsterdam = scheduled(client, "+12125550173", "2026-11-24T20:01", "Europe/Amsterdam")
    assert amsterdam.status_code == 409
    assert amsterdam.get_json()["next_free"][0] == "2026-11-24T20:05"
    assert amsterdam.get_json()["timezone"] == "Europe/Amsterdam"


def test_a_number_with_an_open_callback_gets_it_back_not_a_refusal(app, add_agent, runtime, clock):
    client = app.test_client()
    add_agent("Ann", AGENTS[0])
    first = scheduled(client, "+12125550180", "2026-11-24T14:00")
    again = scheduled(client, "+12125550180", "2026-11-24T14:00")  # full now, but it is their own callback
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]


def test_the_web_form_refuses_a_time_filled_since_it_was_offered(app, add_agent, runtime, clock):
    from tests.support.web_button import ORIGIN

    client = app.test_client()
    add_agent("Ann", AGENTS[0])
    visitor, origin = {"REMOTE_ADDR": "203.0.113.9"}, {"Origin": ORIGIN}
    form = client.get("/api/callback-form", query_string={"skill": "billing", "timezone": "America/New_York"},
                      headers=origin, environ_base=visitor).get_json()
    slot = form["slots"][0]["value"]
    assert scheduled(client, "+12125550190", slot).status_code == 201  # someone else takes it meanwhile
    answer = client.post("/api/callbacks", headers=origin, environ_base=visitor, json={
        "phone": "+12125550191", "skill": "billing", "channel": "web", "form_token": form["form_token"],
        "when": "scheduled", "preferred_time": slot, "timezone": "America/New_York"})
    assert answer.status_code == 409 and answer.get_json()["code"] == "full"
    # The button shows its own words for the code, in both languages.
    for language, words in (("en-US", "That time is fully booked; please pick another."),
                            ("nl-NL", "Dat tijdstip is volgeboekt; kies een ander.")):
        shown = client.get("/api/callback-button/words", query_string={"language": language}).get_json()["words"]
        assert shown["code_full"] == words


def test_a_text_for_a_full_time_is_told_the_first_free_one(app, add_agent, twilio, runtime, clock):
    client = app.test_client()
    add_agent("Ann", AGENTS[0], skills=("general",))  # a text without a reason goes to the general team
    assert scheduled(client, "+12125550195", "2026-11-24T14:30", skill="general").status_code == 201
    reply = reply_of(text(twilio, "CALL ME 14:30"))
    assert reply == ("Sorry, we cannot call you back then: that time is fully booked. The first free time after "
                     "it is today, Tuesday 24 November at 14:35, New York time.")
    assert due_local(runtime) == ["14:30"]
    assert "Booked" in reply_of(text(twilio, "CALL ME 14:35"))
    assert due_local(runtime) == ["14:30", "14:35"]


def test_a_dutch_text_for_a_full_time_is_answered_in_dutch(app, add_agent, twilio, runtime, clock):
    client = app.test_client()
    add_agent("Ann", AGENTS[0], skills=("general",))
    # A Dutch texter's times are in the Dutch zone: 20:30 in Amsterdam is 14:30 in New York.
    assert scheduled(client, "+12125550196", "2026-11-24T20:30", "Europe/Amsterdam", "general").status_code == 201
    reply = reply_of(text(twilio, "BEL MIJ 20:30", from_number="+31612345678"))
    assert reply.startswith("Sorry, op dat moment kunnen we u niet terugbellen: dat tijdstip is volgeboekt.")
    assert "20:35" in reply
    assert due_local(runtime) == ["14:30"]


def test_offered_times_are_whole_and_never_past_closing(app, add_agent, runtime, clock):
    client = app.test_client()
    add_agent("Ann", AGENTS[0])
    assert scheduled(client, "+12125550197", "2026-11-24T17:45").status_code == 201  # the last whole window
    refused = scheduled(client, "+12125550198", "2026-11-24T17:45").get_json()
    # Billing closes at 18:00 and a window told is 15 minutes: the next free times are the next morning's.
    assert refused["next_free"] == ["2026-11-25T08:00", "2026-11-25T08:05", "2026-11-25T08:10"]
    assert datetime.fromisoformat(refused["next_free"][0]).minute % 5 == 0


def test_a_texter_asking_again_for_their_own_full_time_is_told_their_callback(app, add_agent, twilio, runtime, clock):
    """Their own callback fills 14:30 (one agent); texting for 14:30 again answers with it, never "full"."""
    add_agent("Ann", AGENTS[0], skills=("general",))
    assert "Booked" in reply_of(text(twilio, "CALL ME 14:30"))
    again = reply_of(text(twilio, "CALL ME 14:30"))
    assert "fully booked" not in again and "between 14:30 and 14:45 today" in again
    assert due_local(runtime) == ["14:30"]
