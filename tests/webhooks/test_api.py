"""The public callback API end to end: real HTTP handlers, real database, the IVR's own queue."""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from routing import queue
from storage.models import QueueEntry, QueueEvent

NUMBER = "+12125550142"
OTHER = "+12125550143"
DUTCH = "+31201234567"


@pytest.fixture(autouse=True)
def generous_limits(app):
    """Rate limits have their own test; here they would only get in the way."""
    app.config.update(CALLBACK_LIMIT_PER_IP="1000/minute", CALLBACK_LIMIT_PER_NUMBER="1000/minute",
                      CALLBACK_LIMIT_STATUS_PER_IP="1000/minute")


@pytest.fixture
def client(app):
    return app.test_client()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def count_entries(runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(QueueEntry))


def get_entry(runtime, public_id) -> QueueEntry:
    with runtime.sessions() as s:
        return s.scalar(select(QueueEntry).where(QueueEntry.public_id == public_id))


# ---- booked, read, cancelled, duplicate ---------------------------------------------------------------

def test_booking_answers_201_with_position_estimate_and_status_link(client, runtime, clock, busy_agent):
    busy_agent("billing")
    response = client.post("/api/callbacks", json={
        "phone": "+1 (212) 555-0142", "name": "Ann Smith", "reason": "a question about my invoice",
        "language": "en-US", "channel": "api",
        "context": {"page_url": "https://shop.example.com/invoices/7", "customer_reference": "C-1001"},
    })
    assert response.status_code == 201
    body = response.get_json()
    assert body["created"] is True
    assert body["state"] == "queued"
    assert body["skill"] == "billing"  # classified from the reason by the IVR's classifier
    assert body["position"] == 1
    # One agent on the skill, busy: one assumed handle time, and the customer's phone ringing.
    assert body["estimated_wait_seconds"] == runtime.ivr_config.assumed_handle_seconds + 15
    assert body["window"] == {"from": "2026-11-24T15:00:00Z", "by": "2026-11-24T15:20:00Z",
                              "from_local": "2026-11-24T10:00", "by_local": "2026-11-24T10:20",
                              "timezone": "America/New_York",
                              "text": "between 10:00 and 10:20 today, Tuesday 24 November, New York time",
                              "told_at": "2026-11-24T15:00:00Z", "moved": 0}
    assert body["requested_at"] == "2026-11-24T15:00:00Z"
    token = dict(p.split("=") for p in urlsplit(body["status_url"]).query.split("&"))["token"]
    assert len(token) >= 32
    assert response.headers["Location"] == body["status_url"]

    entry = get_entry(runtime, body["id"])
    assert entry.phone_number == NUMBER
    assert entry.channel == "api"
    assert entry.caller_name == "Ann Smith"
    assert entry.reason == "a question about my invoice"
    assert entry.arrived_at == clock.now()
    assert entry.context == {"page_url": "https://shop.example.com/invoices/7", "customer_reference": "C-1001"}
    assert entry.status_token_hash and token not in entry.status_token_hash  # stored hashed only
    assert entry.announced_wait_seconds == body["estimated_wait_seconds"]


def test_status_link_reads_and_cancels(client, runtime, clock):
    booked = client.post("/api/callbacks", json={"phone": NUMBER, "skill": "support"}).get_json()
    link = path_of(booked["status_url"])
    other = client.post("/api/callbacks", json={"phone": OTHER, "skill": "support"}).get_json()
    other_status = client.get(path_of(other["status_url"])).get_json()
    assert other_status["position"] == 2

    status = client.get(link)
    assert status.status_code == 200
    assert status.get_json()["state"] == "queued"
    assert "status_url" not in status.get_json()  # the token is never repeated

    cancelled = client.delete(link)
    assert cancelled.status_code == 200
    assert cancelled.get_json()["state"] == "cancelled"
    assert cancelled.get_json()["position"] is None
    assert client.get(path_of(other["status_url"])).get_json()["position"] == 1
    with runtime.sessions() as s:
        trail = s.scalars(select(QueueEvent).join(QueueEntry).where(QueueEntry.public_id == booked["id"])
                          .order_by(QueueEvent.id)).all()
        assert [(e.event, e.actor) for e in trail][-1] == ("cancelled", "customer")
    # Cancelling twice is harmless, and the POST form works too.
    again = client.post(path_of(booked["status_url"]).replace("?", "/cancel?"))
    assert again.status_code == 200 and again.get_json()["state"] == "cancelled"


