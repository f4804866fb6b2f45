"""Logs: every log record is redacted as it is made (phone numbers keep their last four digits, tokens
are dropped, control characters escaped) and the database engine hides statement parameters. Each test
makes the app log through its own path (a rate limit, a failing booking, a refused SMS, a request)."""
from __future__ import annotations

import logging

import requests
from sqlalchemy import text

NUMBER = "+12125550142"


def everything_logged(caplog) -> str:
    return "\n".join(r.getMessage() + "\n" + (r.exc_text or "") for r in caplog.records)


def test_a_limit_breach_logs_no_phone_number(app, caplog):
    app.config.update(CALLBACK_LIMIT_PER_NUMBER="1/hour", CALLBACK_LIMIT_PER_IP="1000/minute")
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        assert client.post("/api/callbacks", json={"phone": NUMBER}).status_code == 201
        assert client.post("/api/callbacks", json={"phone": "+1 (212) 555-0142"}).status_code == 429
    logged = everything_logged(caplog)
    assert "ratelimit" in logged and "…0142" in logged
    assert "2125550142" not in logged and "212) 555-0142" not in logged


def _refuse_new_queue_entries(runtime) -> None:
    """The database itself refuses every new queue entry (a trigger): the app fails for real, mid-booking,
    with the caller's number among the statement's parameters."""
    with runtime.engine.begin() as conn:
        if runtime.engine.dialect.name == "sqlite":
            conn.execute(text("CREATE TRIGGER no_entries BEFORE INSERT ON queue_entries "
                              "BEGIN SELECT RAISE(ABORT, 'entries refused by the test'); END"))
        else:
            conn.execute(text("CREATE FUNCTION no_entries() RETURNS trigger AS $$ BEGIN "
                              "RAISE EXCEPTION 'entries refused by the test'; END $$ LANGUAGE plpgsql"))
            conn.execute(text("CREATE TRIGGER no_entries BEFORE INSERT ON queue_entries "
                              "FOR EACH ROW EXECUTE FUNCTION no_entries()"))


def test_the_apps_own_failure_log_holds_neither_parameters_nor_the_number(app, runtime, caplog):
    """Not a line the test writes: the app's booking fails in the database and the app logs it."""
    app.config.update(CALLBACK_LIMIT_PER_NUMBER="1000/hour", CALLBACK_LIMIT_PER_IP="1000/minute",
                      PROPAGATE_EXCEPTIONS=False)  # as in production: Flask answers 500 and logs it
    _refuse_new_queue_entries(runtime)
    with caplog.at_level(logging.INFO):
        response = app.test_client().post("/api/callbacks", json={"phone": NUMBER, "name": "Ann Smith"})
    assert response.status_code == 500
    failures = [r for r in caplog.records if r.exc_info or r.exc_text]
    assert failures, "the app logged its failure with the exception"
    logged = everything_logged(caplog)
    assert "entries refused by the test" in logged and "INSERT INTO queue_entries" in logged
    assert "parameters hidden" in logged
    assert "2125550142" not in logged and "Ann Smith" not in logged


def test_the_access_log_holds_no_status_link_token(live_app, caplog):
    token = "s3cr3t-status-token-value"
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        requests.get(f"{live_app}/api/callbacks/{'0' * 32}?token={token}", timeout=30)
    logged = everything_logged(caplog)
    assert "/api/callbacks/" in logged and "token=[hidden]" in logged
    assert token not in logged


def test_the_dispatchers_own_log_of_a_refused_text_has_no_number(settings, clock, twilio_rest, caplog):
    """Not a line the test writes: a callback is booked through the public API, Twilio refuses the
    confirmation SMS the dispatcher sends (an HTTP 400 from the Messages API), and the dispatcher logs it."""
    from dataclasses import replace

    from app import create_app
    from tests.conftest import AUTH_TOKEN

    app = create_app(replace(settings, twilio_messaging_number="+15005550007"), clock=clock,
                     twilio_client=twilio_rest.client(AUTH_TOKEN))
    try:
        response = app.test_client().post("/api/callbacks", json={"phone": "+31612345678", "skill": "billing"})
        assert response.status_code == 201, response.get_data(as_text=True)
        twilio_rest.fail_next("Messages.json", status=400)
        with caplog.at_level(logging.INFO):
            assert app.extensions["ivr"].extras["dispatcher"].confirm_bookings() == 1
        assert twilio_rest.messages == []  # refused: nothing was sent
        [refused] = [r for r in caplog.records if r.name == "ivr.dialing"]
        assert refused.getMessage().startswith("SMS to [number …5678] failed: HTTP 400 error")
        assert "612345678" not in everything_logged(caplog)
    finally:
        app.extensions["ivr"].engine.dispose()


def test_an_agents_api_token_holder_cannot_forge_log_lines(app, caplog, monkeypatch):
    """A `reason` or `actor` with a newline must not write a forged record: every record escapes control
    characters in its message and in its exceptions' messages: one record, one line."""
    monkeypatch.setenv("AGENTS_API_TOKEN", "agents-token")
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer agents-token"
    agent = client.post("/api/agents", json={"name": "Ann", "address": "+12125550199", "skills": ["billing"]})
    forged = "\n2026-12-05 09:00:00 INFO ivr: agent Ann: admin signed in\r"
    with caplog.at_level(logging.INFO):
        response = client.put(f"/api/agents/{agent.get_json()['id']}/state",
                              json={"state": "available", "reason": "lunch" + forged, "actor": "bot" + forged})
        assert response.status_code == 200
        try:
            raise ValueError("bad input" + forged)
        except ValueError:
            logging.getLogger("ivr.test").exception("while handling %s", "x\x1b[2J")
    lines = [r for r in caplog.records if "agent Ann: offline -> available" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0].getMessage() and "\r" not in lines[0].getMessage()
    assert "lunch\\n2026-12-05" in lines[0].getMessage()
    written = logging.Formatter().format(caplog.records[-1])
    assert "ValueError: bad input\\n2026-12-05" in written and "\x1b" not in written
    assert not [line for line in everything_logged(caplog).splitlines() if line.startswith("2026-12-05")]
