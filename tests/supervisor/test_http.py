"""The supervisor blueprint over HTTP: sign-in, refusals, CSRF, actions and their 409s, CSV, users."""
from __future__ import annotations

import re

import pytest

from storage.models import User
from supervisor import auth, live
from tests.support import agents_api
from tests.supervisor.conftest import CSRF, PASSWORD, book, chat_handover, entry


def sample_path(rule) -> str:
    values = {}
    for arg in rule.arguments:
        values[arg] = 1 if "int" in str(rule._converters.get(arg).__class__).lower() else "x"
    return rule.build(values, append_unknown=False)[1]


def test_every_page_and_data_endpoint_refuses_strangers(app, runtime, clock):
    pid = book(app, name="Secret Person")
    client = app.test_client()
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("supervisor.")
             and r.endpoint not in ("supervisor.login", "supervisor.static")]
    assert len(rules) >= 15
    for rule in rules:
        path = sample_path(rule).replace("/entries/x", f"/entries/{pid}")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for headers in ({"Accept": "text/html"}, {"Accept": "application/json"}):
                response = client.open(path, method=method, headers=headers)
                body = response.get_data(as_text=True)
                if method == "GET" and headers["Accept"] == "text/html":  # a page: the browser is sent to sign in
                    assert response.status_code == 302, (method, path, response.status_code)
                    assert response.headers["Location"].startswith("/supervisor/login")
                else:  # data and actions: told it is not signed in
                    assert response.status_code == 401, (method, path, response.status_code, body[:200])
                assert "+12125550100" not in body and "Secret Person" not in body
    assert entry(runtime, pid).state == "queued" and len(entry(runtime, pid).events) == 2  # requested, window_told


