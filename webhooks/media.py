"""Twilio Media Streams endpoint (/media): hear one answer, store it, hang up the stream.

Thin on purpose: the wire format is speech/twilio_media.py, recognition and
end-of-speech are speech/session.py, meaning is decided later by the IVR at the
<Connect action> URL, which reads the SpeechResult written here.

Refused before the WebSocket upgrade (HTTP 403, nothing stored): a missing,
forged or expired stream token, a bad X-Twilio-Signature when one is sent, and
a call that does not exist or is no longer at the token's step and turn.
"""
from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, abort, current_app, g, request
from flask_sock import Sock
from sqlalchemy.exc import IntegrityError
from twilio.request_validator import RequestValidator

from speech.engines import engine_for
from speech.grammar import phrases_for_step
from speech.session import SessionLimits, SpeechSession
from speech.twilio_media import MULAW_RATE, Connected, MediaFormatError, Start, parse_event
from storage.db import transaction
from storage.models import Call, SpeechResult
from webhooks.runtime import runtime
from webhooks.security import public_url, read_stream_token

log = logging.getLogger(__name__)

media = Blueprint("media", __name__)
sock = Sock()

RECEIVE_POLL_SECONDS = 0.25  # how often a silent socket checks the stall timer
MAX_BAD_FRAMES = 20  # a peer that keeps sending garbage is not Twilio
START_TIMEOUT_SECONDS = 5.0  # Twilio sends start right after connected


def _signature_ok(auth_token: str, signature: str) -> bool:
    # Twilio signs the URL it opened, wss://...; accept the https form too (proxies).
    url = public_url()
    parts = urlsplit(url)
    candidates = {url, urlunsplit(("wss",) + tuple(parts[1:])), urlunsplit(("https",) + tuple(parts[1:]))}
    validator = RequestValidator(auth_token)
    return any(validator.validate(u, {}, signature) for u in candidates)


@media.before_request
def check_stream():
    """Everything that can be checked before upgrading the connection."""
    claims = read_stream_token(request.args.get("token", ""))
    if not claims:
        abort(403, description="The media stream token is missing, forged or expired.")
    signature = request.headers.get("X-Twilio-Signature")
    auth_token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if signature is not None and auth_token and not _signature_ok(auth_token, signature):
        abort(403, description="X-Twilio-Signature does not match this URL.")
    rt = runtime()
    with transaction(rt.sessions) as session:
        call = session.get(Call, claims.get("call_sid"))
        if call is None or call.step != claims.get("step") or call.turn != claims.get("turn") \
                or call.status != "in-progress":
            abort(403, description="This stream is not for a call waiting at that step.")
        language = call.language
    g.stream_claims = claims
    g.stream_language = language


def _recognizer(language: str, step: str, sample_rate: int):
    """A recognizer for the step's grammar, or None (no engine: keys only)."""
    engine = engine_for(language, default_language=runtime().ivr_config.default_language)
    if engine is None:
        return None
    from ivr.decision import context_from_config

    context = context_from_config(runtime().ivr_config, None, language) \
        if language in runtime().ivr_config.languages else None
    phrases = phrases_for_step(step, language, context.phrases_by_skill if context else None)
    return engine.recognizer(sample_rate, phrases)


def _store(claims: dict, outcome) -> None:
    rt = runtime()
    try:
        # One INSERT: the foreign key refuses a call that went away meanwhile, the
        # unique key a second result for the same turn (both end up below).
        with transaction(rt.sessions) as session:
            session.add(SpeechResult(
                call_sid=claims["call_sid"], step=claims["step"], turn=claims["turn"],
                transcript=outcome.transcript or None, confidence=outcome.confidence if outcome.transcript else None,
                digit=outcome.digit, engine=outcome.engine, ended_by=outcome.reason, created_at=rt.clock.now()))
    except IntegrityError:
        log.info("speech result for %s %s turn %s not stored: already there, or the call is gone",
                 claims["call_sid"], claims["step"], claims["turn"])


@sock.route("/media", bp=media)
def media_stream(ws):
    claims, language = g.stream_claims, g.stream_language
    session: SpeechSession | None = None
    bad_frames = 0
    waited = 0.0
    try:
        while session is None or not session.done:
            message = ws.receive(timeout=RECEIVE_POLL_SECONDS)
            if message is None:
                if session is None:
                    waited += RECEIVE_POLL_SECONDS
                    if waited >= START_TIMEOUT_SECONDS:
                        return
                else:
                    session.tick()
                continue
            try:
                event = parse_event(message)
            except MediaFormatError as exc:
                bad_frames += 1
                log.warning("media stream for %s: dropped a bad frame (%s)", claims["call_sid"], exc)
                if bad_frames >= MAX_BAD_FRAMES:
                    return
                continue
            if isinstance(event, Connected):
                continue
            if isinstance(event, Start):
                if session is not None:
                    continue
                if event.call_sid != claims["call_sid"] or event.custom_parameters.get("step", claims["step"]) \
                        != claims["step"]:
                    log.warning("media stream: start names call %s, token names %s", event.call_sid,
                                claims["call_sid"])
                    return
                if event.encoding != "audio/x-mulaw" or event.sample_rate != MULAW_RATE or event.channels != 1:
                    log.warning("media stream for %s: unsupported audio %s %s Hz x%s", claims["call_sid"],
                                event.encoding, event.sample_rate, event.channels)
                    return
                try:
                    recognizer = _recognizer(language, claims["step"], event.sample_rate)
                except Exception:  # a broken model or grammar must not cost the caller the call
                    log.exception("media stream for %s: no recognizer; listening for keys only", claims["call_sid"])
                    recognizer = None
                session = SpeechSession(recognizer, SessionLimits())
                continue
            if session is not None:
                session.handle(event)
    finally:
        if session is not None:
            session.close()  # frees the recognizer whatever happened
            if session.outcome is not None:
                _store(claims, session.outcome)
        _hang_up(ws)
    # Twilio sees the stream end and requests the <Connect action> URL.


def _hang_up(ws) -> None:
    """Close the WebSocket and its TCP connection.

    simple_websocket sends the close frame but, when media frames were still
    arriving, keeps reading and never closes the TCP connection, so the peer
    waits in the closing state (RFC 6455: the server closes TCP first). Give the
    peer a moment to answer the close, then shut the socket down ourselves."""
    try:
        ws.close()
    except Exception:  # already closed by the peer
        pass
    thread = getattr(ws, "thread", None)
    if thread is not None:
        thread.join(0.5)
        if not thread.is_alive():
            return
    try:
        ws.sock.shutdown(socket.SHUT_RDWR)
    except (OSError, AttributeError):
        pass


def init_media(app) -> None:
    """Register the /media WebSocket route on the app."""
    sock.init_app(app)
    app.register_blueprint(media)
