"""Twilio Media Streams endpoint (/media): listen to one question's answer and move the call on.

Each question forks the caller's audio here with `<Start><Stream>` while its `<Gather>` plays the
prompt (see ivr/flow.py). This handler is thin on purpose: the wire format is
speech/twilio_media.py, recognition and end-of-speech are speech/session.py, and moving the live
call on is ivr/barge_in.py. When the caller starts to speak, the call is moved to the step's
`listen` URL (the prompt stops); when the answer is recognised it is stored as a SpeechResult and
the call is moved to the step's action URL, where the IVR decides, exactly as for keys.

Bounds (a stream is a cost we carry for a caller): messages over MAX_MESSAGE_CHARS close the
socket; a socket that has not sent a valid `start` (a token for its call, not used before) within
START_TIMEOUT_SECONDS of connecting is closed, whatever else it sent, and holds no stream slot
meanwhile (at most MAX_WAITING such sockets without a valid X-Twilio-Signature, which Twilio sends;
signed ones are not crowded out by them); a stream lasts at most MAX_STREAM_SECONDS on the app's clock;
a token opens one stream, ever, on any process (kept in the rate limiter's shared storage); a process holds at most MAX_STREAMS authenticated streams (more get
HTTP 503 before the upgrade: that call still takes keys).
The token travels in the `start` message's customParameters, never in a URL, so no access log holds it.
"""
from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, abort, current_app, g, request
from twilio.request_validator import RequestValidator

from ivr import spoken
from ivr.barge_in import CallMover
from ivr.steps import listen_kind
from speech.cascade import Cascade, answer_deadline
from speech.engines import engine_for, second_pass_for
from speech.grammar import grammar_for_config
from speech.session import SessionLimits, SpeechSession
from speech.twilio_media import MAX_MESSAGE_CHARS, MULAW_RATE, Connected, MediaFormatError, Start, parse_event
from storage.db import transaction
from storage.models import Call
from understanding.answers import completeness
from web.limits import limiter
from web import websocket
from web.runtime import runtime
from webhooks.security import STREAM_TOKEN_MAX_AGE, public_base, public_url, read_stream_token
from webhooks.voice import TwilioLinks

log = logging.getLogger(__name__)

media = Blueprint("media", __name__)

RECEIVE_POLL_SECONDS = 0.25  # how often a quiet socket checks its timers
MAX_BAD_FRAMES = 20  # a peer that keeps sending garbage is not Twilio
START_TIMEOUT_SECONDS = 5.0  # from connect to a valid start, whatever arrives: Twilio sends start at once
MAX_STREAM_SECONDS = 120.0  # the app's clock: one question's prompt and answer fit well inside
TURN_CHECK_SECONDS = 1.0  # how often a stream checks the call is still at its question
MAX_STREAMS = 64  # per process; see docs/benchmarks.md for what one stream costs
MAX_WAITING = 64  # sockets not yet authenticated, per process: each is gone within START_TIMEOUT_SECONDS

# Forked streams listen through the prompt: only the Gather's timeout decides "nothing said".
# Frames come every 20 ms; a second without any means the line (or the peer) stopped sending.
FORKED = SessionLimits(no_speech_timeout=None, stall_timeout=1.0)


class _Streams:
    """This process's sockets: those still to show a valid start (`waiting`, at most MAX_WAITING, each
    for START_TIMEOUT_SECONDS), the authenticated streams (`count`, at most `limit`), and the tokens
    already used (each opens one stream, ever: kept in the rate limiter's storage, shared by every process
    on the database, until it has expired anyway)."""

    def __init__(self, limit: int, waiting_limit: int):
        self.limit, self.waiting_limit = limit, waiting_limit
        self._lock = threading.Lock()
        self.count = 0
        self.waiting = 0

    def full(self, signed: bool) -> bool:
        return self.count >= self.limit or (not signed and self.waiting >= self.waiting_limit)

    def wait(self, signed: bool) -> bool:
        """Count a socket waiting for its start; unsigned ones only while fewer than waiting_limit wait."""
        return self._take("waiting", math.inf if signed else self.waiting_limit)

    def done_waiting(self) -> None:
        self._give_back("waiting")

    def reserve(self) -> bool:
        return self._take("count", self.limit)

    def release(self) -> None:
        self._give_back("count")

    def _take(self, counter: str, ceiling: float) -> bool:
        """One more on `counter` (count or waiting) if it is still below `ceiling`: checked and counted under
        the lock, so two sockets cannot both take the last place."""
        with self._lock:
            if getattr(self, counter) >= ceiling:
                return False
            setattr(self, counter, getattr(self, counter) + 1)
            return True

    def _give_back(self, counter: str) -> None:
        with self._lock:
            setattr(self, counter, getattr(self, counter) - 1)

    def use_token(self, token: str) -> bool:
        """True the first time `token` is used, on any process; False ever after (until it could not be read
        anyway). One atomic increment in the limiter's storage, so two processes cannot both take it."""
        digest = hashlib.sha256(token.encode()).hexdigest()
        return limiter.storage.incr(f"media-token:{digest}", STREAM_TOKEN_MAX_AGE + 1) == 1