def test_status_link_with_a_wrong_token_is_not_found(client):
    booked = client.post("/api/callbacks", json={"phone": NUMBER}).get_json()
    wrong = f"/api/callbacks/{booked['id']}?token=not-the-token"
    for response in (client.get(wrong), client.delete(wrong), client.get(f"/api/callbacks/{booked['id']}")):
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
    assert client.get(path_of(booked["status_url"])).get_json()["state"] == "queued"  # not cancelled


@pytest.mark.parametrize("public_id,status", [("%00", 400), ("x" * 32, 404), ("A" * 32, 404), ("0" * 31, 404)])
def test_malformed_ids_are_not_found(client, public_id, status):
    """An id that is not one is unknown (404); a NUL is refused anywhere in a URL (400, storage.text)."""
    response = client.get(f"/api/callbacks/{public_id}?token=abc")
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"


def test_finished_callback_cannot_be_cancelled(app, client, runtime, twilio, monkeypatch):
    from tests.support import agents_api
    from tests.support.outbound_legs import Outbound

    booked = client.post("/api/callbacks", json={"phone": NUMBER}).get_json()
    # The callback is made and over: the dispatcher offers it to an agent, who takes it; the customer
    # answers, talks, and hangs up.
    monkeypatch.setenv("AGENTS_API_TOKEN", agents_api.TOKEN)
    agents_api.add_available(client, "Ann", "+14155550101", [booked["skill"]], wrap_up_seconds=0)
    assert [c.public_id for c in runtime.extras["dispatcher"].run_once().claimed] == [booked["id"]]
    legs = Outbound(twilio)
    legs.to("+14155550101").answer().press("1")
    legs.to(NUMBER).answer().amd("human").hang_up()
    assert get_entry(runtime, booked["id"]).state == "completed"
    response = client.delete(path_of(booked["status_url"]))
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert get_entry(runtime, booked["id"]).state == "completed"


def test_second_request_for_same_number_and_skill_returns_the_open_one(client, runtime, clock):
    first = client.post("/api/callbacks", json={"phone": NUMBER, "skill": "sales"})
    clock.advance(60)
    second = client.post("/api/callbacks", json={"phone": "+1 212 555 0142", "skill": "sales", "channel": "web",
                                                 "form_token": client.get("/api/callback-form").get_json()["form_token"]})
    assert first.status_code == 201
    assert second.status_code == 200
    again = second.get_json()
    assert again["id"] == first.get_json()["id"]
    assert again["created"] is False
    assert "status_url" not in again  # whoever knows the number does not get the link
    assert again["requested_at"] == "2026-11-24T15:00:00Z"  # keeps its place
    assert count_entries(runtime) == 1
    # Another skill is another callback.
    assert client.post("/api/callbacks", json={"phone": NUMBER, "skill": "billing"}).status_code == 201


