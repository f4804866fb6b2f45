"""The admin's erase action on the users page (issue 22): through the real route, signed in, with the
page's CSRF token and a ticked confirmation; refused for a supervisor, without the token, without the
confirmation and while the number has an open callback; the log line names no number."""
from __future__ import annotations

import logging

from privacy.records import ERASED_EVENT, export
from tests.supervisor.conftest import book, entry

NUMBER = "+12125550143"


def _held(runtime) -> int:
    with runtime.sessions() as db:
        return len(export(db, NUMBER)["callbacks_and_holds"])


def test_admin_erases_a_number_from_the_users_page(runtime, clock, sign_in, caplog):
    pid = book(runtime, clock, NUMBER, caller_name="Pat Jones", reason="double charge")
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
    assert not any("555" in r.getMessage() and "0143" in r.getMessage() for r in caplog.records)
