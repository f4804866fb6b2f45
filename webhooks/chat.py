"""Chat bots hand a conversation over to a callback: POST /webhooks/chat/callback. They may also pass on
one text from a customer (CALL ME, the cancel or status keyword): POST /webhooks/chat/message with
{"phone", "text"} is answered {"reply": ...}, as an SMS would be (the chat adapter of callbacks/text_channel.py).

Each integration has its own shared secret (CHAT_SECRETS="botname:secret,other:secret2", from the
environment only). A request carries four headers:
    X-Chat-Integration: botname
    X-Chat-Timestamp:   unix seconds when it was sent
    X-Chat-Nonce:       8-64 random characters [A-Za-z0-9_-], never reused
    X-Chat-Signature:   sha256=<hex HMAC-SHA256(secret, "<timestamp>.<nonce>." + raw body)>
A timestamp more than 5 minutes from our clock, or a nonce seen before, is refused as a replay.
Nonces are remembered in the rate limiter's storage (RATELIMIT_STORAGE_URI: the app's database by default),
so every process sharing it sees each other's nonces; with memory://, only within one process.
"""
from __future__ import annotations

import hmac
import os
import re

from flask import Blueprint, jsonify, request

from callbacks import requests as callback_requests
from callbacks import text_channel, texts
from callbacks.chat_signature import signature  # noqa: F401 - the chat channel's signature, verified here
from callbacks.schemas import MAX_TRANSCRIPT, chat_message_schema, chat_request_schema, validate
from refusals import RequestRefused
from storage.db import transaction
from webhooks.api import callback_view, read_json, too_large
from webhooks.security import public_base
from web.limits import TOO_MANY_FOR_NUMBER, limiter, number_in_json, per_number, when_accepted
from web.errors import answers_json
from web.runtime import runtime

chat = answers_json(Blueprint("chat_webhooks", __name__, url_prefix="/webhooks/chat"))

REPLAY_WINDOW_SECONDS = 300
NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


def parse_secrets(raw: str) -> dict[str, str]:
    secrets: dict[str, str] = {}
    for item in (raw or "").split(","):
        name, sep, secret = item.strip().partition(":")
        if sep and name.strip() and secret.strip():
            secrets[name.strip()] = secret.strip()
    return secrets


def init_chat(app) -> None:
    app.config.setdefault("CHAT_SECRETS", parse_secrets(os.environ.get("CHAT_SECRETS", "")))


chat.register_error_handler(413, too_large)


def verify() -> str:
    """The integration's name if the request is signed by it, fresh and not seen before; else 401."""
    from flask import current_app

    secrets = current_app.config.get("CHAT_SECRETS") or {}
    if not secrets:
        raise RequestRefused("chat webhooks are disabled: set CHAT_SECRETS", code="disabled", status=503)
    name = request.headers.get("X-Chat-Integration", "")
    timestamp = request.headers.get("X-Chat-Timestamp", "")
    nonce = request.headers.get("X-Chat-Nonce", "")
    given = request.headers.get("X-Chat-Signature", "")
    secret = secrets.get(name)
    if secret is None:
        raise RequestRefused("unknown X-Chat-Integration", code="unknown_integration", status=401)
    if not TIMESTAMP.match(timestamp) or not NONCE.match(nonce):
        raise RequestRefused("X-Chat-Timestamp (unix seconds) and X-Chat-Nonce (8-64 of A-Z a-z 0-9 _ -) are required",
                             code="signature_headers", status=401)
    expected = signature(secret, timestamp, nonce, request.get_data(cache=True))
    if not given.isascii() or not hmac.compare_digest(expected, given):
        raise RequestRefused("X-Chat-Signature does not match the body", code="bad_signature", status=401)
    now = runtime().clock.now().timestamp()
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise RequestRefused("X-Chat-Timestamp is more than 5 minutes off; send a fresh request",
                             code="stale", status=401)
    # Signature checked first, so nobody can burn another integration's nonces.
    seen = limiter.storage.incr(f"chat-nonce:{name}:{nonce}", 2 * REPLAY_WINDOW_SECONDS)
    if seen > 1:
        raise RequestRefused("this message was already received (nonce reused)", code="replay", status=401)
    return name


def transcript_text(transcript) -> str | None:
    if transcript is None:
        return None
    if not isinstance(transcript, str):
        transcript = "\n".join(f"{m.get('from') or 'customer'}: {m['text']}" for m in transcript)
    # A long chat keeps its end: what was said last is what the agent needs.
    if len(transcript) > MAX_TRANSCRIPT:
        transcript = "…" + transcript[-(MAX_TRANSCRIPT - 1):]
    return transcript


# No per-IP limit: one bot server speaks for all its customers. Counted per customer number instead.
per_customer = limiter.limit(per_number, key_func=number_in_json, error_message=TOO_MANY_FOR_NUMBER,
                             deduct_when=when_accepted)


@chat.post("/callback")
@per_customer
def chat_callback():
    integration = verify()
    rt = runtime()
    body = read_json()
    validate(body, chat_request_schema(rt.ivr_config.skills, rt.ivr_config.languages))
    context = {"chat_transcript": transcript_text(body.get("transcript")),
               "customer_reference": body.get("customer_reference")}
    request_body = {k: body[k] for k in ("phone", "name", "skill", "reason", "preferred_time", "timezone", "language")
                    if body.get(k) is not None}
    request_body["context"] = {k: v for k, v in context.items() if v}
    with transaction(rt.sessions) as session:
        now = rt.clock.now()
        outcome = callback_requests.request_callback(
            session, rt.ivr_config, request_body, now=now, allowed_countries=rt.settings.allowed_countries,
            caller=callback_requests.Caller(channel="chat", integration=integration))
        view = callback_view(outcome.entry, position=outcome.position, wait=outcome.estimated_wait_seconds,
                             token=outcome.status_token, created=outcome.created,
                             window=callback_requests.window_view(rt.ivr_config, outcome.entry, now))
        view["message"] = text_channel.booked(rt.ivr_config, outcome, now, view.get("waiting_url"))
    response = jsonify(view)
    response.status_code = 201 if outcome.created else 200
    return response


@chat.post("/message")
@per_customer
def chat_message():
    integration = verify()
    rt = runtime()
    body = validate(read_json(), chat_message_schema())
    text = text_channel.TextIn(channel="chat", sender=body["phone"], body=body["text"], integration=integration)
    try:
        with transaction(rt.sessions) as session:
            reply = text_channel.answer(session, rt.ivr_config, text, now=rt.clock.now(),
                                        allowed_countries=rt.settings.allowed_countries, base=public_base())
    except RequestRefused as refused:  # nothing of a refused request is kept; the texter is told why
        reply = texts.refusal(rt.ivr_config, text_channel.language_of(rt.ivr_config, text.body), refused)
    return jsonify({"reply": reply})