def test_scheduled_callback_in_the_customers_time_zone(client, runtime):
    # Wed 25 Nov 2026 16:00 in Amsterdam = 10:00 in New York: billing is open.
    response = client.post("/api/callbacks", json={
        "phone": DUTCH, "skill": "billing", "when": "scheduled", "preferred_time": "2026-11-25T16:00",
        "timezone": "Europe/Amsterdam", "language": "nl-NL"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["state"] == "scheduled"
    assert body["scheduled_for"] == "2026-11-25T15:00:00Z"
    assert body["scheduled_for_local"] == "2026-11-25T16:00"
    assert body["timezone"] == "Europe/Amsterdam"
    assert body["position"] is None and body["estimated_wait_seconds"] is None
    entry = get_entry(runtime, body["id"])
    assert entry.next_attempt_at == datetime(2026, 11, 25, 15, 0, tzinfo=timezone.utc)
    assert entry.customer_timezone == "Europe/Amsterdam"


def test_asap_while_closed_is_booked_for_the_opening(client, runtime, clock):
    clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc))  # 21:00 Tuesday in New York
    body = client.post("/api/callbacks", json={"phone": NUMBER, "skill": "billing"}).get_json()
    assert body["state"] == "scheduled"
    assert body["scheduled_for"] == "2026-11-25T13:00:00Z"  # Wednesday 08:00 in New York


# ---- refusals: a precise 4xx and nothing written --------------------------------------------------------

REFUSALS = [
    ({"phone": "911"}, 422, "/phone", "number_emergency"),
    ({"phone": "112"}, 422, "/phone", "number_emergency"),
    ({"phone": "+1 900 555 0100"}, 422, "/phone", "number_premium"),
    ({"phone": "+44 7700 900"}, 422, "/phone", "number_invalid"),
    ({"phone": "+33 1 42 68 53 00"}, 422, "/phone", "number_country"),
    ({"phone": "not a number"}, 422, "/phone", "number_invalid"),
    ({"phone": 12125550142}, 422, "/phone", "wrong_type"),
    ({}, 422, "/phone", "missing"),
    ({"phone": NUMBER, "colour": "blue"}, 422, "/colour", "unknown_field"),
    ({"phone": NUMBER, "context": {"page_url": "https://x.example", "cookie": "x"}}, 422, "/context/cookie",
     "unknown_field"),
    ({"phone": NUMBER, "context": {"page_url": "javascript:alert(1)"}}, 422, "/context/page_url", "format"),
    ({"phone": NUMBER, "skill": "astrology"}, 422, "/skill", "not_allowed"),
    ({"phone": NUMBER, "channel": "fax"}, 422, "/channel", "not_allowed"),
    ({"phone": NUMBER, "language": "fr-FR"}, 422, "/language", "not_allowed"),
    ({"phone": NUMBER, "name": "x" * 121}, 422, "/name", "too_long"),
    ({"phone": NUMBER, "reason": ["billing"]}, 422, "/reason", "wrong_type"),
    ({"phone": NUMBER, "name": "Ann\u0000Smith"}, 400, "/name", "format"),
    ({"phone": NUMBER, "context": {"chat_transcript": "hi\u001b[2Jthere"}}, 400, "/context/chat_transcript",
     "format"),
    ({"phone": NUMBER, "when": "scheduled"}, 422, "/preferred_time", "missing"),
    ({"phone": NUMBER, "preferred_time": "2026-11-25T10:00"}, 422, "/timezone", "missing"),
    ({"phone": NUMBER, "preferred_time": "tomorrow", "timezone": "UTC"}, 422, "/preferred_time", "format"),
    ({"phone": NUMBER, "preferred_time": "2026-11-25T10:00+01:00", "timezone": "UTC"}, 422, "/preferred_time",
     "format"),
    ({"phone": NUMBER, "preferred_time": "2026-13-45T10:00", "timezone": "UTC"}, 422, "/preferred_time", "format"),
    ({"phone": NUMBER, "preferred_time": "2026-11-24T09:00", "timezone": "America/New_York"}, 422,
     "/preferred_time", "past"),
    ({"phone": NUMBER, "preferred_time": "2026-12-30T10:00", "timezone": "America/New_York"}, 422,
     "/preferred_time", "horizon"),
    ({"phone": NUMBER, "skill": "billing", "preferred_time": "2026-11-25T23:00", "timezone": "America/New_York"},
     422, "/preferred_time", "closed"),
    ({"phone": NUMBER, "preferred_time": "2026-11-25T10:00", "timezone": "Mars/Olympus_Mons"}, 422, "/timezone",
     "unknown_timezone"),
    ({"phone": NUMBER, "preferred_time": "2026-11-25T10:00", "timezone": "../../etc/passwd"}, 422, "/timezone",
     "unknown_timezone"),
    ({"phone": NUMBER, "when": "asap", "preferred_time": "2026-11-25T10:00", "timezone": "UTC"}, 422,
     "/preferred_time", "not_allowed"),
    ({"phone": NUMBER, "website": "http://cheap-pills.example"}, 400, "/website", "honeypot"),
    ({"phone": NUMBER, "channel": "web"}, 403, "/form_token", "form_token_missing"),
    ({"phone": NUMBER, "channel": "web", "form_token": "forged.token.value"}, 403, "/form_token",
     "form_token_invalid"),
]


