"""The /media WebSocket, driven over a real socket with Twilio's exact message shapes.

The app is served on a loopback port; the client plays Twilio's side of <Connect><Stream>.
Korean speech goes through the real Vosk model, English through PocketSphinx.
"""
from __future__ import annotations

import base64
import json
import os
import time
import uuid

import pytest
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from ivr.understanding import yes_no
from speech.audio import read_wav
from speech.twilio_media import pcm16_to_mulaw
from storage.db import transaction
from storage.models import Call, SpeechResult
from tests.speech.conftest import AUDIO, korean_model_path
from webhooks import media as media_module
from webhooks.security import stream_token

SILENCE = b"\xff" * 160  # mu-law digital silence, 20 ms


@pytest.fixture
def media_app(app, monkeypatch):
    monkeypatch.setenv("VOSK_MODEL_PATH_KO_KR", korean_model_path())
    assert "media" in app.blueprints  # registered by create_app, as in production
    return app


@pytest.fixture
def server(media_app):
    from tests.support.live_server import serve

    with serve(media_app) as base_url:
        yield base_url.replace("http://", "ws://")


def add_call(runtime, clock, *, language="ko-KR", step="confirm_skill", turn=3, status="in-progress"):
    sid = "CA" + uuid.uuid4().hex
    with transaction(runtime.sessions) as session:
        session.add(Call(call_sid=sid, language=language, step=step, turn=turn, retries=0, scratch={},
                         status=status, started_at=clock.now(), from_number="+12125550142",
                         to_number="+15005550006"))
    return sid


def token(app, sid, step="confirm_skill", turn=3):
    with app.test_request_context():
        return stream_token(sid, step, turn)


def results(runtime, sid=None):
    with transaction(runtime.sessions) as session:
        query = select(SpeechResult)
        if sid:
            query = query.where(SpeechResult.call_sid == sid)
        return session.scalars(query).all()


# --- Twilio's messages, exactly as documented -----------------------------------

def connected():
    return json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})


def start(sid, step="confirm_skill", turn=3, encoding="audio/x-mulaw", rate=8000, stream_sid="MZ" + "1" * 32):
    return json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid, "start": {
        "accountSid": "AC" + "0" * 32, "streamSid": stream_sid, "callSid": sid, "tracks": ["inbound"],
        "mediaFormat": {"encoding": encoding, "sampleRate": rate, "channels": 1},
        "customParameters": {"call_sid": sid, "step": step, "turn": str(turn)}}})


def media(payload, seq, stream_sid="MZ" + "1" * 32):
    return json.dumps({"event": "media", "sequenceNumber": str(seq + 1), "streamSid": stream_sid, "media": {
        "track": "inbound", "chunk": str(seq), "timestamp": str(seq * 20),
        "payload": base64.b64encode(payload).decode()}})


def dtmf(digit, seq):
    return json.dumps({"event": "dtmf", "streamSid": "MZ" + "1" * 32, "sequenceNumber": str(seq),
                       "dtmf": {"track": "inbound_track", "digit": digit}})


def stop(sid, seq):
    return json.dumps({"event": "stop", "sequenceNumber": str(seq), "streamSid": "MZ" + "1" * 32,
                       "stop": {"accountSid": "AC" + "0" * 32, "callSid": sid}})


def frames(path):
    mulaw = pcm16_to_mulaw(read_wav(path).pcm16)
    return [mulaw[i:i + 160] for i in range(0, len(mulaw), 160)]


def stream(ws, chunks, first_seq=1):
    """Send frames until the server hangs up; returns how many were sent."""
    sent = 0
    try:
        for sent, chunk in enumerate(chunks, start=1):
            ws.send(media(chunk, first_seq + sent))
    except ConnectionClosed:
        pass
    return sent


def wait_closed(ws, timeout=10):
    """Block until the server closes the socket (it never sends us anything)."""
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=timeout)


# --- end to end -------------------------------------------------------------------

