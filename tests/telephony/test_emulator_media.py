"""The emulator's media streams against Twilio's documented behaviour: real WebSockets to a fixture
endpoint, Twilio's message shapes, <Start><Stream> forking across documents until <Stop>,
<Connect><Stream> blocking until the app closes it, dtmf only on bidirectional streams, and speech
that makes the app move the call on (the barge-in shape); plus the live driver's real timers."""
from __future__ import annotations

import base64
import io
import time
import wave

import numpy as np
import pytest
from twilio.request_validator import RequestValidator

from speech.twilio_media import mulaw_to_pcm16
from telephony import audio
from tests.telephony.conftest import BASE, TOKEN

WSS = "wss://fixtures.example.com/media"


def tone(seconds: float = 0.8, rate: int = 16000, hz: float = 440.0, level: float = 0.3) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * hz * t) * level * 32767).astype("<i2").tobytes()


def voiced(message: dict) -> bool:
    pcm = np.frombuffer(mulaw_to_pcm16(base64.b64decode(message["media"]["payload"])), "<i2").astype(float)
    return bool(np.sqrt(np.mean(pcm * pcm)) > 300)


def until(condition, seconds: float = 60.0) -> bool:
    """Whether `condition()` came to hold: a wait on the event, the deadline only to stop a hung test (the
    live driver's timers run on the wall clock, which a busy machine stretches)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_start_stream_forks_the_audio_across_documents_until_stop(emulator, fx):
    fx.docs["/incoming"] = (f'<Response><Start><Stream name="listen" url="{WSS}?x=1">'
                            '<Parameter name="step" value="menu"/></Stream></Start>'
                            '<Gather action="/next" numDigits="1"><Say>Press a key</Say></Gather></Response>')
    fx.docs["/next"] = '<Response><Gather action="/last" numDigits="1"><Say>Another</Say></Gather></Response>'
    fx.docs["/last"] = ('<Response><Stop><Stream name="listen"/></Stop>'
                        '<Gather action="/end" numDigits="1" timeout="3"><Say>Stopped</Say></Gather></Response>')
    call = emulator.call()
    assert until(lambda: fx.streams and len(fx.streams[0]["messages"]) >= 5)
    call.press("1")  # the stream is not blocking: the Gather ran, its action came
    assert call.last_heard == "Another" and "listen" in call.forked
    record = fx.streams[0]
    connected, start = record["messages"][:2]
    assert connected == {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    assert start["event"] == "start" and start["sequenceNumber"] == "1" and start["streamSid"].startswith("MZ")
    assert start["start"] == {"accountSid": emulator.account_sid, "streamSid": start["streamSid"], "callSid": call.sid,
                              "tracks": ["inbound"], "customParameters": {"step": "menu"},
                              "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}
    assert RequestValidator(TOKEN).validate(f"{WSS}?x=1", {}, record["signature"])
    call.press("2")  # <Stop><Stream name="listen">
    assert until(lambda: record["closed_by"] == "twilio")
    assert "listen" not in call.forked and record["messages"][-1]["event"] == "stop"
    assert record["messages"][-1]["stop"] == {"accountSid": emulator.account_sid, "callSid": call.sid}
    media = [m for m in record["messages"] if m["event"] == "media"]
    assert media and all(len(base64.b64decode(m["media"]["payload"])) == 160 for m in media)
    assert [m["media"]["chunk"] for m in media[:3]] == ["1", "2", "3"]
    assert [m["media"]["timestamp"] for m in media[:3]] == ["0", "20", "40"]
    numbers = [int(m["sequenceNumber"]) for m in record["messages"][1:]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert not [m for m in record["messages"] if m["event"] == "dtmf"]  # keys never travel on a forked stream


def test_connect_stream_blocks_until_the_app_closes_it_then_requests_the_action(emulator, fx):
    fx.docs["/incoming"] = (f'<Response><Say>Speak</Say><Connect action="/heard"><Stream url="{WSS}">'
                            '<Parameter name="turn" value="1"/></Stream></Connect><Say>not reached</Say></Response>')
    fx.docs["/heard"] = '<Response><Gather action="/k"><Say>Heard you</Say></Gather></Response>'
    frames = []

    def app_side(record, message):
        if message["event"] == "media" and voiced(message):
            frames.append(message)
            if len(frames) >= 25:  # half a second of voice: the app has its answer
                return "close"
        return None

    fx.media_script = app_side
    call = emulator.call()
    assert call.stream is not None and call.describe_wait() == "StreamBlock"
    assert call.say(pcm=tone(1.0), rate=16000)
    assert fx.paths() == ["/incoming", "/heard"] and call.last_heard == "Heard you"
    assert "not reached" not in call.heard and fx.streams[0]["closed_by"] == "app"
    assert fx.streams[0]["messages"][1]["start"]["tracks"] == ["inbound"]


def test_connect_without_action_goes_on_with_the_next_verb(emulator, fx):
    fx.docs["/incoming"] = (f'<Response><Connect><Stream url="{WSS}"/></Connect>'
                            '<Gather action="/k"><Say>After the stream</Say></Gather></Response>')
    fx.media_script = lambda record, message: "close" if message["event"] == "media" else None
    call = emulator.call()
    call.wait()  # the caller is silent; the app closes the stream
    assert call.last_heard == "After the stream"


def test_keys_on_a_connect_stream_travel_as_dtmf(emulator, fx):
    fx.docs["/incoming"] = f'<Response><Connect action="/done"><Stream url="{WSS}"/></Connect></Response>'
    fx.docs["/done"] = "<Response><Hangup/></Response>"
    fx.media_script = lambda record, message: "close" if message["event"] == "dtmf" else None
    call = emulator.call()
    call.press("5")
    assert "/done" in fx.paths() and call.ended
    [dtmf] = [m for m in fx.streams[0]["messages"] if m["event"] == "dtmf"]
    assert dtmf["dtmf"] == {"track": "inbound_track", "digit": "5"} and dtmf["streamSid"].startswith("MZ")


BARGE_IN = (f'<Response><Start><Stream name="menu" url="{WSS}"/></Start>'
            '<Gather action="/keys" numDigits="1"><Say>Welcome to the fixture line</Say>'
            '<Say>Tell me what you need</Say></Gather><Redirect>/nothing</Redirect></Response>')


def barge_in_app(emulator):
    """The app's side of the barge-in design: on voice, move the call to /listen (the prompt stops);
    when the voice has ended, move it to /answer."""
    state = {"voice": 0, "quiet": 0, "phase": "prompt"}

    def app_side(record, message):
        if message["event"] != "media":
            return None
        if voiced(message):
            state["voice"] += 1
            state["quiet"] = 0
        elif state["voice"]:
            state["quiet"] += 1
        call_sid = record["messages"][1]["start"]["callSid"]
        if state["phase"] == "prompt" and state["voice"] >= 10:
            state["phase"] = "listening"
            emulator.client().calls(call_sid).update(url=BASE + "/listen", method="POST")
        elif state["phase"] == "listening" and state["quiet"] >= 30:
            state["phase"] = "done"
            emulator.client().calls(call_sid).update(url=BASE + "/answer", method="POST")
        return None

    return app_side


def test_speech_over_a_prompt_makes_the_app_stop_it_and_answer(emulator, fx):
    fx.docs["/incoming"] = BARGE_IN
    fx.docs["/listen"] = '<Response><Pause length="10"/><Redirect>/nothing</Redirect></Response>'
    fx.docs["/answer"] = ('<Response><Stop><Stream name="menu"/></Stop>'
                          '<Gather action="/k2" numDigits="1" timeout="5"><Say>You said something</Say></Gather></Response>')
    fx.media_script = barge_in_app(emulator)
    call = emulator.call()
    assert call.say(pcm=tone(0.8), rate=16000, barge_in=True)
    assert fx.paths() == ["/incoming", "/listen", "/answer"]  # neither the Gather's action nor its fall-through
    # The first prompt was cut by the update; the second never played.
    assert call.heard == ["Welcome to the fixture line", "You said something"]
    assert until(lambda: fx.streams[0]["closed_by"] == "twilio")


def test_speech_after_the_prompts_reaches_a_forked_stream_too(emulator, fx):
    fx.docs["/incoming"] = BARGE_IN
    fx.docs["/listen"] = '<Response><Gather action="/keys" timeout="10"/></Response>'  # keys still count
    fx.docs["/answer"] = '<Response><Hangup/></Response>'
    fx.media_script = barge_in_app(emulator)
    call = emulator.call()
    call.say(pcm=tone(0.8), rate=16000)
    assert fx.paths() == ["/incoming", "/listen", "/answer", "/status"] and call.ended
    assert call.heard == ["Welcome to the fixture line", "Tell me what you need"]  # both played in full


def test_speech_with_no_stream_running_reaches_nobody(emulator, fx):
    fx.docs["/incoming"] = '<Response><Gather action="/k"><Say>Keys only</Say></Gather></Response>'
    call = emulator.call()
    assert call.say(pcm=tone(0.3), rate=16000) is False and fx.streams == []


# ---- the caller's audio on the phone line -------------------------------------------------------

def _wav(samples: np.ndarray, rate: int, width: int, channels: int = 1, kind: str = "int") -> bytes:
    if kind == "float":
        import struct

        body = samples.astype("<f4").tobytes()
        fmt = struct.pack("<HHIIHH", 3, channels, rate, rate * 4 * channels, 4 * channels, 32)
        return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(body)) + b"WAVE" + b"fmt " +
                struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(body)) + body)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 1:
            w.writeframes(((samples * 127) + 128).astype(np.uint8).tobytes())
        elif width == 3:
            ints = (samples * 8388607).astype("<i4")
            w.writeframes(b"".join(int(v).to_bytes(3, "little", signed=True) for v in ints))
        else:
            w.writeframes((samples * (2 ** (8 * width - 1) - 1)).astype(f"<i{width}").tobytes())
    return buf.getvalue()


@pytest.mark.parametrize("rate,width,channels,kind", [
    (44100, 2, 2, "int"), (48000, 3, 1, "int"), (22050, 4, 1, "float"), (11025, 1, 1, "int"), (8000, 2, 1, "int")])
def test_a_wav_of_any_rate_and_depth_reaches_the_line_as_8khz_mulaw(rate, width, channels, kind):
    t = np.arange(int(0.5 * rate)) / rate
    samples = 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.3 * np.sin(2 * np.pi * 100 * t)  # 100 Hz: below the band
    if channels == 2:
        samples = np.repeat(samples[:, None], 2, axis=1).reshape(-1)
    line = audio.wav_bytes_to_mulaw(_wav(samples, rate, width, channels, kind))
    assert abs(len(line) - 4000) <= 2  # half a second at 8000 samples/s, one byte each
    assert all(len(f) == 160 for f in audio.frames(line))
    pcm = np.frombuffer(mulaw_to_pcm16(line), "<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(pcm))
    freqs = np.fft.rfftfreq(len(pcm), 1 / 8000)
    assert abs(freqs[np.argmax(spectrum)] - 1000) < 10
    assert spectrum[np.argmin(abs(freqs - 100))] < spectrum.max() / 50  # the phone band dropped it


def test_what_is_not_audio_is_refused_in_one_sentence():
    with pytest.raises(audio.AudioError, match="not a WAV"):
        audio.wav_bytes_to_mulaw(b"hello, not a wav file", "upload.wav")


# ---- the live driver ------------------------------------------------------------------------------

def test_the_live_driver_runs_real_timers_and_takes_keys_from_other_threads(emulator, fx):
    fx.docs["/incoming"] = ('<Response><Gather action="/k" numDigits="1" timeout="1"><Say>Hi</Say></Gather>'
                            '<Redirect>/again</Redirect></Response>')
    fx.docs["/again"] = '<Response><Gather action="/k" numDigits="1" timeout="5"><Say>Again</Say></Gather></Response>'
    fx.docs["/k"] = lambda f: f'<Response><Say>Got {f["Digits"]}</Say></Response>'
    seen = []
    emulator.subscribe(seen.append)
    emulator.start_live()
    sid = emulator.live_call("+31612345678")
    assert until(lambda: "/again" in fx.paths())  # "Hi" played (about 0.7 s), then 1 s without a key
    emulator.live_press(sid, "4")  # while "Again" plays or right after: counts
    assert until(lambda: emulator.calls[sid].ended)
    assert fx.form_of("/k")["Digits"] == "4"
    assert [e["text"] for e in seen if e["type"] == "prompt"] == ["Hi", "Again", "Got 4"]
    assert [e["status"] for e in seen if e["type"] == "ended"] == ["completed"]
    # The timers ran in order, each on its own event: "Hi" played out, the Gather then waited for a key,
    # and only its timeout (no key yet) led to /again.
    again = next(i for i, e in enumerate(seen) if e.get("text") == "Again")
    assert [e["wait"] for e in seen[:again] if e["type"] == "state"] == ["Segment", "GatherInput"]
    assert fx.paths().index("/again") < fx.paths().index("/k")


def test_a_client_that_speaks_the_prompts_says_when_each_ended(emulator, fx):
    fx.docs["/incoming"] = ('<Response><Gather action="/k" numDigits="1" timeout="30"><Say>One</Say><Say>Two</Say>'
                            '</Gather></Response>')
    fx.docs["/k"] = "<Response><Hangup/></Response>"
    seen = []
    emulator.subscribe(seen.append)
    emulator.start_live()
    sid = emulator.live_call("+31612345678", client_paces_prompts=True)
    assert until(lambda: [e["text"] for e in seen if e["type"] == "prompt"] == ["One"])
    with emulator.driving():  # still at "One": no timer would end it (the client says when), none is set
        call = emulator.calls[sid]
        assert call.wait_state.items[call.wait_state.pos].text == "One"
        assert not [t for t in emulator.live_driver._timers if t[2] is call and t[4][0] == "item"]
    assert [e["text"] for e in seen if e["type"] == "prompt"] == ["One"]
    emulator.live_prompt_done(sid)
    assert until(lambda: [e["text"] for e in seen if e["type"] == "prompt"] == ["One", "Two"])
    emulator.live_press(sid, "7")  # during "Two": ends it and counts
    assert until(lambda: emulator.calls[sid].ended)
    assert fx.form_of("/k")["Digits"] == "7"
    assert [e["text"] for e in seen if e["type"] == "prompt_cut"] == ["Two"]
