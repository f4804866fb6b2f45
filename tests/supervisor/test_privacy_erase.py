"""The admin's export and erase actions on the users page: through the real routes, signed in,
with the page's CSRF token (and, to erase, a ticked confirmation); refused for a supervisor, without the
token, without the confirmation and while the number has an open callback; each is recorded in
privacy_requests with the admin's name and no number; the log lines name no number."""
from __future__ import annotations

import json
import logging

from sqlalchemy import select

from privacy.records import ERASED_EVENT, export
from storage.models import PrivacyRequest
from tests.privacy.test_erase_export import personal_left
from tests.supervisor.conftest import book, entry

NUMBER = "+12125550143"


def _requests(runtime) -> list[tuple]:
    with runtime.sessions() as db:
        return [(r.action, r.actor, r.entries, r.calls) for r in db.scalars(select(PrivacyRequest).order_by(PrivacyRequest.id))]


def _no_number_in(records) -> bool:
    return not any("555" in r.getMessage() and "0143" in r.getMessage() for r in records)


def test_admin_exports_a_number_from_the_users_page(app, runtime, clock, sign_in, caplog):
    pid = book(app, NUMBER, name="Pat Jones", reason="double charge")
    ada = sign_in("ada")
    page = ada.get("/supervisor/users").get_data(as_text=True)
    assert 'action="/supervisor/privacy/export"' in page
    assert "<title>Users" in page and "Erase what is held" not in page.split("</title>")[0]  # not in the tab's title

    assert sign_in("sam").post("/supervisor/privacy/export", {"phone": NUMBER}).status_code == 403
    no_token = ada.client.post("/supervisor/privacy/export", data={"phone": NUMBER},
                               headers={"X-Requested-With": "fetch"})
    assert no_token.status_code == 400  # CSRF
    assert ada.post("/supervisor/privacy/export", {"phone": " "}).status_code == 400
    assert _requests(runtime) == []  # none of these exported anything

    caplog.set_level(logging.INFO)
    got = ada.post("/supervisor/privacy/export", {"phone": "+1 (212) 555-0143"})
    assert got.status_code == 200 and got.mimetype == "application/json"
    assert got.headers["Content-Disposition"].startswith('attachment; filename="privacy-export-')
    held = json.loads(got.get_data(as_text=True))
    assert held["phone"] == NUMBER
    assert [(e["public_id"], e["caller_name"], e["reason"]) for e in held["callbacks_and_holds"]] == [
        (pid, "Pat Jones", "double charge")]
    assert [ev["event"] for ev in held["callbacks_and_holds"][0]["events"]] == ["requested", "window_told"]
    assert _requests(runtime) == [("export", "ada", 1, 0)]
    lines = [r.getMessage() for r in caplog.records if r.name == "ivr.privacy"]
    assert lines == ["privacy export by ada: 1 queue entries, 0 calls"]
    assert _no_number_in(caplog.records)


def _held(runtime) -> int:
    with runtime.sessions() as db:
        return len(export(db, NUMBER)["callbacks_and_holds"])


def test_admin_erases_a_number_from_the_users_page(app, runtime, clock, sign_in, caplog):
    pid = book(app, NUMBER, name="Pat Jones", reason="double charge")
    ada = sign_in("ada")
    page = ada.get("/supervisor/users").get_data(as_text=True)
    assert 'action="/supervisor/privacy/erase"' in page and 'name="confirm"' in page

    refused = ada.post("/supervisor/privacy/erase", {"phone": "+1 (212) 555-0143", "confirm": "yes"})
    assert refused.status_code == 409 and _held(runtime) == 1  # the callback is still open
    assert ada.act(pid, "cancel", entry(runtime, pid).version, reason="asked to be forgotten").status_code == 200

    assert ada.post("/supervisor/privacy/erase", {"phone": NUMBER}).status_code == 400  # not confirmed
    assert ada.post("/supervisor/privacy/erase", {"phone": " ", "confirm": "yes"}).status_code == 400
    no_token = ada.client.post("/supervisor/privacy/erase", data={"phone": NUMBER, "confirm": "yes"},
                               headers={"X-Requested-With": "fetch"})
    assert no_token.status_code == 400  # CSRF
    sam = sign_in("sam")
    assert sam.post("/supervisor/privacy/erase", {"phone": NUMBER, "confirm": "yes"}).status_code == 403
    assert _held(runtime) == 1  # none of these changed anything

    caplog.set_level(logging.INFO)
    done = ada.post("/supervisor/privacy/erase", {"phone": "+1 (212) 555-0143", "confirm": "yes"})
    assert done.status_code == 200 and done.get_json()["entries"] == 1
    assert _held(runtime) == 0
    erased = entry(runtime, pid)
    assert erased.phone_number is None and erased.caller_name is None and erased.reason is None
    assert erased.state == "cancelled"  # the figures keep the entry
    assert erased.events[-1].event == ERASED_EVENT and erased.events[-1].actor == "ada"
    lines = [r.getMessage() for r in caplog.records if r.name == "ivr.privacy"]
    assert lines == ["privacy erase by ada: 1 queue entries, 0 calls"]
    assert _no_number_in(caplog.records)
    assert _requests(runtime) == [("erase", "ada", 1, 0)]  # only the erasure that went through


