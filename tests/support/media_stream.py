"""Twilio's side of a /media stream, message by message as Twilio documents them, for tests that drive the
WebSocket over a real socket (tests/webhooks/test_media.py and its neighbours). A call is rung through the
signed voice webhook (`ring`) and its stream token read from the TwiML the IVR answered, as Twilio reads it;
`open_stream` then sends what Twilio sends first on a socket: `connected`, `start` with the token among its
customParameters, and the caller's first frames."""
from __future__ import annotations

import base64
import json
import re

import pytest
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from speech.audio import read_wav
from speech.twilio_media import pcm16_to_mulaw
from storage.db import transaction
from storage.models import SpeechResult
from telephony.emulator import new_sid

SILENCE = b"\xff" * 160  # mu-law digital silence, 20 ms
STREAM_SID = "MZ" + "1" * 32


def ring(phone, caller="+12125550142"):
    """/voice/incoming, signed, as Twilio sends it: the call's SID and the menu's stream token."""
    sid = new_sid("CA")
    reply = phone.post("/voice/incoming", {"AccountSid": phone.account_sid, "ApiVersion": "2010-04-01",
                                           "CallSid": sid, "CallStatus": "ringing", "Direction": "inbound",
                                           "From": caller, "To": "+15005550006"})
    twiml = reply.get_data(as_text=True)
    return sid, re.search(r'name="token" value="([^"]+)"', twiml).group(1)


def results(runtime):
    with transaction(runtime.sessions) as session:
        return session.scalars(select(SpeechResult)).all()


# --- Twilio's messages, exactly as documented -----------------------------------

def connected():
    return json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})


def start(sid, token, encoding="audio/x-mulaw", rate=8000):
    return json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": STREAM_SID, "start": {
        "accountSid": "AC" + "0" * 32, "streamSid": STREAM_SID, "callSid": sid, "tracks": ["inbound"],
        "mediaFormat": {"encoding": encoding, "sampleRate": rate, "channels": 1},
        "customParameters": {"token": token}}})


def media(payload, seq):
    return json.dumps({"event": "media", "sequenceNumber": str(seq + 1), "streamSid": STREAM_SID, "media": {
        "track": "inbound", "chunk": str(seq), "timestamp": str(seq * 20),
        "payload": base64.b64encode(payload).decode()}})


def frames(path):
    """The recording as Twilio carries it: 20 ms frames of 160 mu-law bytes, the last one filled with silence."""
    return mulaw_frames(read_wav(path).pcm16)


def line_noise(seconds: float, dbfs: float, seed: int = 19) -> bytes:
    """A noisy phone line's own sound as 16-bit PCM: band-limited white noise (the phone band), seeded, at
    `dbfs` (as scripts/make_speech_fixtures.py puts on its noisy recordings)."""
    import numpy as np

    from speech.audio import phone_band

    noise = np.random.default_rng(seed).standard_normal(int(seconds * 8000)) * 3000.0
    noise = np.frombuffer(phone_band(noise.astype("<i2").tobytes(), 8000), "<i2").astype(np.float64)
    noise *= 32768 * 10 ** (dbfs / 20) / float(np.sqrt(np.mean(noise ** 2)))
    return np.clip(np.round(noise), -32768, 32767).astype("<i2").tobytes()


def on_a_noisy_line(pcm16: bytes, dbfs: float, seed: int = 19) -> bytes:
    """`pcm16` with the line's noise (line_noise) under it."""
    import numpy as np

    x = np.frombuffer(pcm16, "<i2").astype(np.float64)
    y = x + np.frombuffer(line_noise(len(x) / 8000, dbfs, seed), "<i2").astype(np.float64)[:len(x)]
    return np.clip(np.round(y), -32768, 32767).astype("<i2").tobytes()


def mulaw_frames(pcm16: bytes) -> list[bytes]:
    """16-bit PCM as Twilio carries it: 20 ms frames of 160 mu-law bytes (the last one filled with silence)."""
    mulaw = pcm16_to_mulaw(pcm16)
    mulaw += SILENCE[:-len(mulaw) % 160]
    return [mulaw[i:i + 160] for i in range(0, len(mulaw), 160)]


def spoken_answer():
    """A caller's answer as Twilio streams it: half a second of quiet, "I have a question about my bill"
    (tests/fixtures/audio/en/tts_en_billing.wav), then three seconds of quiet in which the end of speech is heard.
    A stream that listens hears it, stores it and closes: a positive sign it was listening, never a quiet wait."""
    import os

    from tests.speech.conftest import AUDIO

    return [SILENCE] * 25 + frames(os.path.join(AUDIO, "en", "tts_en_billing.wav")) + [SILENCE] * 150


def stream(ws, chunks, first_seq=1):
    try:
        for n, chunk in enumerate(chunks, start=1):
            ws.send(media(chunk, first_seq + n))
    except ConnectionClosed:
        pass


def open_stream(ws, sid, token, chunks=()):
    """What Twilio sends on a new socket: `connected`, the `start` carrying the call's token, then `chunks`."""
    ws.send(connected())
    ws.send(start(sid, token))
    stream(ws, chunks)


def closed_by_server(ws, timeout=10) -> bool:
    try:
        while True:
            ws.recv(timeout=timeout)  # the server never sends us anything on a forked stream
    except ConnectionClosed:
        return True
    except TimeoutError:
        return False


def refused(url, headers=None):
    with pytest.raises(InvalidStatus) as info:
        connect(url, additional_headers=headers or {})
    return info.value.response.status_code
