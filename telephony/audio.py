"""The caller's audio as Twilio carries it: 8 kHz mono G.711 mu-law, in 160-byte (20 ms) frames.

Any WAV speech.audio reads (8-32 bit PCM, float, mu-law, A-law, any rate, mono or stereo) or raw 16-bit
PCM is brought to the phone line with speech.audio.phone_band (8 kHz, 300-3400 Hz) and mu-law encoded.
`speak()` synthesises words with Debian's espeak-ng for the dev phone's `--say`.
"""
from __future__ import annotations

import shutil
import subprocess

import numpy as np

from speech.audio import WavError, phone_band, read_wav_bytes
from speech.twilio_media import FRAME_BYTES, MULAW_RATE, mulaw_to_pcm16, pcm16_to_mulaw

SILENCE_FRAME = b"\xff" * FRAME_BYTES  # mu-law of 0
ESPEAK_VOICES = {"en-US": "en-us", "nl-NL": "nl"}


class AudioError(ValueError):
    """Audio the dev phone cannot send: not a readable WAV, or no espeak-ng to speak with."""


def pcm_to_mulaw(pcm16: bytes, rate: int = MULAW_RATE) -> bytes:
    return pcm16_to_mulaw(phone_band(pcm16[: len(pcm16) // 2 * 2], rate))


def wav_bytes_to_mulaw(data: bytes, name: str = "input") -> bytes:
    try:
        audio = read_wav_bytes(data, name)
    except WavError as exc:
        raise AudioError(str(exc)) from exc
    return pcm_to_mulaw(audio.pcm16, audio.sample_rate)


def wav_to_mulaw(path: str) -> bytes:
    with open(path, "rb") as f:
        return wav_bytes_to_mulaw(f.read(), path)


def frames(mulaw: bytes) -> list[bytes]:
    """160-byte frames; the last one padded with silence."""
    out = [mulaw[i:i + FRAME_BYTES] for i in range(0, len(mulaw), FRAME_BYTES)]
    if out and len(out[-1]) < FRAME_BYTES:
        out[-1] = out[-1] + SILENCE_FRAME[len(out[-1]):]
    return out


def speak(text: str, language: str = "en-US", words_per_minute: int = 150) -> bytes:
    """`text` spoken by espeak-ng, on the phone line (mu-law 8 kHz), with 0.5 s of quiet before and
    1.5 s after so the end of speech is there."""
    if shutil.which("espeak-ng") is None:
        raise AudioError("espeak-ng is not installed (Debian: apt-get install espeak-ng; scripts/install does it)")
    voice = ESPEAK_VOICES.get(language, language.split("-")[0].lower())
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(words_per_minute), "--stdout", text],
                         check=True, capture_output=True).stdout
    return SILENCE_FRAME * 25 + wav_bytes_to_mulaw(wav, "espeak-ng") + SILENCE_FRAME * 75


def voice_end_seconds(mulaw: bytes, speech_dbfs: float = -45.0) -> float:
    """Where the voice in `mulaw` ends (end of its last 20 ms frame louder than `speech_dbfs`)."""
    last = 0
    for index, frame in enumerate(frames(mulaw)):
        x = np.frombuffer(mulaw_to_pcm16(frame), "<i2").astype(np.float64)
        rms = np.sqrt(np.mean(x * x)) if len(x) else 0.0
        if rms > 0 and 20 * np.log10(rms / 32768) >= speech_dbfs:
            last = index + 1
    return last * FRAME_BYTES / MULAW_RATE