def test_sign_in_checks_the_password_and_sign_out_ends_the_session(app, users):
    client = app.test_client()
    page = client.get("/supervisor/login")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    wrong = client.post("/supervisor/login", data={"username": "sam", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "do not match" in wrong.get_data(as_text=True)
    no_csrf = client.post("/supervisor/login", data={"username": "sam", "password": PASSWORD})
    assert no_csrf.status_code == 302 and client.get("/supervisor/", headers={"Accept": "text/html"}).status_code == 302
    ok = client.post("/supervisor/login", data={"username": "SAM", "password": PASSWORD, "csrf_token": token,
                                                "next": "https://evil.example/x"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/supervisor/"
    page = client.get("/supervisor/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "sam · supervisor" in page.get_data(as_text=True)
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    assert client.post("/supervisor/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/supervisor/board").status_code == 401


def test_passwords_are_stored_as_argon2_hashes(runtime, users):
    with runtime.sessions() as db:
        user = auth.find_user(db, "sam")
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert auth.authenticate(db, "sam", PASSWORD) is not None
        assert auth.authenticate(db, "sam", PASSWORD + "x") is None
        assert auth.authenticate(db, "nobody", PASSWORD) is None


def test_a_form_without_the_csrf_token_is_refused(app, sign_in, runtime, clock):
    sam = sign_in("sam")
    pid = book(app)
    response = sam.client.post(f"/supervisor/entries/{pid}/cancel",
                               data={"version": str(entry(runtime, pid).version), "reason": "x"},
                               headers={"X-Requested-With": "fetch"})
    assert response.status_code == 400 and "expired" in response.json["detail"]
    assert entry(runtime, pid).state == "queued"


def test_twilio_webhooks_are_not_subject_to_the_pages_csrf(twilio, users):
    call = twilio.call(from_number="+12125550142")
    assert call.heard  # the signed webhook was answered, not refused for a missing CSRF token


def test_queue_page_shows_the_line_with_numbers_in_full(sign_in, app, twilio, runtime, clock, busy_agent):
    busy_agent("billing")
    client = app.test_client()
    booked = client.post("/api/callbacks", json={
        "phone": "+12125550100", "name": "Grace Hopper", "reason": "double charge", "skill": "billing",
        "channel": "api", "context": {"page_url": "https://example.com/billing"}})
    assert booked.status_code == 201, booked.get_json()
    chat_handover(app, clock, {"phone": "+12125550101", "skill": "billing",
                               "transcript": [{"from": "customer", "text": "my bill is wrong"}]})
    call = twilio.call(from_number="+12125550102")
    for key in ("1", "1", "1", "1"):  # billing, call me back, on this number, as soon as possible
        call.press(key)
    page = sign_in("sam").get("/supervisor/").get_data(as_text=True)
    assert "Grace Hopper" in page and "+12125550100" in page and "double charge" in page
    assert '<a href="https://example.com/billing"' in page and ">example.com/billing</a>" in page
    assert "Chat: customer: my bill is wrong" in page
    assert "+12125550102" in page
    for unfinished in ("Page url", "Ivr heard", "Caller number", "Called number", "Chat transcript"):
        assert unfinished not in page, unfinished


def test_each_action_over_http_and_the_second_supervisor_gets_a_409(app, sign_in, runtime, clock):
    sam, kim = sign_in("sam"), sign_in("kim")
    pid = book(app, "+12125550100")
    shown = entry(runtime, pid).version  # both pages show this version

    r = sam.act(pid, "priority", shown, priority="up", current="0")
    assert r.status_code == 200 and r.json["message"] == "Priority is now 1."
    r = kim.act(pid, "cancel", shown, reason="duplicate")
    assert r.status_code == 409 and "changed since your page showed it" in r.json["detail"]
    assert "priority by sam" in r.json["detail"]

    v = entry(runtime, pid).version
    assert sam.act(pid, "note", v, text="VIP").status_code == 200
    v = entry(runtime, pid).version
    r = sam.act(pid, "reschedule", v, when="2026-11-25T10:30", zone="America/New_York")
    assert r.status_code == 200, r.json
    assert entry(runtime, pid).state == "scheduled"
    assert entry(runtime, pid).scheduled_for.isoformat() == "2026-11-25T15:30:00+00:00"
    r = sam.act(pid, "reschedule", entry(runtime, pid).version, when="2026-11-29T10:30", zone="America/New_York")
    assert r.status_code == 400 and "closed" in r.json["detail"].lower()
    assert sam.act(pid, "call-now", entry(runtime, pid).version).status_code == 200
    assert entry(runtime, pid).state == "queued"
    assert sam.act(pid, "move", entry(runtime, pid).version, skill="sales").status_code == 200
    assert sam.act(pid, "cancel", entry(runtime, pid).version, reason="").status_code == 400
    assert sam.act(pid, "cancel", entry(runtime, pid).version, reason="solved by email").status_code == 200
    trail = [(e.event, e.actor) for e in entry(runtime, pid).events]
    assert trail == [("requested", "customer"), ("window_told", "system"), ("priority", "sam"), ("note", "sam"),
                     ("rescheduled", "sam"), ("call_now", "sam"), ("moved", "sam"), ("cancelled", "sam")]


def test_failed_callbacks_stand_out_and_can_be_retried_or_closed(app, sign_in, runtime, clock, fail):
    sam = sign_in("sam")
    pids = [book(app, n) for n in ("+12125550101", "+12125550102")]
    fail(*pids)  # the dispatcher gave up: nobody answered
    page = sam.get("/supervisor/").get_data(as_text=True)
    # Three attempts, and one soon inside a window told.
    assert page.count('class="row sec-failed trouble"') == 2 and "gave up after 4 attempts" in page
    assert "1 needs attention" not in page and "2 need attention" in page
    assert sam.act(pids[0], "retry", entry(runtime, pids[0]).version).status_code == 200
    assert sam.act(pids[1], "close", entry(runtime, pids[1]).version).status_code == 200
    assert entry(runtime, pids[0]).state == "queued" and entry(runtime, pids[1]).state == "cancelled"
    assert "need attention" not in sam.get("/supervisor/").get_data(as_text=True)


def test_without_javascript_an_action_redirects_back_with_a_message(app, sign_in, runtime, clock):
    sam = sign_in("sam")
    pid = book(app)
    response = sam.client.post(f"/supervisor/entries/{pid}/note",
                               data={"csrf_token": sam.token, "version": "999", "text": "x",
                                     "back": "/supervisor/?skill=billing"})
    assert response.status_code == 303 and response.headers["Location"] == "/supervisor/?skill=billing"
    page = sam.get("/supervisor/?skill=billing").get_data(as_text=True)
    assert "changed since your page showed it" in page
    assert [e.event for e in entry(runtime, pid).events] == ["requested", "window_told"]  # no note was added


def test_agents_panel_sets_availability(app, sign_in, runtime, monkeypatch):
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    api = app.test_client()
    agent_id = agents_api.add(api, "Alice", "+14155550100", {"billing": 7}, state="offline")
    sam = sign_in("sam")
    page = sam.get("/supervisor/").get_data(as_text=True)
    assert "Alice" in page and "a-offline" in page
    version = api.get(f"/api/agents/{agent_id}", headers=agents_api.AUTH).get_json()["version"]
    r = sam.post(f"/supervisor/agents/{agent_id}/state", {"state": "available", "version": version,
                                                          "shown_state": "offline"})
    assert r.status_code == 200 and r.json["message"] == "Alice is now available."
    r = sam.post(f"/supervisor/agents/{agent_id}/state", {"state": "on_call"})
    assert r.status_code == 409
    # an agent change moves the live marker, so open pages refresh
    with runtime.sessions() as db:
        before = live.marker(db)
    sam.post(f"/supervisor/agents/{agent_id}/state", {"state": "offline"})
    with runtime.sessions() as db:
        assert live.marker(db) != before


def test_only_admins_manage_users_and_agents(sign_in, runtime):
    sam, ada = sign_in("sam"), sign_in("ada")
    assert sam.get("/supervisor/users").status_code == 403
    assert sam.post("/supervisor/agents", {"name": "Bo", "address": "+14155550101", "skills": "sales"}).status_code == 403
    r = ada.post("/supervisor/agents", {"name": "Bo", "address": "+14155550101", "skills": "sales:8, billing"})
    assert r.status_code == 200, r.json
    r = ada.post("/supervisor/agents", {"name": "Cy", "address": "bogus", "skills": "sales"})
    assert r.status_code == 400 and "not a way to reach" in r.json["detail"]
    r = ada.post("/supervisor/users", {"username": "newbie", "password": "long enough pw", "role": "supervisor"})
    assert r.status_code == 200
    r = ada.post("/supervisor/users", {"username": "short", "password": "x", "role": "supervisor"})
    assert r.status_code == 400 and "10 characters" in r.json["detail"]
    with runtime.sessions() as db:
        ada_id = auth.find_user(db, "ada").id
    r = ada.post(f"/supervisor/users/{ada_id}", {"role": "supervisor"})
    assert r.status_code == 400 and "no active admin" in r.json["detail"]


def test_a_password_change_ends_other_sign_ins(app, sign_in):
    sam = sign_in("sam")
    changed = app.test_cli_runner().invoke(args=["users", "set-password", "sam", "--password", "another long password"])
    assert changed.exit_code == 0, changed.output
    assert sam.client.get("/supervisor/board").status_code == 401


def test_cli_creates_the_first_admin(app, runtime):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "root", "--role", "admin", "--timezone", "Europe/Paris",
                                 "--password", "a long password"])
    assert result.exit_code == 0, result.output
    assert "Created admin root" in result.output
    result = runner.invoke(args=["users", "create", "root", "--password", "a long password"])
    assert result.exit_code != 0 and "already a user" in result.output
    result = runner.invoke(args=["users", "list"])
    assert "root\tadmin\tEurope/Paris\tactive" in result.output
    result = runner.invoke(args=["users", "set-password", "root", "--password", "an even longer one"])
    assert result.exit_code == 0
    with runtime.sessions() as db:
        assert auth.authenticate(db, "root", "an even longer one") is not None
        assert db.query(User).count() == 1


def test_metrics_page_and_csv(app, sign_in, runtime, clock):
    pid = book(app)
    sam = sign_in("sam")
    page = sam.get("/supervisor/metrics?period=today")
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
    assert page.get_data(as_text=True).count("<caption>") == 1
    week = sam.get("/supervisor/metrics?start=2026-11-01&end=2026-11-23").get_data(as_text=True)
    assert "<caption>Today so far</caption>" in week and "<caption>Chosen period</caption>" in week
    csv_response = sam.get("/supervisor/metrics.csv?period=7d")
    assert csv_response.mimetype == "text/csv"
    billing = [line for line in csv_response.get_data(as_text=True).splitlines() if line.startswith("billing,")]
    assert billing and billing[0].split(",")[3:5] == ["1", "1"]  # offered, accepted: the booked callback
    bad = sam.get("/supervisor/metrics.csv?start=soon")
    assert bad.status_code == 400
    assert pid


def test_the_stream_says_change_when_the_trail_moves(app, runtime, clock):
    ticks = iter(range(1000))
    events = live.stream(runtime.sessions, None, sleep=lambda s: None, monotonic=lambda: next(ticks) * 0.001)
    assert next(events).startswith("retry:")
    hello = next(events)
    assert hello.startswith("event: hello")
    book(app)
    assert next(events).startswith("event: change")


def test_stream_endpoint_serves_event_stream(sign_in, monkeypatch):
    monkeypatch.setattr(live, "STREAM_SECONDS", 0.2)
    sam = sign_in("sam")
    response = sam.client.get("/supervisor/stream", headers={"Accept": "text/event-stream"})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert "event: hello" in response.get_data(as_text=True)


@pytest.mark.parametrize("next_url, expected", [("/supervisor/metrics", "/supervisor/metrics"),
                                                ("//evil.example/supervisor/", "/supervisor/"),
                                                ("/voice/incoming", "/supervisor/")])
def test_sign_in_only_returns_to_supervisor_pages(app, users, next_url, expected):
    client = app.test_client()
    token = CSRF.search(client.get("/supervisor/login").get_data(as_text=True)).group(1)
    r = client.post("/supervisor/login", data={"username": "sam", "password": PASSWORD, "csrf_token": token,
                                               "next": next_url})
    assert r.headers["Location"] == expected
    assert re.match(r"^/", r.headers["Location"])


def test_entry_page_shows_the_audit_trail_with_who_did_what(app, sign_in, runtime, clock):
    pid = book(app, name="Grace Hopper")
    sam = sign_in("sam")
    assert sam.act(pid, "note", entry(runtime, pid).version, text="prefers e-mail").status_code == 200
    clock.advance(60)
    assert sam.act(pid, "priority", entry(runtime, pid).version, priority="4").status_code == 200
    page = sam.get(f"/supervisor/entries/{pid}").get_data(as_text=True)
    trail = page[page.index("Audit trail</h2>"):]
    assert trail.index("priority</strong> by sam") < trail.index("note</strong> by sam") < trail.index("requested")
    assert "prefers e-mail" in trail and "priority 0 -&gt; 4" in trail
    # sam reads New York time: 15:01 UTC is 10:01
    assert "10:01 EST" in trail
    assert sam.get("/supervisor/entries/" + "0" * 32).status_code == 404


def test_the_stream_ends_quietly_when_the_database_goes_away(runtime):
    class Gone:
        def __call__(self):
            from sqlalchemy.exc import OperationalError

            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    events = list(live.stream(Gone(), None, sleep=lambda s: None))
    assert events == ["retry: 1000\n\n"]  # the browser reconnects after a second


def test_all_skills_view_caps_long_lines_and_the_skill_view_shows_all(app, sign_in, runtime, clock, monkeypatch):
    from supervisor import board

    monkeypatch.setattr(board, "ROWS_PER_SECTION", 3)
    for i in range(5):
        book(app, f"+1212555{i:04d}")
        clock.advance(1)
    sam = sign_in("sam")
    page = sam.get("/supervisor/").get_data(as_text=True)
    assert page.count('class="row sec-line') == 3 and "2 more in billing: show this skill only" in page
    assert 'data-testid="count-billing">5<' in page  # the count is of everyone in line
    page = sam.get("/supervisor/?skill=billing").get_data(as_text=True)
    assert page.count('class="row sec-line') == 5 and "more in billing" not in page


def test_failed_sign_ins_are_throttled_per_address(app, users):
    app.config["SUPERVISOR_LOGIN_LIMIT"] = "3/minute"
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    token = CSRF.search(client.get("/supervisor/login").get_data(as_text=True)).group(1)
    statuses = [client.post("/supervisor/login", data={"username": "sam", "password": "guess", "csrf_token": token})
                .status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Another address is not affected, and a correct password from it signs in.
    other = app.test_client()
    token = CSRF.search(other.get("/supervisor/login").get_data(as_text=True)).group(1)
    assert other.post("/supervisor/login", data={"username": "sam", "password": PASSWORD,
                                                 "csrf_token": token}).status_code == 302


def test_the_sign_in_cookie_is_secure_when_served_over_https(app, users):
    from tests.supervisor.conftest import CSRF, PASSWORD

    client = app.test_client()
    token = CSRF.search(client.get("/supervisor/login").get_data(as_text=True)).group(1)
    response = client.post("/supervisor/login", data={"username": "sam", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# ---- honest answers on the queue page: no wait nobody can meet, and "Call now" says why it cannot --------

def test_closed_team_shows_no_wait_and_call_now_says_why(sign_in, app, runtime, clock):
    from datetime import datetime, timezone

    clock.set(datetime(2026, 11, 28, 0, 0, tzinfo=timezone.utc))  # Friday 19:00 in New York: billing closed
    booked = app.test_client().post("/api/callbacks", json={"phone": "+12125550100", "skill": "billing",
                                                            "channel": "api"}).get_json()
    sam = sign_in("sam")
    page = sam.get("/supervisor/").get_data(as_text=True)
    card = page[page.index('href="#skill-billing"'):page.index("</a>", page.index('href="#skill-billing"'))]
    assert "no wait told: closed, calls back from Mon 30 Nov 08:00 EST" in card
    assert "~4m" not in card and "~0s" not in page.split('id="skill-billing"')[1].split("</section>")[0]
    r = sam.act(booked["id"], "call-now", entry(runtime, booked["id"]).version)
    assert r.status_code == 409
    assert "the billing team is closed now" in r.json["detail"] and "Mon 30 Nov 08:00 EST" in r.json["detail"]
    assert entry(runtime, booked["id"]).state == "scheduled"  # nothing changed


def test_unstaffed_open_team_card_tells_no_wait(sign_in, app, runtime, clock):
    app.test_client().post("/api/callbacks", json={"phone": "+12125550100", "skill": "billing", "channel": "api"})
    page = sign_in("sam").get("/supervisor/").get_data(as_text=True)
    card = page[page.index('href="#skill-billing"'):page.index("</a>", page.index('href="#skill-billing"'))]
    assert "no wait told: nobody staffed, calls back from" in card and "0 / 0" in card
    assert "Connects in" not in card


def test_a_nameless_caller_is_named_alike_on_the_queue_and_the_entry_page(app, sign_in, runtime, clock):
    pid = book(app)  # booked without a name
    sam = sign_in("sam")
    queue = sam.get("/supervisor/").get_data(as_text=True)
    page = sam.get(f"/supervisor/entries/{pid}").get_data(as_text=True)
    assert "name not given" in queue and "name not given" in page
    assert "Unknown name" not in page


def test_a_change_made_by_a_request_reaches_an_open_queue_pages_stream(app, sign_in, live_app, monkeypatch):
    """The queue page's live channel over real HTTP, as its script opens it: the stream from the marker the page
    was drawn at (`?since=`, supervisor.js). An agent signing on through /api/agents then arrives on that open
    stream as a `change` event, and the board the page fetches on it shows the agent. How soon is
    bench/supervisor_bench.py's business: the socket's limit only stops a hung test."""
    import http.client
    from urllib.parse import quote, urlsplit

    from tests.support import agents_api

    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    sam = sign_in("sam")
    page = sam.get("/supervisor/").get_data(as_text=True)
    assert "Ann Lee" not in page
    drawn_at = re.search(r'id="board-body" data-marker="([^"]*)"', page).group(1)
    base = urlsplit(live_app)
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=60)
    connection.request("GET", f"/supervisor/stream?since={quote(drawn_at)}", headers={
        "Accept": "text/event-stream", "Cookie": f"session={sam.client.get_cookie('session').value}"})
    stream = connection.getresponse()
    try:
        assert stream.status == 200 and stream.getheader("Content-Type").startswith("text/event-stream")

        def next_event() -> dict:
            """The next event on the stream (comments, the keep-alives, skipped), as its fields."""
            fields = {}
            while True:
                line = stream.readline().decode().rstrip("\n")
                if line == "" and fields:
                    return fields
                if line and not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value

        assert next_event() == {"retry": "1000"}  # the stream is open: nothing has changed since the page
        agents_api.add_available(app.test_client(), "Ann Lee", "+14155550101", ["billing"])
        change = next_event()
    finally:
        connection.close()
    assert change["event"] == "change" and change["id"] == change["data"] != drawn_at
    board = sam.get("/supervisor/board").get_data(as_text=True)
    assert "Ann Lee" in board and f'data-marker="{change["id"]}"' in board
