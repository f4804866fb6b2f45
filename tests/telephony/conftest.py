"""A tiny app of TwiML fixtures (not our IVR) for the emulator's own tests.

`docs[path]` is the TwiML a route answers (a string, or a function of the request's form); every
request is recorded with its form and checked with twilio's RequestValidator over the public URL.
`/media` is a flask-sock endpoint that records Twilio's stream messages and does what the test
tells it (`media_script`): close on a key, close after some voice, or move the call on by REST.
"""
from __future__ import annotations

import json
import threading

import pytest
from flask import Flask, Response, request
from flask_sock import Sock
from twilio.request_validator import RequestValidator

from telephony.emulator import Emulator
from telephony.transport import WsgiTransport

TOKEN = "emulator-test-token-0123456789abcdef"
BASE = "https://fixtures.example.com"


class Fixtures:
    def __init__(self):
        self.docs: dict[str, object] = {}
        self.requests: list[tuple[str, dict]] = []
        self.bad_signatures: list[str] = []
        self.streams: list[dict] = []  # one per WebSocket: {"url", "headers", "messages", "closed_by"}
        self.media_script = None  # called with (stream record, parsed message) -> "close" | None
        self.on_open = None
        self.lock = threading.Lock()

    def form_of(self, path: str, index: int = -1) -> dict:
        matching = [form for p, form in self.requests if p == path]
        return matching[index]

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]


def make_app(fx: Fixtures) -> Flask:
    app = Flask("twiml-fixtures")
    sock = Sock(app)

    @app.route("/<path:path>", methods=["GET", "POST"])
    def doc(path):
        url = BASE + request.full_path.rstrip("?") if request.query_string else BASE + request.path
        form = request.form.to_dict() if request.method == "POST" else {}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(TOKEN).validate(url, form, signature):
            fx.bad_signatures.append(url)
            return Response("bad signature", status=403)
        params = form if request.method == "POST" else request.args.to_dict()
        with fx.lock:
            fx.requests.append(("/" + path, params))
        answer = fx.docs.get("/" + path)
        if answer is None:
            return Response("", status=204)
        body = answer(params) if callable(answer) else answer
        return Response(body, mimetype="text/xml")

    @sock.route("/media")
    def media(ws):
        record = {"url": request.url, "signature": request.headers.get("X-Twilio-Signature"), "messages": [],
                  "closed_by": None}
        with fx.lock:
            fx.streams.append(record)
        try:
            while True:
                raw = ws.receive(timeout=10)
                if raw is None:
                    record["closed_by"] = "idle"
                    return
                message = json.loads(raw)
                record["messages"].append(message)
                if message.get("event") == "stop":
                    record["closed_by"] = "twilio"
                    return
                if fx.media_script is not None and fx.media_script(record, message) == "close":
                    record["closed_by"] = "app"
                    return
        finally:
            try:
                ws.close()
            except Exception:  # noqa: BLE001
                pass

    return app


@pytest.fixture
def fx():
    return Fixtures()


@pytest.fixture
def emulator(fx):
    em = Emulator(TOKEN, BASE, transport=WsgiTransport(make_app(fx), BASE), number="+15005550006",
                  voice_path="/incoming", status_path="/status")
    yield em
    em.close()
