"""The caller's audio as Twilio carries it: 8 kHz mono G.711 mu-law, in 160-byte (20 ms) frames.

Any WAV (8-32 bit PCM, float, mu-law, A-law, any rate, mono or stereo) or raw 16-bit PCM is brought
to the phone line: resampled to 8 kHz, limited to the telephone band (300-3400 Hz) and mu-law
encoded. `speak()` synthesises words with Debian's espeak-ng for the dev phone's `--say`.
"""
from __future__ import annotations

import shutil
import struct
import subprocess

import numpy as np

from speech.twilio_media import FRAME_BYTES, MULAW_RATE, mulaw_to_pcm16, pcm16_to_mulaw

SILENCE_FRAME = b"\xff" * FRAME_BYTES  # mu-law of 0
BAND = (300.0, 3400.0)
ESPEAK_VOICES = {"en-US": "en-us", "nl-NL": "nl"}


class AudioError(ValueError):
    pass


def _alaw_to_pcm16(data: bytes) -> np.ndarray:
    a = np.frombuffer(data, np.uint8) ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = (a & 0x0F).astype(np.int32)
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1))
    return np.where(sign != 0, magnitude, -magnitude).astype(np.int16)


def read_wav_bytes(data: bytes) -> tuple[np.ndarray, int]:
    """Samples as float64 in [-1, 1] (mono) and the sample rate."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("not a WAV file")
    fmt = body = None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        content = data[pos + 8:pos + 8 + size]  # espeak-ng --stdout writes size 0xFFFFFFFF: take the rest
        if chunk == b"fmt ":
            fmt = content
        elif chunk == b"data":
            body = content
        pos += 8 + size + (size & 1)
    if fmt is None or body is None:
        raise AudioError("WAV without fmt or data chunk")
    tag, channels, rate, _, block, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == 0xFFFE and len(fmt) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real tag starts the sub-format GUID
        tag = struct.unpack("<H", fmt[24:26])[0]
    width = bits // 8
    body = body[: len(body) // max(block, 1) * max(block, 1)]
    if tag == 1 and bits == 8:
        x = (np.frombuffer(body, np.uint8).astype(np.float64) - 128) / 128
    elif tag == 1 and bits == 16:
        x = np.frombuffer(body, "<i2").astype(np.float64) / 32768
    elif tag == 1 and bits == 24:
        raw = np.frombuffer(body, np.uint8).reshape(-1, 3).astype(np.int32)
        x = ((raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)) << 8 >> 8).astype(np.float64) / 8388608
    elif tag == 1 and bits == 32:
        x = np.frombuffer(body, "<i4").astype(np.float64) / 2147483648
    elif tag == 3 and bits in (32, 64):
        x = np.frombuffer(body, "<f4" if bits == 32 else "<f8").astype(np.float64)
    elif tag == 7 and bits == 8:
        x = np.frombuffer(mulaw_to_pcm16(body), "<i2").astype(np.float64) / 32768
    elif tag == 6 and bits == 8:
        x = _alaw_to_pcm16(body).astype(np.float64) / 32768
    else:
        raise AudioError(f"unsupported WAV: format tag {tag}, {bits} bits")
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1)
    del width
    return x, rate


def to_phone_line(samples: np.ndarray, rate: int) -> bytes:
    """Resample to 8 kHz, keep 300-3400 Hz, encode as mu-law (one FFT over the whole utterance)."""
    if not len(samples):
        return b""
    n_out = max(1, int(round(len(samples) * MULAW_RATE / rate)))
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    spectrum *= _band_gain(freqs)
    keep = n_out // 2 + 1
    out_spectrum = np.zeros(keep, dtype=complex)
    n = min(keep, len(spectrum))
    out_spectrum[:n] = spectrum[:n]
    y = np.fft.irfft(out_spectrum, n_out) * (n_out / len(samples))
    pcm = np.clip(np.round(y * 32767), -32768, 32767).astype("<i2").tobytes()
    return pcm16_to_mulaw(pcm)


def _band_gain(freqs: np.ndarray, edge: float = 100.0) -> np.ndarray:
    """The telephone band with raised-cosine edges `edge` Hz either side of each limit (a brick wall
    rings, and recognisers hear it)."""
    low = np.clip((freqs - (BAND[0] - edge)) / (2 * edge), 0, 1)
    high = np.clip(((BAND[1] + edge) - freqs) / (2 * edge), 0, 1)
    return (0.5 - 0.5 * np.cos(np.pi * low)) * (0.5 - 0.5 * np.cos(np.pi * high))


def wav_to_mulaw(path: str) -> bytes:
    with open(path, "rb") as f:
        samples, rate = read_wav_bytes(f.read())
    return to_phone_line(samples, rate)


def pcm_to_mulaw(pcm16: bytes, rate: int = MULAW_RATE) -> bytes:
    samples = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], "<i2").astype(np.float64) / 32768
    return to_phone_line(samples, rate)


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
    samples, rate = read_wav_bytes(wav)
    line = to_phone_line(samples, rate)
    return SILENCE_FRAME * 25 + line + SILENCE_FRAME * 75


def voice_end_seconds(mulaw: bytes, speech_dbfs: float = -45.0) -> float:
    """Where the voice in `mulaw` ends (end of its last 20 ms frame louder than `speech_dbfs`)."""
    last = 0
    for index, frame in enumerate(frames(mulaw)):
        x = np.frombuffer(mulaw_to_pcm16(frame), "<i2").astype(np.float64)
        rms = np.sqrt(np.mean(x * x)) if len(x) else 0.0
        if rms > 0 and 20 * np.log10(rms / 32768) >= speech_dbfs:
            last = index + 1
    return last * FRAME_BYTES / MULAW_RATE
