"""WAV files and sample-rate conversion for phone audio.

Python's `wave` module cannot read mu-law WAVs (format tag 7), which is what
phone recordings and our fixtures are, so this reads RIFF chunks itself.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from speech.twilio_media import mulaw_to_pcm16, pcm16_to_mulaw

WAVE_PCM, WAVE_MULAW = 1, 7


@dataclass(frozen=True)
class Audio:
    pcm16: bytes  # little-endian signed 16-bit, mono
    sample_rate: int
    encoding: str  # what the file held: "pcm16" or "mulaw"

    @property
    def seconds(self) -> float:
        return len(self.pcm16) / 2 / self.sample_rate


def read_wav(path: str) -> Audio:
    """Read a mono or stereo 16-bit PCM or 8-bit mu-law WAV (stereo is mixed down)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a WAV file")
    fmt = None
    body = None
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        content = data[pos + 8:pos + 8 + size]
        if chunk == b"fmt ":
            fmt = struct.unpack("<HHIIHH", content[:16])
        elif chunk == b"data":
            body = content
        pos += 8 + size + (size & 1)
    if fmt is None or body is None:
        raise ValueError(f"{path}: WAV without fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    if tag == WAVE_MULAW and bits == 8:
        pcm, encoding = mulaw_to_pcm16(body), "mulaw"
    elif tag == WAVE_PCM and bits == 16:
        pcm, encoding = body[: len(body) // 2 * 2], "pcm16"
    else:
        raise ValueError(f"{path}: unsupported WAV format tag {tag} with {bits} bits")
    if channels > 1:
        samples = np.frombuffer(pcm, "<i2")
        samples = samples[: len(samples) // channels * channels].reshape(-1, channels)
        pcm = samples.mean(axis=1).astype("<i2").tobytes()
    return Audio(pcm, rate, encoding)


def write_mulaw_wav(path: str, pcm16: bytes, sample_rate: int = 8000) -> None:
    """Write 16-bit PCM as an 8-bit mu-law WAV (format tag 7, with the fact chunk it requires)."""
    body = pcm16_to_mulaw(pcm16)
    fmt = struct.pack("<HHIIHHH", WAVE_MULAW, 1, sample_rate, sample_rate, 1, 8, 0)
    fact = struct.pack("<I", len(body))
    chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"fact" + struct.pack("<I", 4) + fact
              + b"data" + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b""))
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def _lowpass(taps: int, cutoff: float) -> np.ndarray:
    """Windowed-sinc low-pass FIR; `cutoff` as a fraction of the sample rate."""
    n = np.arange(taps) - (taps - 1) / 2
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(taps)
    return h / h.sum()


class Upsampler:
    """Integer-factor upsampling for a stream of chunks (8 kHz phone audio ->
    16 kHz for models that need it). Keeps filter state between chunks so
    20 ms frames join without clicks."""

    def __init__(self, factor: int, taps_per_phase: int = 16):
        self.factor = factor
        self._h = _lowpass(taps_per_phase * factor, 0.5 / factor * 0.9) * factor
        self._history = np.zeros(len(self._h) - 1)

    def process(self, pcm16: bytes) -> bytes:
        if self.factor == 1:
            return pcm16
        x = np.frombuffer(pcm16, "<i2").astype(np.float64)
        stuffed = np.zeros(len(x) * self.factor)
        stuffed[:: self.factor] = x
        joined = np.concatenate([self._history, stuffed])
        y = np.convolve(joined, self._h, mode="valid")
        self._history = joined[len(joined) - (len(self._h) - 1):]
        return np.clip(np.round(y), -32768, 32767).astype("<i2").tobytes()


def rms_dbfs(pcm16: bytes) -> float:
    """Loudness of a chunk in dB below full scale (-inf for digital silence)."""
    x = np.frombuffer(pcm16, "<i2").astype(np.float64)
    if not len(x):
        return float("-inf")
    rms = np.sqrt(np.mean(x * x))
    return 20 * np.log10(rms / 32768) if rms > 0 else float("-inf")
