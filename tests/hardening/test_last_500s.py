"""No control character, oversized id or out-of-range date reaches a 500, on SQLite and PostgreSQL. A NUL reached PostgreSQL (sign-in name,
agent ids, entry ids, notes, cancel reasons); an id longer than any column overflowed both databases; a
period ending in 9999 overflowed the figures; a CR or LF in `next=`/`back=` broke the redirect (after the
note was committed). Now one rule (storage/text.py) makes any control character a 400 before any view
runs, ids that are not ids are a 404, out-of-range dates are refused, and `back=` is checked before any
write. Every refusal here changes no row."""
from __future__ import annotations

import re

import pytest

from tests.hardening.conftest import CSRF, PASSWORD, rows, sign_in

HUGE = "9" * 30


@pytest.fixture
def agent_id(agents_api):
    response = agents_api.post("/api/agents", json={"name": "Ann", "address": "+12125550199", "skills": ["billing"]})
    assert response.status_code == 201
    return response.get_json()["id"]


@pytest.fixture
def booked(app, generous_limits):
    """A callback booked through the public API, as a customer's page books one."""
    response = app.test_client().post("/api/callbacks", json={"phone": "+12125550142", "skill": "billing"})
    assert response.status_code == 201
    return response.get_json()["id"]


@pytest.fixture
def sam(app, users):
    client = app.test_client()
    assert sign_in(client, "sam").status_code == 302
    return client


def _form_token(client) -> str:
    return CSRF.search(client.get("/supervisor/", headers={"Accept": "text/html"}).get_data(as_text=True)).group(1)


def test_a_nul_in_the_sign_in_name_is_a_400(app, runtime, users):
    before = rows(runtime)
    for name in ("sam\x00", "\x00"):
        assert sign_in(app.test_client(), name, "whatever").status_code == 400
    assert rows(runtime) == before


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/agents/{}", None),
    ("PATCH", "/api/agents/{}", {"name": "Bo"}),
    ("DELETE", "/api/agents/{}", None),
    ("PUT", "/api/agents/{}/state", {"state": "available"}),
])
def test_a_nul_in_an_agent_reference_is_a_400(agents_api, runtime, agent_id, method, path, body):
    before = rows(runtime)
    for ref in ("%00", f"{agent_id}%00", "Ann%00"):
        response = agents_api.open(path.format(ref), method=method, json=body)
        assert response.status_code == 400, (ref, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
    assert rows(runtime) == before


@pytest.mark.parametrize("huge", [HUGE, str(2**31)])  # 2**31: past PostgreSQL's INTEGER, fine for SQLite's
def test_an_id_larger_than_any_row_id_is_not_found(agents_api, sam, runtime, agent_id, huge):
    before = rows(runtime)
    assert agents_api.get(f"/api/agents/{huge}").status_code == 404
    assert agents_api.put(f"/api/agents/{huge}/state", json={"state": "available"}).status_code == 404
    token = _form_token(sam)
    for path in (f"/supervisor/agents/{huge}", f"/supervisor/agents/{huge}/state", f"/supervisor/users/{huge}"):
        assert sam.post(path, data={"csrf_token": token, "state": "available"}).status_code == 404, path
    assert rows(runtime) == before


def test_a_nul_in_an_entry_id_note_or_reason_is_a_400(sam, runtime, booked):
    token = _form_token(sam)
    before = rows(runtime)
    assert sam.get(f"/supervisor/entries/{booked}%00").status_code == 400
    assert sam.post(f"/supervisor/entries/%00{booked}/note", data={"csrf_token": token, "text": "x"}).status_code \
        == 400
    assert sam.post(f"/supervisor/entries/{booked}/note", data={"csrf_token": token, "text": "a\x00b"}).status_code \
        == 400
    assert sam.post(f"/supervisor/entries/{booked}/cancel",
                    data={"csrf_token": token, "reason": "gone\x00"}).status_code == 400
    assert rows(runtime) == before
    # Line breaks are text like any other in a note.
    page = sam.get(f"/supervisor/entries/{booked}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert sam.post(f"/supervisor/entries/{booked}/note", headers={"X-Requested-With": "fetch"},
                    data={"csrf_token": token, "text": "first line\r\nsecond line", "version": version}
                    ).status_code == 200


@pytest.mark.parametrize("query", ["start=9999-12-30&end=9999-12-31", "start=9999-12-31"])
def test_a_period_at_the_end_of_the_calendar_is_refused(sam, query):
    assert sam.get(f"/supervisor/metrics.csv?{query}").status_code == 400
    page = sam.get(f"/supervisor/metrics?{query}", headers={"Accept": "text/html"})
    assert page.status_code == 302 and page.headers["Location"].endswith("/supervisor/metrics")
    assert "give dates between the years 1 and 9998" in sam.get(page.headers["Location"]).get_data(as_text=True)


def test_a_line_break_in_next_is_refused_or_ignored(app, users):
    client = app.test_client()
    assert client.get("/supervisor/login?next=/supervisor/%0d%0aSet-Cookie:x=1").status_code == 400
    token = CSRF.search(client.get("/supervisor/login").get_data(as_text=True)).group(1)
    response = client.post("/supervisor/login", data={"username": "sam", "password": PASSWORD, "csrf_token": token,
                                                      "next": "/supervisor/\r\nSet-Cookie: x=1"})
    assert response.status_code == 302 and response.headers["Location"] == "/supervisor/"
    assert "Set-Cookie: x" not in str(response.headers)


def test_a_line_break_in_back_is_a_400_before_anything_is_written(sam, runtime, booked):
    token = _form_token(sam)
    before = rows(runtime)
    for back in ("/supervisor/\r\nSet-Cookie: x=1", "https://evil.example/supervisor/"):
        response = sam.post(f"/supervisor/entries/{booked}/note", data={"csrf_token": token, "text": "hello",
                                                                        "back": back})
        assert response.status_code == 400
    assert rows(runtime) == before  # the note was not committed