def test_korean_yes_is_recognised_stored_and_the_socket_closed(server, media_app, runtime, clock):
    sid = add_call(runtime, clock)
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send(start(sid))
        audio = frames(os.path.join(AUDIO, "ko", "ko_ne.wav"))
        stream(ws, audio + [SILENCE] * 250)
        wait_closed(ws)  # closed by the server after the answer, without a stop from us
    [result] = results(runtime, sid)
    assert (result.step, result.turn, result.ended_by, result.engine) == ("confirm_skill", 3, "speech", "vosk")
    assert yes_no(result.transcript, "ko") is True and result.digit is None  # 네 (or its synonym 응)
    assert 0 < result.confidence <= 1


def test_dtmf_during_a_stream_ends_it_with_the_digit(server, media_app, runtime, clock):
    sid = add_call(runtime, clock)
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send(start(sid))
        stream(ws, frames(os.path.join(AUDIO, "ko", "ko_aniyo.wav"))[:30])
        ws.send(dtmf("2", 40))
        wait_closed(ws)
    [result] = results(runtime, sid)
    assert (result.ended_by, result.digit, result.transcript) == ("dtmf", "2", None)


def test_silence_ends_with_no_speech(server, media_app, runtime, clock):
    sid = add_call(runtime, clock)
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send(start(sid))
        stream(ws, [SILENCE] * 600)
        wait_closed(ws)
    [result] = results(runtime, sid)
    assert (result.ended_by, result.transcript, result.digit) == ("no_speech", None, None)


def test_hangup_mid_stream_stop_then_nothing(server, media_app, runtime, clock):
    sid = add_call(runtime, clock, language="en-US")
    engine = media_module.engine_for("en-US")
    idle_before = engine.idle_decoders()
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send(start(sid))
        stream(ws, frames(os.path.join(AUDIO, "en", "tts_en_yes.wav"))[:20])
        ws.send(stop(sid, 30))
        wait_closed(ws)
    [result] = results(runtime, sid)
    assert result.ended_by == "hangup"
    assert engine.idle_decoders() == max(idle_before, 1)  # the decoder went back to the pool


def test_socket_dropped_without_stop_frees_the_recognizer(server, media_app, runtime, clock):
    import threading

    sid = add_call(runtime, clock, language="en-US")
    engine = media_module.engine_for("en-US")
    idle_before = engine.idle_decoders()
    threads_before = threading.active_count()
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send(start(sid))
        stream(ws, [SILENCE] * 10)
    for _ in range(100):  # the server notices on its next receive
        if results(runtime, sid) and threading.active_count() <= threads_before:
            break
        time.sleep(0.05)
    [result] = results(runtime, sid)
    assert result.ended_by == "hangup"
    assert engine.idle_decoders() == max(idle_before, 1)
    assert threading.active_count() <= threads_before  # the connection's threads are gone


def test_malformed_frames_are_dropped_and_the_stream_goes_on(server, media_app, runtime, clock):
    sid = add_call(runtime, clock)
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send("not json")
        ws.send(b"\x00\x01binary")
        ws.send(json.dumps({"event": "media", "media": {"payload": "%%%"}}))
        ws.send(start(sid))
        ws.send(json.dumps({"event": "dtmf", "dtmf": {"digit": "x"}}))
        ws.send(dtmf("7", 9))
        wait_closed(ws)
    [result] = results(runtime, sid)
    assert result.digit == "7"


def test_a_peer_sending_only_garbage_is_hung_up_with_nothing_stored(server, media_app, runtime, clock):
    sid = add_call(runtime, clock)
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        try:
            for _ in range(media_module.MAX_BAD_FRAMES + 5):
                ws.send("{")
        except ConnectionClosed:
            pass
        wait_closed(ws)
    assert results(runtime, sid) == []


@pytest.mark.parametrize("encoding, rate", [("audio/l16", 8000), ("audio/x-mulaw", 16000)])
def test_wrong_encoding_is_refused_with_nothing_stored(server, media_app, runtime, clock, encoding, rate):
    sid = add_call(runtime, clock)
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send(start(sid, encoding=encoding, rate=rate))
        stream(ws, [SILENCE] * 10)
        wait_closed(ws)
    assert results(runtime, sid) == []


def test_start_for_another_call_than_the_token_is_refused(server, media_app, runtime, clock):
    sid, other = add_call(runtime, clock), add_call(runtime, clock)
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send(start(other))
        stream(ws, [SILENCE] * 10)
        wait_closed(ws)
    assert results(runtime) == []


