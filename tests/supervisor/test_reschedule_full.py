"""A supervisor's reschedule asks the same count every booking asks (routing/slots.py): a time fully booked
is refused with the app's one refusal shape (409, code `full`, `next_free`, `timezone`), the page says
the next free times in the IVR file's words (English, or Dutch for an operator whose file speaks Dutch),
and nothing changes; there is no override. The callback's own booking does not count against its new
time, and the window the customer was told does not move. Callbacks booked through /api/callbacks, the
agent through /api/agents, the supervisor through the signed-in routes with a CSRF token. Clock: Tuesday
24 November 2026, 10:00 in New York."""
from __future__ import annotations

import html
from urllib.parse import urlsplit

import pytest

from tests.support.ivr_file import Edit, calendar
from tests.supervisor.conftest import entry

ANN = "+14155550101"


def scheduled(client, number: str, local: str) -> dict:
    answer = client.post("/api/callbacks", json={"phone": number, "skill": "billing", "channel": "api",
                                                 "when": "scheduled", "preferred_time": local,
                                                 "timezone": "America/New_York"})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


@pytest.fixture
def one_full(app, add_agent):
    """one_full(full, moving): Ann alone (one callback can start at a time), a callback booked at `full`, and
    the callback a supervisor will move, booked at `moving` (returned)."""
    def book(full: str, moving: str) -> dict:
        add_agent("Ann", ANN)
        client = app.test_client()
        scheduled(client, "+12125550160", full)
        return scheduled(client, "+12125550161", moving)
    return book


def reschedule(runtime, who, moving: dict, when: str, zone: str = "America/New_York"):
    return who.act(moving["id"], "reschedule", entry(runtime, moving["id"]).version, when=when, zone=zone)


def local_due(runtime, public_id: str) -> str:
    return entry(runtime, public_id).next_attempt_at.astimezone(
        runtime.ivr_config.skills["billing"].timezone).strftime("%d %H:%M")


def test_a_reschedule_to_a_full_time_is_refused_with_the_next_free_times(sign_in, runtime, one_full):
    moving = one_full("2026-11-25T14:30", "2026-11-25T16:00")  # 14:30 tomorrow is full
    sam = sign_in("sam")
    before = entry(runtime, moving["id"])
    refused = sam.act(moving["id"], "reschedule", before.version, when="2026-11-25T14:30", zone="America/New_York")
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    problem = refused.json
    assert problem["code"] == "full" and problem["field"] == "/when"
    assert problem["next_free"] == ["2026-11-25T14:35", "2026-11-25T14:40", "2026-11-25T14:45"]
    assert problem["timezone"] == "America/New_York"
    assert problem["detail"] == (
        "Not rescheduled: tomorrow, Wednesday 25 November at 14:30, New York time is fully booked (as many "
        "callbacks start then as agents can be free). The next free times: tomorrow, Wednesday 25 November at "
        "14:35, New York time; tomorrow, Wednesday 25 November at 14:40, New York time; tomorrow, Wednesday 25 "
        "November at 14:45, New York time.")
    after = entry(runtime, moving["id"])  # nothing changed
    assert (after.version, local_due(runtime, moving["id"])) == (before.version, "25 16:00")
    assert [e.event for e in after.events] == ["requested", "window_told"]
    # Inside the handle of the 14:30 callback (240 s) is full too; 14:35 is free and taken.
    assert sam.act(moving["id"], "reschedule", before.version, when="2026-11-25T14:32",
                   zone="America/New_York").status_code == 409
    assert sam.act(moving["id"], "reschedule", before.version, when="2026-11-25T14:35",
                   zone="America/New_York").status_code == 200
    assert local_due(runtime, moving["id"]) == "25 14:35"


def test_next_free_times_are_named_in_the_zone_the_supervisor_picked(sign_in, runtime, one_full):
    moving = one_full("2026-11-25T14:30", "2026-11-25T16:00")
    ada = sign_in("ada")  # an admin whose zone is Amsterdam: 20:30 there is 14:30 in New York
    refused = reschedule(runtime, ada, moving, "2026-11-25T20:30", zone="Europe/Amsterdam")
    assert refused.status_code == 409
    assert refused.json["next_free"][0] == "2026-11-25T20:35" and refused.json["timezone"] == "Europe/Amsterdam"
    assert "20:35, Amsterdam time" in refused.json["detail"]


def test_without_javascript_the_page_shows_the_refusal_and_the_next_free_times(sign_in, runtime, one_full):
    moving = one_full("2026-11-25T14:30", "2026-11-25T16:00")
    sam = sign_in("sam")
    form = sam.client.post(f"/supervisor/entries/{moving['id']}/reschedule",
                           data={"csrf_token": sam.token, "version": str(entry(runtime, moving["id"]).version),
                                 "when": "2026-11-25T14:30", "zone": "America/New_York",
                                 "back": "/supervisor/?skill=billing"})
    assert form.status_code == 303 and form.headers["Location"] == "/supervisor/?skill=billing"
    page = sam.get("/supervisor/?skill=billing").get_data(as_text=True)
    assert "is fully booked" in page and "The next free times: tomorrow, Wednesday 25 November at 14:35" in page
    assert local_due(runtime, moving["id"]) == "25 16:00"