@pytest.mark.parametrize("body,status,field,code", REFUSALS, ids=[r[3] + ":" + r[2] for r in REFUSALS])
def test_refusal_is_precise_and_writes_nothing(client, runtime, body, status, field, code):
    response = client.post("/api/callbacks", json=body)
    assert response.status_code == status, response.get_json()
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["status"] == status
    assert problem["field"] == field
    assert problem["code"] == code
    assert problem["detail"]
    assert count_entries(runtime) == 0


def test_time_in_the_spring_forward_gap_is_refused(client, runtime, clock):
    clock.set(datetime(2027, 3, 10, 15, 0, tzinfo=timezone.utc))
    response = client.post("/api/callbacks", json={
        "phone": NUMBER, "skill": "support", "preferred_time": "2027-03-14T02:30", "timezone": "America/New_York"})
    assert response.status_code == 422
    assert response.get_json()["code"] == "dst_gap"
    assert count_entries(runtime) == 0


@pytest.mark.parametrize("data,content_type,status,code", [
    ("{not json", "application/json", 400, "malformed_json"),
    (b"\xff\xfe", "application/json", 400, "malformed_json"),
    ('["+12125550142"]', "application/json", 422, "wrong_type"),
    ("phone=+12125550142", "application/x-www-form-urlencoded", 415, "media_type"),
])
def test_malformed_bodies(client, runtime, data, content_type, status, code):
    response = client.post("/api/callbacks", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["code"] == code
    assert count_entries(runtime) == 0


def test_body_too_large_is_413(client, runtime):
    response = client.post("/api/callbacks", json={"phone": NUMBER, "context": {"chat_transcript": "x" * 70_000}})
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].startswith("the body is larger than 64 KiB")
    assert count_entries(runtime) == 0


# ---- browsers: origin allow-list, form token, CORS --------------------------------------------------------