streams = _Streams(MAX_STREAMS, MAX_WAITING)


def _signature_ok(auth_token: str, signature: str) -> bool:
    # Twilio signs the URL it opened, wss://... (ws://... where the app's base is http, as in
    # development); accept the https form too (proxies).
    url = public_url()
    parts = urlsplit(url)
    candidates = {url, urlunsplit(("wss",) + tuple(parts[1:])), urlunsplit(("https",) + tuple(parts[1:]))}
    if parts.scheme == "http":
        candidates.add(urlunsplit(("ws",) + tuple(parts[1:])))
    validator = RequestValidator(auth_token)
    return any(validator.validate(u, {}, signature) for u in candidates)


@media.before_request
def check_stream():
    """Everything that can be checked before upgrading the connection."""
    signature = request.headers.get("X-Twilio-Signature")
    auth_token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if signature is not None and auth_token and not _signature_ok(auth_token, signature):
        abort(403, description="X-Twilio-Signature does not match this URL.")
    # Twilio signs its upgrades: sockets without a signature cannot crowd out the ones with one.
    g.media_signed = signature is not None and bool(auth_token)
    if streams.full(g.media_signed):
        # The caller still hears the prompt and can answer with keys: nothing is lost but speech.
        abort(503, description="This server is listening to as many calls as it can; keys still work.")


def _waiting_call(claims: dict) -> str | None:
    """The caller's language when the call is still at the token's question, else None."""
    rt = runtime()
    with transaction(rt.sessions) as session:
        call = session.get(Call, claims.get("call_sid"))
        if call is None or call.step != claims.get("step") or call.turn != claims.get("turn") \
                or call.status != "in-progress":
            return None
        return call.language


def _recognizer(language: str, step: str, sample_rate: int):
    """A recognizer for the kind of answer the step takes, or None (no engine: keys only)."""
    config = runtime().ivr_config
    engine = engine_for(language, default_language=config.default_language)
    kind = listen_kind(step)
    if engine is None or kind is None:
        return None
    return engine.recognizer(sample_rate, grammar_for_config(kind, language, config))


def _second_pass(outcome, utterance: bytes, language: str, step: str, voice_ended: float):
    """The answer with the cascade's words and calibrated confidence (speech/cascade.py): Whisper hears
    the held answer too where that was measured to help, if it can by answer_deadline() after the caller's
    last voice (`voice_ended`, time.monotonic()); else the first pass stands, doubtful."""
    rt = runtime()
    cascade = Cascade(second_pass_for(language), rt.understanding, rt.ivr_config)
    try:
        return cascade.decide(outcome, utterance, listen_kind(step), language,
                              deadline=voice_ended + answer_deadline())
    except Exception:  # never lose the caller's answer to the second pass
        log.exception("second pass failed: the first pass stands")
        return outcome


def _store(claims: dict, outcome) -> bool:
    """Store the answer once per call, step and turn (in place of the caller's speaking mark). False
    when it was not stored."""
    rt = runtime()
    if spoken.store(rt.sessions, claims["call_sid"], claims["step"], claims["turn"], outcome, rt.clock.now()):
        return True
    log.info("speech result for a %s answer not stored: decided already, or the call is gone", claims["step"])
    return False


@websocket.route(media, "/media")
def media_stream(ws: websocket.WebSocket):
    _listen(ws)  # the socket is closed when this returns, also on an error


def _listen(ws) -> None:
    started = time.monotonic()
    authenticated = _authenticated_start(ws, started)
    if authenticated is None:
        return
    start, claims = authenticated
    began = runtime().clock.now()  # the stream's age counts from its accepted start (MAX_STREAM_SECONDS)
    if not streams.reserve():
        log.warning("media stream refused: this process listens to as many streams as it can")
        return
    try:
        _answer(ws, start, claims, began)
    finally:
        streams.release()


