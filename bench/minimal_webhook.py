"""The yardstick of bench/webhook_speed.py: the least a persisted Twilio webhook does. It checks the
signature with twilio's RequestValidator, does one SQLite INSERT in WAL mode, commits, and returns
TwiML. Served by gunicorn exactly as the app is: `gunicorn "bench.minimal_webhook:create_app()"`.
MINIMAL_DB names the SQLite file, TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL as for the app.
`create_bare_app()` is the ceiling: bare Flask answering the same route, no check, no database."""
import os
import sqlite3
import threading

from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello.</Say></Response>'


def create_app() -> Flask:
    app = Flask(__name__)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    base = os.environ["PUBLIC_BASE_URL"].rstrip("/")
    path = os.environ["MINIMAL_DB"]
    local = threading.local()

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "db"):
            local.db = sqlite3.connect(path, timeout=30)
            local.db.execute("PRAGMA journal_mode=WAL")
            local.db.execute("CREATE TABLE IF NOT EXISTS calls (sid TEXT PRIMARY KEY, caller TEXT, called TEXT)")
        return local.db

    @app.post("/voice/incoming")
    def incoming():
        if not validator.validate(base + request.path, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        db = connection()
        db.execute("INSERT INTO calls VALUES (?, ?, ?)",
                   (request.form["CallSid"], request.form.get("From"), request.form.get("To")))
        db.commit()
        return Response(TWIML, content_type="text/xml")

    return app


def create_bare_app() -> Flask:
    app = Flask(__name__)

    @app.post("/voice/incoming")
    def incoming():
        return Response(TWIML, content_type="text/xml")

    return app
