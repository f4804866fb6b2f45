"""A burst of sign-in guesses. Before: sign-in guesses sent at once were all evaluated (a failure was counted only after
the response), so 39 wrong passwords and the right one, released together from one address, got 39 × 401
and a sign-in. Now each attempt is counted before its password is looked at: at most the limit's worth of
a burst is evaluated, per address and per account, over real HTTP on the threaded server."""
from __future__ import annotations

import re

import pytest
import requests

from tests.hardening.conftest import CSRF, PASSWORD, at_once

BURST = 40


def _prepared_sessions(base_url: str, count: int) -> list[tuple[requests.Session, str]]:
    """`count` browsers, each with its own cookie and the CSRF token of its own sign-in form."""
    prepared = []
    for _ in range(count):
        browser = requests.Session()
        page = browser.get(base_url + "/supervisor/login", timeout=30).text
        prepared.append((browser, CSRF.search(page).group(1)))
    return prepared


def _burst(base_url: str, username: str, right_one: int) -> list[int]:
    """BURST sign-ins released together: wrong passwords, but number `right_one` has the right one."""
    prepared = _prepared_sessions(base_url, BURST)
    turns = iter(range(BURST))

    def send():
        n = next(turns)
        browser, token = prepared[n]
        password = PASSWORD if n == right_one else f"guess {n}"
        answer = browser.post(base_url + "/supervisor/login", allow_redirects=False, timeout=60,
                              data={"username": username, "password": password, "csrf_token": token})
        if answer.status_code == 302:  # signed in (not sent back to the form: that is a refused CSRF token)
            assert answer.headers["Location"].endswith("/supervisor/"), answer.headers["Location"]
        return answer.status_code

    return at_once(BURST, send)


@pytest.mark.parametrize("limits", [
    {"SUPERVISOR_LOGIN_LIMIT": "10/minute", "SUPERVISOR_ACCOUNT_LIMIT": "100000/minute"},  # per address
    {"SUPERVISOR_LOGIN_LIMIT": "100000/minute", "SUPERVISOR_ACCOUNT_LIMIT": "10/15minutes"},  # per account
], ids=["per-address", "per-account"])
def test_a_burst_of_guesses_is_evaluated_only_up_to_the_limit(app, users, live_app, limits):
    app.config.update(limits, SESSION_COOKIE_SECURE=False)  # the loopback server speaks http, not https
    statuses = _burst(live_app, "sam", right_one=BURST - 1)
    assert set(statuses) <= {302, 401, 429} and len(statuses) == BURST
    # Ten failures at most (before: 39 × 401); a right password among them gives its attempt back.
    assert statuses.count(401) <= 10 and statuses.count(429) >= BURST - 11, statuses
    assert statuses.count(401) + statuses.count(302) >= 10  # the limit's worth was evaluated, no fewer
    # The window is spent: one more guess, sent on its own, is refused without being evaluated.
    browser, token = _prepared_sessions(live_app, 1)[0]
    after = browser.post(live_app + "/supervisor/login", allow_redirects=False, timeout=30,
                         data={"username": "sam", "password": "one more guess", "csrf_token": token})
    assert after.status_code == 429 and int(after.headers["Retry-After"]) > 0


def test_a_successful_sign_in_gives_its_attempt_back(app, users):
    """Only failures spend the limits: a supervisor signing in often is never locked out by it."""
    from tests.hardening.conftest import sign_in

    app.config.update(SUPERVISOR_LOGIN_LIMIT="1000/minute", SUPERVISOR_ACCOUNT_LIMIT="3/15minutes")
    for _ in range(6):
        assert sign_in(app.test_client(), "sam").status_code == 302
    assert [sign_in(app.test_client(), "sam", "wrong").status_code for _ in range(4)] == [401, 401, 401, 429]
    page = sign_in(app.test_client(), "sam").get_data(as_text=True)
    assert re.search(r"This account is locked after too many failed sign-ins\. Wait 15 minutes", page)