def test_the_callbacks_own_booking_does_not_count_against_its_new_time(app, sign_in, runtime, add_agent):
    """A callback at 16:00 moved to 16:02: the agent taking it at 16:00 would be busy at 16:02, but that is
    this same callback, which will not be at 16:00 any more. The window the customer was told stays."""
    add_agent("Ann", ANN)
    client = app.test_client()
    moving = scheduled(client, "+12125550161", "2026-11-25T16:00")
    sam = sign_in("sam")
    moved = sam.act(moving["id"], "reschedule", entry(runtime, moving["id"]).version, when="2026-11-25T16:02",
                    zone="America/New_York")
    assert moved.status_code == 200, moved.json
    assert local_due(runtime, moving["id"]) == "25 16:02"
    token = urlsplit(moving["waiting_url"]).query
    status = client.get(f"/api/callbacks/{moving['id']}?{token}").get_json()
    assert (status["window"]["from_local"], status["window"]["by_local"]) == ("2026-11-25T16:00", "2026-11-25T16:15")


def test_a_full_last_window_of_the_day_names_the_next_mornings_times(sign_in, runtime, one_full):
    """18:00 closes billing and a window told is 15 minutes: after a full 17:45 the next free times are the
    next morning's."""
    moving = one_full("2026-11-24T17:45", "2026-11-24T16:00")
    refused = reschedule(runtime, sign_in("sam"), moving, "2026-11-24T17:45")
    assert refused.status_code == 409
    assert refused.json["next_free"] == ["2026-11-25T08:00", "2026-11-25T08:05", "2026-11-25T08:10"]


@pytest.mark.ivr(Edit(lambda raw: raw["company"].update(default_language="nl-NL")))
def test_an_operator_whose_file_speaks_dutch_reads_the_refusal_in_dutch(sign_in, runtime, one_full):
    moving = one_full("2026-11-25T14:30", "2026-11-25T16:00")
    refused = reschedule(runtime, sign_in("sam"), moving, "2026-11-25T14:30")
    assert refused.status_code == 409 and refused.json["code"] == "full"
    assert refused.json["detail"].startswith(
        "Niet verzet: morgen, woensdag 25 november om 14:30, tijdzone New York is volgeboekt (er beginnen dan al "
        "zoveel terugbelverzoeken als er agents vrij kunnen zijn). De volgende vrije tijdstippen: morgen, woensdag "
        "25 november om 14:35, tijdzone New York;")


# Billing answers on Wednesdays from 14:30 to 14:50 only: with a 15-minute window told, 14:30 and 14:35 are its
# only start times, and the next Wednesday's lie beyond the 8 days the capacity is predicted for (HORIZON).
WEDNESDAY_AFTERNOON = calendar(hours={"wed": "14:30-14:50"}, skills=["billing"])
DUTCH_FILE = Edit(lambda raw: raw["company"].update(default_language="nl-NL"))


# Each language through one of the page's two paths (the same words, supervisor.http.entries._full_words):
# with JavaScript the refusal's JSON, without it the page the form comes back to.
@pytest.mark.parametrize("javascript, said", [
    pytest.param(True, "Not rescheduled: tomorrow, Wednesday 25 November at 14:35, New York time is fully booked, "
                 "and no later time in the next 8 days has room.",
                 marks=pytest.mark.ivr(WEDNESDAY_AFTERNOON), id="en-fetch"),
    pytest.param(False, "Niet verzet: morgen, woensdag 25 november om 14:35, tijdzone New York is volgeboekt, en de "
                 "komende 8 dagen heeft geen later tijdstip plaats.",
                 marks=pytest.mark.ivr(WEDNESDAY_AFTERNOON, DUTCH_FILE), id="nl-form"),
])
def test_a_full_time_with_no_free_time_after_it_says_so(sign_in, runtime, one_full, javascript, said):
    """Ann alone, callbacks at 14:30 (the one moved) and 14:35: 14:35 is full, and no start time after it has
    room in the 8 days looked at. The refusal names none, in the file's words, and nothing changes. It says
    the 8 days, not the booking horizon (14 days): the next Wednesday's 14:30, beyond them, is still taken."""
    moving = one_full("2026-11-25T14:35", "2026-11-25T14:30")
    sam = sign_in("sam")
    before = entry(runtime, moving["id"])
    form = {"when": "2026-11-25T14:35", "zone": "America/New_York"}
    if javascript:
        refused = sam.act(moving["id"], "reschedule", before.version, **form)
        assert refused.status_code == 409 and refused.json["code"] == "full"
        assert refused.json["next_free"] == [] and refused.json["detail"] == said
    else:
        posted = sam.client.post(f"/supervisor/entries/{moving['id']}/reschedule",
                                 data={"csrf_token": sam.token, "version": str(before.version), **form,
                                       "back": "/supervisor/?skill=billing"})
        assert posted.status_code == 303 and posted.headers["Location"] == "/supervisor/?skill=billing"
        assert said in html.unescape(sam.get("/supervisor/?skill=billing").get_data(as_text=True))
    after = entry(runtime, moving["id"])
    assert (after.version, local_due(runtime, moving["id"])) == (before.version, "25 14:30")
    assert [e.event for e in after.events] == ["requested", "window_told"]
    assert sam.act(moving["id"], "reschedule", before.version, when="2026-12-02T14:30",
                   zone="America/New_York").status_code == 200
    assert local_due(runtime, moving["id"]) == "02 14:30"
