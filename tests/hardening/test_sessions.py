"""Sessions and security headers. Before: a sign-in cookie stayed valid for 12 h after logout and carried
part of the password hash; pages had no CSP and no nosniff. Now signing out ends the sign-in on the
server side, the cookie carries only a session version, and every answer carries the headers."""
from __future__ import annotations

import base64
import json
import zlib

import pytest

from storage.db import transaction
from storage.models import User
from supervisor import auth
from tests.hardening.conftest import CSRF, PASSWORD, sign_in


def cookie_contents(client) -> dict:
    """What Flask's signed session cookie holds (signed, not encrypted: anyone holding it can read this)."""
    value = client.get_cookie("session").value
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


def page(client, path="/supervisor/"):
    return client.get(path, headers={"Accept": "text/html"})


def test_a_copied_cookie_stops_working_when_its_user_signs_out(app, users):
    browser = app.test_client()
    assert sign_in(browser, "sam").status_code == 302
    stolen = app.test_client()
    stolen.set_cookie("session", browser.get_cookie("session").value, domain="localhost")
    assert page(stolen).status_code == 200  # the copy works while the sign-in lasts
    token = CSRF.search(page(browser).get_data(as_text=True)).group(1)
    assert browser.post("/supervisor/logout", data={"csrf_token": token}).status_code == 302
    assert page(stolen).status_code == 302  # to the sign-in form
    assert stolen.get("/supervisor/board", headers={"X-Requested-With": "fetch"}).status_code == 401
    # Signing in again works, with a new cookie.
    assert sign_in(browser, "sam").status_code == 302 and page(browser).status_code == 200


def test_a_new_password_ends_every_sign_in(app, users, runtime):
    browser = app.test_client()
    sign_in(browser, "sam")
    with transaction(runtime.sessions) as db:
        auth.set_password(db, "sam", "a brand new passphrase")
    assert page(browser).status_code == 302


def test_the_cookie_carries_no_part_of_the_password_hash(app, users, runtime):
    browser = app.test_client()
    sign_in(browser, "sam")
    contents = cookie_contents(browser)
    with runtime.sessions() as db:
        password_hash = db.query(User).filter_by(username="sam").one().password_hash
    assert set(contents) <= {"user_id", "sv", "signed_in_at", "csrf_token", "_fresh", "_flashes"}
    flat = json.dumps(contents)
    assert not any(password_hash[i:i + 8] in flat for i in range(len(password_hash) - 8))
    assert PASSWORD not in flat


@pytest.mark.parametrize("path", ["/supervisor/login", "/demo", "/api/callback-form", "/api/openapi.json",
                                  "/static/widget/callback-button.js"])
def test_every_answer_carries_the_security_headers(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_twilio_and_error_answers_carry_them_too(app):
    response = app.test_client().post("/voice/incoming", data={"CallSid": "x"})
    assert response.status_code == 403 and response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_pages_work_under_the_policy_in_a_browser(browser, live_app, users):
    """The supervisor pages, the demo page and its call-me-back button: no CSP violation, no error."""
    context = browser.new_context()
    page_ = context.new_page()
    violations = []
    page_.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page_.on("pageerror", lambda e: violations.append(str(e)))
    page_.goto(live_app + "/demo")
    page_.get_by_role("button", name="Call me back").first.click()
    page_.wait_for_selector("form")
    page_.goto(live_app + "/supervisor/login")
    page_.fill("input[name=username]", "sam")
    page_.fill("input[name=password]", PASSWORD)
    page_.click("button[type=submit]")
    page_.wait_for_url("**/supervisor/")
    for path in ("/supervisor/", "/supervisor/agents", "/supervisor/metrics"):
        page_.goto(live_app + path)
        page_.wait_for_load_state("load")
    context.close()
    assert violations == []