def _authenticated_start(ws, started: float) -> tuple[Start, dict] | None:
    """A start message with a valid, unused token for its call and audio we read, within
    START_TIMEOUT_SECONDS of connecting, and its token's claims; else None. Such sockets hold no
    stream slot meanwhile."""
    if not streams.wait(g.get("media_signed", False)):
        return None
    try:
        start = _await_start(ws, started + START_TIMEOUT_SECONDS)
    finally:
        streams.done_waiting()
    if start is None:
        return None
    token = start.custom_parameters.get("token", "")
    claims = read_stream_token(token)
    if not claims or start.call_sid != claims.get("call_sid"):
        log.warning("media stream refused: its token is missing, forged, expired or for another call")
        return None
    if start.encoding != "audio/x-mulaw" or start.sample_rate != MULAW_RATE or start.channels != 1:
        log.warning("media stream refused: unsupported audio %s %s Hz x%s", start.encoding, start.sample_rate,
                    start.channels)
        return None
    if not streams.use_token(token):
        log.warning("media stream refused: its token has already opened a stream")
        return None
    return start, claims


def _answer(ws, start: Start, claims: dict, began) -> None:
    language = _waiting_call(claims)
    if language is None:
        return  # the call has moved on, or is gone
    mover = CallMover(runtime().twilio, TwilioLinks(public_base()))
    try:
        recognizer = _recognizer(language, claims["step"], start.sample_rate)
    except Exception:  # a broken model or grammar must not cost the caller the call: keys still work
        log.exception("media stream: no recognizer for a %s answer; keys only", claims["step"])
        return
    if recognizer is None:
        return
    rt = runtime()

    def marked() -> bool:  # on the mover's thread, before its move to `listen` (ivr/spoken.py)
        return spoken.mark_speaking(rt.sessions, claims["call_sid"], claims["step"], claims["turn"],
                                    rt.clock.now())

    session = SpeechSession(recognizer, FORKED,
                            on_speaking=lambda: mover.caller_speaking(claims["call_sid"], claims["step"],
                                                                      claims["turn"], first=marked),
                            keep_audio=True, complete=completeness(listen_kind(claims["step"]), language))
    try:
        _run(ws, session, claims, began)
    finally:
        session.close()  # frees the recognizer whatever happened
    outcome = session.outcome
    if outcome is None or outcome.reason in ("hangup", "moved_on"):
        return  # the call ended, or its question was answered some other way
    if outcome.reason == "stalled" and not session.utterance and not mover.moved_to_listen:
        return  # frames stopped before anything was said: the Gather's timeout takes over
    outcome = _second_pass(outcome, session.utterance, language, claims["step"],
                           time.monotonic() - session.counted_pause)
    if _store(claims, outcome):
        mover.answered(claims["call_sid"], claims["step"], claims["turn"])


def _await_start(ws, deadline: float) -> Start | None:
    """The start message, if it comes before `deadline` (time.monotonic()) after nothing but `connected`."""
    bad = 0
    while ws.connected:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        message = ws.receive(timeout=min(RECEIVE_POLL_SECONDS, left))
        if message is None:
            continue
        try:
            event = parse_event(message)
        except MediaFormatError:
            bad += 1
            if bad >= MAX_BAD_FRAMES:
                return None
            continue
        if isinstance(event, Start):
            return event
        if not isinstance(event, Connected):
            return None
    return None


def _run(ws, session: SpeechSession, claims: dict, began) -> None:
    bad_frames = 0
    clock = runtime().clock  # the stream's age on the app's clock (the injected one in tests), from `began`
    checked = time.monotonic()
    while not session.done:
        now = time.monotonic()
        if (clock.now() - began).total_seconds() >= MAX_STREAM_SECONDS:
            session.end("max_stream_time")
            return
        if now - checked >= TURN_CHECK_SECONDS:
            checked = now
            if _waiting_call(claims) is None:
                session.end("moved_on")  # answered with keys, timed out, or hung up
                return
        # Every message that has arrived since the last look (one wake-up, however many frames).
        messages = ws.receive_all(timeout=RECEIVE_POLL_SECONDS)
        if not messages:
            if not ws.connected:
                session.end("hangup")  # the peer went away, or sent more than a Twilio frame
                return
            session.tick()
            continue
        for message in messages:
            try:
                event = parse_event(message)
            except MediaFormatError as exc:
                bad_frames += 1
                log.warning("media stream: dropped a bad frame (%s)", exc)
                if bad_frames >= MAX_BAD_FRAMES:
                    return
                continue
            session.handle(event)
            if session.done:
                return


def init_media(app) -> None:
    """Register the /media WebSocket route on the app."""
    # A message larger than any Twilio frame closes the socket before it is buffered whole.
    app.config.setdefault("WEBSOCKET_MAX_MESSAGE", MAX_MESSAGE_CHARS)
    app.register_blueprint(media)