CALLS_FROM = "+12125550144"  # a caller who asks, by phone, to be called back on another number
CALLED_ON = "+13125550199"


def _callback_to_another_number(twilio) -> str:
    """A call from CALLS_FROM, nobody staffed: a callback at the opening, to CALLED_ON keyed on the phone."""
    call = twilio.call(from_number=CALLS_FROM)
    call.press("1")  # billing: nobody on, a callback at the opening is offered
    call.press("1")
    call.press("2")  # another number
    call.press("13125550199#")
    call.press("1")
    assert "on the number ending in 0199" in call.last_heard and call.ended
    return call.sid


def test_a_callback_asked_for_another_number_is_exported_and_erased_under_both(runtime, sign_in, twilio):
    """Export finds a callback under the number it calls and under the number it was asked for from, with the
    call it was asked for in; erasing either number erases that request whole (both numbers, the call's too)."""
    sid = _callback_to_another_number(twilio)
    ada = sign_in("ada")
    for number in (CALLS_FROM, CALLED_ON):
        held = json.loads(ada.post("/supervisor/privacy/export", {"phone": number}).get_data(as_text=True))
        assert [(e["phone_number"], e["context"]["caller_number"]) for e in held["callbacks_and_holds"]] == [
            (CALLED_ON, CALLS_FROM)]
        assert [(c["call_sid"], c["from_number"]) for c in held["calls"]] == [(sid, CALLS_FROM)]
        assert {t["call_sid"] for t in held["call_turns"]} == {sid}
    (pid,) = [e["public_id"] for e in held["callbacks_and_holds"]]

    # Still open: refused under either number (cancel it first).
    for number in (CALLS_FROM, CALLED_ON):
        assert ada.post("/supervisor/privacy/erase", {"phone": number, "confirm": "yes"}).status_code == 409
    assert ada.act(pid, "cancel", entry(runtime, pid).version, reason="asked to be forgotten").status_code == 200

    done = ada.post("/supervisor/privacy/erase", {"phone": CALLS_FROM, "confirm": "yes"})
    assert done.status_code == 200 and (done.get_json()["entries"], done.get_json()["calls"]) == (1, 1)
    erased = entry(runtime, pid)
    assert (erased.phone_number, erased.context, erased.transcript) == (None, {}, None)
    assert erased.state == "cancelled" and erased.events[-1].event == ERASED_EVENT
    assert personal_left(runtime, entry_ids=[erased.id], call_sids=[sid]) == {}
    for number in (CALLS_FROM, CALLED_ON):
        again = json.loads(ada.post("/supervisor/privacy/export", {"phone": number}).get_data(as_text=True))
        assert (again["callbacks_and_holds"], again["calls"]) == ([], [])


def test_erasing_the_number_called_back_erases_it_from_the_call_that_asked(runtime, sign_in, twilio):
    sid = _callback_to_another_number(twilio)
    ada = sign_in("ada")
    (pid,) = [e["public_id"] for e in json.loads(ada.post(
        "/supervisor/privacy/export", {"phone": CALLED_ON}).get_data(as_text=True))["callbacks_and_holds"]]
    assert ada.act(pid, "cancel", entry(runtime, pid).version, reason="asked to be forgotten").status_code == 200
    done = ada.post("/supervisor/privacy/erase", {"phone": CALLED_ON, "confirm": "yes"})
    assert done.status_code == 200 and (done.get_json()["entries"], done.get_json()["calls"]) == (1, 1)
    assert personal_left(runtime, entry_ids=[entry(runtime, pid).id], call_sids=[sid]) == {}