def refused(url, headers=None):
    with pytest.raises(InvalidStatus) as info:
        connect(url, additional_headers=headers or {})
    return info.value.response.status_code


def test_missing_forged_or_expired_tokens_are_refused_before_upgrade(server, media_app, runtime, clock,
                                                                     monkeypatch):
    sid = add_call(runtime, clock)
    good = token(media_app, sid)
    assert refused(f"{server}/media") == 403
    assert refused(f"{server}/media?token=") == 403
    assert refused(f"{server}/media?token={good[:-2]}xx") == 403
    with media_app.test_request_context():
        media_app.config["SECRET_KEY"], real = "another-key", media_app.config["SECRET_KEY"]
        forged = stream_token(sid, "confirm_skill", 3)
        media_app.config["SECRET_KEY"] = real
    assert refused(f"{server}/media?token={forged}") == 403
    real_reader = media_module.read_stream_token
    monkeypatch.setattr(media_module, "read_stream_token", lambda t: real_reader(t, max_age=-1))
    assert refused(f"{server}/media?token={good}") == 403
    assert results(runtime) == []


def test_streams_for_unknown_calls_or_other_turns_are_refused(server, media_app, runtime, clock):
    ghost = "CA" + uuid.uuid4().hex
    assert refused(f"{server}/media?token={token(media_app, ghost)}") == 403
    sid = add_call(runtime, clock, turn=4)
    assert refused(f"{server}/media?token={token(media_app, sid, turn=3)}") == 403
    assert refused(f"{server}/media?token={token(media_app, sid, step='menu', turn=4)}") == 403
    ended = add_call(runtime, clock, status="completed")
    assert refused(f"{server}/media?token={token(media_app, ended)}") == 403
    with transaction(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(SpeechResult)) == 0
        assert session.get(Call, ghost) is None


def test_twilio_signature_on_the_upgrade_is_checked_when_sent(server, media_app, runtime, clock):
    from twilio.request_validator import RequestValidator

    from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL

    sid = add_call(runtime, clock)
    tok = token(media_app, sid)
    public = PUBLIC_BASE_URL.replace("https://", "wss://") + f"/media?token={tok}"
    good = RequestValidator(AUTH_TOKEN).compute_signature(public, {})
    assert refused(f"{server}/media?token={tok}", {"X-Twilio-Signature": "bm90IGl0"}) == 403
    with connect(f"{server}/media?token={tok}", additional_headers={"X-Twilio-Signature": good}) as ws:
        ws.send(connected())
        ws.send(start(sid))
        ws.send(dtmf("1", 3))
        wait_closed(ws)
    assert [r.digit for r in results(runtime, sid)] == ["1"]


def test_a_second_stream_for_the_same_turn_does_not_overwrite(server, media_app, runtime, clock):
    sid = add_call(runtime, clock)
    for digit in ("1", "2"):
        with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
            ws.send(connected())
            ws.send(start(sid))
            ws.send(dtmf(digit, 3))
            wait_closed(ws)
    assert [r.digit for r in results(runtime, sid)] == ["1"]


def test_a_call_deleted_during_the_stream_gets_nothing_written(server, media_app, runtime, clock):
    sid = add_call(runtime, clock)
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send(start(sid))
        with transaction(runtime.sessions) as session:
            session.delete(session.get(Call, sid))
        ws.send(dtmf("1", 3))
        wait_closed(ws)
    assert results(runtime) == []


def test_a_recognizer_that_cannot_be_built_still_takes_keys(server, media_app, runtime, clock, monkeypatch):
    def broken(*args):
        raise RuntimeError("model folder vanished")

    monkeypatch.setattr(media_module, "_recognizer", broken)
    sid = add_call(runtime, clock)
    with connect(f"{server}/media?token={token(media_app, sid)}") as ws:
        ws.send(connected())
        ws.send(start(sid))
        stream(ws, [SILENCE] * 5)
        ws.send(dtmf("2", 9))
        wait_closed(ws)
    assert [r.digit for r in results(runtime, sid)] == ["2"]