def test_browser_needs_allowed_origin_and_its_form_token(app, client, runtime):
    app.config["CALLBACK_WIDGET_ORIGINS"] = ("https://shop.example.com",)
    shop = {"Origin": "https://shop.example.com"}
    evil = {"Origin": "https://evil.example.net"}

    assert client.get("/api/callback-form", headers=evil).status_code == 403
    form = client.get("/api/callback-form", headers=shop)
    assert form.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    token = form.get_json()["form_token"]

    preflight = client.options("/api/callbacks", headers={**shop, "Access-Control-Request-Method": "POST"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in client.options("/api/callbacks", headers=evil).headers

    body = {"phone": NUMBER, "channel": "web"}
    assert client.post("/api/callbacks", json=body, headers=shop).get_json()["code"] == "form_token_missing"
    stolen = client.post("/api/callbacks", json={**body, "form_token": token}, headers=evil)
    assert stolen.status_code == 403 and stolen.get_json()["code"] == "origin_not_allowed"
    # A token issued to another allowed origin does not transfer.
    app.config["CALLBACK_WIDGET_ORIGINS"] = ("https://shop.example.com", "https://blog.example.com")
    moved = client.post("/api/callbacks", json={**body, "form_token": token},
                        headers={"Origin": "https://blog.example.com"})
    assert moved.status_code == 403 and moved.get_json()["code"] == "form_token_invalid"
    assert count_entries(runtime) == 0

    booked = client.post("/api/callbacks", json={**body, "form_token": token}, headers=shop)
    assert booked.status_code == 201
    assert booked.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"


def test_form_token_expires(app, client, runtime, monkeypatch):
    token = client.get("/api/callback-form").get_json()["form_token"]
    import itsdangerous.timed

    later = itsdangerous.timed.TimestampSigner.get_timestamp(None) + 3 * 3600  # type: ignore[arg-type]
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: later)
    response = client.post("/api/callbacks", json={"phone": NUMBER, "channel": "web", "form_token": token})
    assert response.status_code == 403
    assert response.get_json()["code"] == "form_token_expired"
    assert count_entries(runtime) == 0


def test_form_offers_slots_inside_business_hours_in_the_visitors_zone(client, runtime, clock):
    form = client.get("/api/callback-form?skill=billing&timezone=Europe/Amsterdam&language=nl-NL").get_json()
    assert form["timezone"] == "Europe/Amsterdam"
    assert {s["label"] for s in form["skills"]} >= {"facturen", "verkoop"}
    slots = form["slots"]
    # Billing is open 08:00-18:00 New York = 14:00-00:00 Amsterdam; now is 16:00 Amsterdam.
    assert slots[0]["value"] == "2026-11-24T16:30"
    assert slots[-1]["date"] == "2026-11-26"  # three open days
    assert all("14:00" <= s["time"] <= "23:30" for s in slots)
    # Every offered slot is accepted by the booking rules.
    chosen = slots[len(slots) // 2]["value"]
    booked = client.post("/api/callbacks", json={"phone": DUTCH, "skill": "billing", "preferred_time": chosen,
                                                 "timezone": "Europe/Amsterdam"})
    assert booked.status_code == 201, booked.get_json()
    assert client.get("/api/callback-form?timezone=Nowhere/Land").status_code == 422


# ---- rate limits -----------------------------------------------------------------------------------------

def test_rate_limit_per_number_and_per_ip(app, client, runtime):
    app.config.update(CALLBACK_LIMIT_PER_NUMBER="2/hour", CALLBACK_LIMIT_PER_IP="4/minute")
    first = client.post("/api/callbacks", json={"phone": NUMBER})
    again = client.post("/api/callbacks", json={"phone": NUMBER})
    assert (first.status_code, again.status_code) == (201, 200)  # booked, then the same booking found
    limited = client.post("/api/callbacks", json={"phone": "+1 212-555-0142"})  # same number, other spelling
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert "phone number" in limited.get_json()["detail"]
    assert limited.headers.get("Retry-After")
    assert client.post("/api/callbacks", json={"phone": OTHER}).status_code == 201
    # The address has now used its 4 requests a minute, whatever the number.
    blocked = client.post("/api/callbacks", json={"phone": "+12125550144"})
    assert blocked.status_code == 429
    assert "address" in blocked.get_json()["detail"]
    # Another client is not affected.
    other_ip = client.post("/api/callbacks", json={"phone": "+12125550145"},
                           environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert other_ip.status_code == 201


# ---- same queue, same order as phone callers ---------------------------------------------------------------

def test_web_callbacks_join_the_phone_line_in_request_order(twilio, client, runtime, clock, busy_agent):
    busy_agent("billing")
    caller = twilio.call(from_number="+12125550100")
    caller.press("1")  # billing
    caller.press("2")  # hold
    clock.advance(30)
    web = client.post("/api/callbacks", json={"phone": NUMBER, "skill": "billing", "channel": "api"}).get_json()
    clock.advance(30)
    chat_like = client.post("/api/callbacks", json={"phone": OTHER, "reason": "my bill is wrong"}).get_json()
    clock.advance(30)
    late_caller = twilio.call(from_number="+12125550101")
    late_caller.press("1")
    late_caller.press("2")

    with runtime.sessions() as s:
        line = queue.line(s, "billing", clock.now())
        assert [(e.channel, e.kind, e.phone_number) for e in line] == [
            ("phone", "holding", "+12125550100"),
            ("api", "callback", NUMBER),
            ("api", "callback", OTHER),
            ("phone", "holding", "+12125550101"),
        ]
    assert web["position"] == 2
    assert chat_like["position"] == 3
    # The status link follows the line: when the first caller leaves, the web callback moves up.
    caller.hang_up()
    assert client.get(path_of(web["status_url"])).get_json()["position"] == 1


# ---- hostile input is stored as text and escaped wherever it is shown ----------------------------------------

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'


def test_hostile_name_and_reason_are_stored_verbatim_and_served_as_json(client, runtime):
    booked = client.post("/api/callbacks", json={"phone": NUMBER, "name": HOSTILE, "reason": HOSTILE,
                                                 "context": {"customer_reference": HOSTILE}})
    assert booked.status_code == 201
    assert booked.mimetype == "application/json"
    entry = get_entry(runtime, booked.get_json()["id"])
    assert entry.caller_name == HOSTILE and entry.reason == HOSTILE
    assert entry.context["customer_reference"] == HOSTILE


def test_demo_page_escapes_its_query(client):
    page = client.get('/demo?reference="><script>alert(1)</script>')
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "callback-button.js" in html


def test_openapi_description_is_served(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) >= {"/api/callbacks", "/api/callbacks/{public_id}", "/api/callback-form"}
    request_schema = spec["components"]["schemas"]["CallbackRequest"]
    assert request_schema["additionalProperties"] is False
    assert request_schema["properties"]["skill"]["enum"] == ["billing", "general", "sales", "support"]


def test_hostile_input_is_escaped_on_the_supervisor_pages(app, client, runtime, clock):
    from supervisor import auth
    from storage.db import transaction
    from tests.supervisor.conftest import PASSWORD, Signed

    booked = client.post("/api/callbacks", json={
        "phone": NUMBER, "name": HOSTILE, "reason": HOSTILE,
        "context": {"customer_reference": HOSTILE, "chat_transcript": HOSTILE,
                    "page_url": 'https://shop.example.com/?q="><script>alert(3)</script>'}}).get_json()
    with transaction(runtime.sessions) as db:
        auth.create_user(db, "sam", PASSWORD, role="supervisor", now=clock.now(), timezone="America/New_York")
    supervisor = Signed(app.test_client(), "sam")
    for page in (supervisor.get("/supervisor/"), supervisor.get(f"/supervisor/entries/{booked['id']}")):
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html


def test_status_link_tells_no_wait_after_closing_but_the_window(client, runtime, clock, busy_agent):
    from datetime import datetime, timezone

    busy_agent("billing")
    clock.set(datetime(2026, 11, 24, 22, 50, tzinfo=timezone.utc))  # 17:50 in New York, billing closes at 18:00
    booked = client.post("/api/callbacks", json={"phone": NUMBER, "skill": "billing", "language": "nl-NL",
                                                 "timezone": "Europe/Amsterdam"}).get_json()
    assert booked["estimated_wait_seconds"] == 255  # one busy agent: still today
    assert booked["window"]["text"] == "tussen 23:50 en 00:00 vandaag, dinsdag 24 november, tijdzone Amsterdam"
    clock.set(datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc))  # closed, still queued
    status = client.get(path_of(booked["status_url"])).get_json()
    assert status["state"] == "queued" and status["position"] == 1
    assert status["estimated_wait_seconds"] is None  # no minutes quoted all night
    # The window told stays what it was; its words now say the date (it is Wednesday in Amsterdam).
    assert {k: v for k, v in status["window"].items() if k != "text"} == \
        {k: v for k, v in booked["window"].items() if k != "text"}
    assert status["window"]["text"] == "tussen 23:50 en 00:00 op dinsdag 24 november, tijdzone Amsterdam"
