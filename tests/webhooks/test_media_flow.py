"""A whole call with speech: the IVR asks, Twilio streams the caller's voice to /media, our
server hangs up the stream, Twilio requests the <Connect action> and the IVR goes on.

Twilio's webhook side is the TwilioDouble; its media side is a real WebSocket client sending
Twilio's message shapes with the <Parameter>s from the TwiML. English is PocketSphinx.
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import replace

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from app import create_app
from speech.audio import read_wav
from speech.twilio_media import pcm16_to_mulaw
from storage.models import Agent
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.speech.conftest import AUDIO
from tests.support.twilio_voice import TwilioDouble

SILENCE = b"\xff" * 160


@pytest.fixture
def speech_app(settings, clock, monkeypatch):
    for name in ("VOSK_MODEL_PATH", "VOSK_MODEL_PATH_EN_US", "VOSK_MODEL_PATH_NL_NL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app(replace(settings, speech_enabled=True), clock=clock)
    app.config["TESTING"] = True
    assert "media" in app.blueprints  # registered by create_app, as in production
    yield app
    app.extensions["ivr"].engine.dispose()


@pytest.fixture
def live(speech_app):
    from tests.support.live_server import serve

    with serve(speech_app) as base_url:
        yield base_url.replace("http://", "ws://")


def speak(call, live, wav=None, digit=None):
    """Play Twilio's media side for the <Connect><Stream> the call is at, then let Twilio go on."""
    stream = call.stream.find("Stream")
    params = {p.attrib["name"]: p.attrib["value"] for p in stream.findall("Parameter")}
    url = stream.attrib["url"]
    assert url.startswith("wss://ivr.example.com/media?token=")
    local = live + url[len("wss://ivr.example.com"):]
    stream_sid = "MZ" + "2" * 32
    with connect(local) as ws:
        ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid, "start": {
            "accountSid": "AC" + "0" * 32, "streamSid": stream_sid, "callSid": call.call_sid,
            "tracks": ["inbound"], "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": params}}))
        mulaw = pcm16_to_mulaw(read_wav(wav).pcm16) if wav else b""
        chunks = [mulaw[i:i + 160] for i in range(0, len(mulaw), 160)] + [SILENCE] * 400
        try:
            for seq, chunk in enumerate(chunks, start=2):
                if digit and seq == 10:
                    ws.send(json.dumps({"event": "dtmf", "streamSid": stream_sid, "sequenceNumber": str(seq),
                                        "dtmf": {"track": "inbound_track", "digit": digit}}))
                    break
                ws.send(json.dumps({"event": "media", "sequenceNumber": str(seq), "streamSid": stream_sid,
                                    "media": {"track": "inbound", "chunk": str(seq - 1),
                                              "timestamp": str((seq - 2) * 20),
                                              "payload": base64.b64encode(chunk).decode()}}))
        except ConnectionClosed:
            pass
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)  # our server hangs up once it has the answer
    call.stream_ended()


def test_caller_says_what_they_want_and_is_put_in_line(speech_app, live, runtime, clock):
    with runtime.sessions() as s:
        s.add(Agent(name="Ann", address="+12125550100", skills={"general": 5}, state="available",
                    state_changed_at=clock.now(), wrap_up_seconds=30))
        s.commit()
    twilio = TwilioDouble(speech_app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL)
    call = twilio.call()
    assert "Tell me in a few words" in call.heard_text()
    assert call.stream is not None and call.pending is None  # speech, not a keypad Gather
    speak(call, live, os.path.join(AUDIO, "en", "tts_en_agent.wav"))
    assert call.queue == "general"
    assert "You are number 1 in line" in call.heard_text()


def test_a_key_pressed_during_the_stream_counts_like_a_gather(speech_app, live, runtime, clock):
    with runtime.sessions() as s:
        s.add(Agent(name="Bo", address="+12125550101", skills={"billing": 5}, state="available",
                    state_changed_at=clock.now(), wrap_up_seconds=30))
        s.commit()
    twilio = TwilioDouble(speech_app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL)
    call = twilio.call()
    speak(call, live, os.path.join(AUDIO, "en", "tts_en_support.wav"), digit="1")
    assert call.queue == "billing"


def test_silence_on_the_stream_is_no_input(speech_app, live):
    twilio = TwilioDouble(speech_app.test_client(), AUTH_TOKEN, PUBLIC_BASE_URL)
    call = twilio.call()
    speak(call, live)
    assert "did not hear anything" in call.heard_text()
    # Nothing came through the stream: asked again by keys (a quiet or noisy line).
    assert call.stream is None and call.pending is not None
    assert call.last_heard.startswith("Press 1 for billing")
