"""X-Forwarded-For is not believed from anyone (it was). Now the app trusts proxies only when
TRUSTED_PROXY_HOPS says how many there are (default 0): per-IP limits, the sign-in throttle and the
access log see the real peer, and failed sign-ins are also counted per account."""
from __future__ import annotations

import logging
import random
import re
from dataclasses import replace

import pytest
import requests

from app import create_app
from tests.hardening.conftest import rows, sign_in


def spoofed() -> dict:
    return {"X-Forwarded-For": f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"}


def test_spoofed_forwarded_for_does_not_escape_the_per_ip_booking_limit(app, runtime):
    app.config.update(CALLBACK_LIMIT_PER_IP="3/minute", CALLBACK_LIMIT_PER_NUMBER="100/minute")
    client = app.test_client()
    answers = [client.post("/api/callbacks", json={"phone": f"+1212555{140 + n:04d}"}, headers=spoofed())
               for n in range(6)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429, 429, 429]
    assert "address" in answers[3].get_json()["detail"]
    assert rows(runtime)["queue_entries"] == 3


def test_spoofed_forwarded_for_does_not_escape_the_status_link_limit(app):
    app.config.update(CALLBACK_LIMIT_STATUS_PER_IP="3/minute")
    client = app.test_client()
    statuses = [client.get(f"/api/callbacks/{'0' * 32}?token=guess{n}", headers=spoofed()).status_code
                for n in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_spoofed_forwarded_for_does_not_escape_the_sign_in_throttle(app, users):
    app.config.update(SUPERVISOR_LOGIN_LIMIT="3/minute", SUPERVISOR_ACCOUNT_LIMIT="100/minute")
    client = app.test_client()
    wrong = [sign_in(client, "sam", "guess number %d" % n, headers=spoofed()).status_code for n in range(3)]
    assert wrong == [401, 401, 401]
    right = sign_in(client, "sam", headers=spoofed())
    assert right.status_code == 429
    assert "Too many failed sign-ins from your address" in right.get_data(as_text=True)
    assert client.get("/supervisor/", headers={"Accept": "text/html"}).status_code == 302  # not signed in


def test_the_access_log_names_the_real_peer(live_app, caplog):
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        requests.get(live_app + "/api/openapi.json", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=30)
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug" and "openapi" in r.getMessage()]
    assert lines and all(line.startswith("127.0.0.1 ") and "203.0.113.9" not in line for line in lines)


@pytest.fixture
def behind_one_proxy(settings, clock):
    app = create_app(replace(settings, trusted_proxy_hops=1), clock=clock)
    yield app
    app.extensions["ivr"].engine.dispose()


def test_behind_a_configured_proxy_its_forwarded_address_is_the_client(behind_one_proxy):
    app = behind_one_proxy
    app.config.update(CALLBACK_LIMIT_PER_IP="2/minute", CALLBACK_LIMIT_PER_NUMBER="100/minute")
    client = app.test_client()

    def book(n: int, forwarded: str):
        # The proxy appends the address it saw; whatever the client wrote before it is not believed.
        return client.post("/api/callbacks", json={"phone": f"+1212555{150 + n:04d}"},
                           headers={"X-Forwarded-For": forwarded}).status_code

    assert [book(0, "198.51.100.7"), book(1, "1.2.3.4, 198.51.100.7"), book(2, "5.6.7.8, 198.51.100.7")] \
        == [201, 201, 429]
    assert book(3, "198.51.100.8") == 201  # another client behind the same proxy has its own quota


# ---- failed sign-ins per account -------------------------------------------------------------------

def test_an_account_is_locked_after_ten_failures_from_anywhere(app, users):
    app.config.update(SUPERVISOR_LOGIN_LIMIT="1000/minute")
    for n in range(10):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
        assert sign_in(client, "Sam ", f"wrong password {n}").status_code == 401
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.50"
    locked = sign_in(client, "sam")  # the right password, from an address that never failed
    page = locked.get_data(as_text=True)
    assert locked.status_code == 429
    assert "This account is locked after too many failed sign-ins. Wait 15 minutes" in page
    assert locked.headers.get("Retry-After")
    assert client.get("/supervisor/", headers={"Accept": "text/html"}).status_code == 302
    # Another account is not affected.
    assert sign_in(app.test_client(), "ada").status_code == 302


def test_a_name_that_is_not_an_account_locks_the_same_way(app, users):
    """The lockout tells nobody which names exist: an unknown name answers exactly like a real one."""
    app.config.update(SUPERVISOR_LOGIN_LIMIT="1000/minute", SUPERVISOR_ACCOUNT_LIMIT="3/15minutes")
    pages = {}
    for name in ("sam", "nobody"):
        statuses = [sign_in(app.test_client(), name, "wrong password").status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        page = sign_in(app.test_client(), name, "wrong password").get_data(as_text=True)
        pages[name] = re.sub(r'"[\w-]+\.[\w-]+\.[\w-]+"', "TOKEN", page)  # each form's own CSRF token
    assert "This account is locked" in pages["sam"] and pages["sam"] == pages["nobody"]
