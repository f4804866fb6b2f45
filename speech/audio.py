"""WAV files and sample-rate conversion for phone audio.

Python's `wave` module reads neither mu-law WAVs (format tag 7), which is what
phone recordings and our fixtures are, nor 24-bit or float ones, so this reads
RIFF chunks itself.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

from speech.twilio_media import mulaw_to_pcm16, pcm16_to_mulaw

WAVE_PCM, WAVE_FLOAT, WAVE_ALAW, WAVE_MULAW, WAVE_EXTENSIBLE = 1, 3, 6, 7, 0xFFFE


class WavError(ValueError):
    """Not a WAV file, or a WAV this reader cannot decode (the message says which)."""


@dataclass(frozen=True)
class Audio:
    pcm16: bytes  # little-endian signed 16-bit, mono
    sample_rate: int
    encoding: str  # what the file held: "pcm16", "pcm24", "float32", "mulaw", ...

    @property
    def seconds(self) -> float:
        return len(self.pcm16) / 2 / self.sample_rate


def _alaw_to_float(body: bytes) -> np.ndarray:
    a = np.frombuffer(body, np.uint8) ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = (a & 0x0F).astype(np.int32)
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    return np.where(a & 0x80, magnitude, -magnitude) / 32768.0


def _samples(tag: int, bits: int, body: bytes) -> tuple[np.ndarray, str]:
    """Interleaved samples as floats in [-1, 1], and a name for the encoding."""
    if tag == WAVE_PCM and bits == 8:
        return (np.frombuffer(body, np.uint8).astype(np.float64) - 128) / 128, "pcm8"
    if tag == WAVE_PCM and bits == 16:
        return np.frombuffer(body[: len(body) // 2 * 2], "<i2") / 32768.0, "pcm16"
    if tag == WAVE_PCM and bits == 24:
        raw = np.frombuffer(body[: len(body) // 3 * 3], np.uint8).reshape(-1, 3).astype(np.int32)
        return ((raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)) << 8 >> 8) / 8388608.0, "pcm24"
    if tag == WAVE_PCM and bits == 32:
        return np.frombuffer(body[: len(body) // 4 * 4], "<i4") / 2147483648.0, "pcm32"
    if tag == WAVE_FLOAT and bits in (32, 64):
        width = bits // 8
        return np.frombuffer(body[: len(body) // width * width], f"<f{width}").astype(np.float64), f"float{bits}"
    if tag == WAVE_MULAW and bits == 8:
        return np.frombuffer(mulaw_to_pcm16(body), "<i2") / 32768.0, "mulaw"
    if tag == WAVE_ALAW and bits == 8:
        return _alaw_to_float(body), "alaw"
    raise WavError(f"unsupported WAV encoding (format tag {tag}, {bits} bits)")


def read_wav_bytes(data: bytes, name: str = "input") -> Audio:
    """Decode a WAV: PCM 8/16/24/32-bit, float 32/64-bit, mu-law or A-law, any sample rate,
    mono or more channels (mixed down). Raises WavError for anything else."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavError(f"{name} is not a WAV file")
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
    if fmt is None or len(fmt) < 16 or body is None:
        raise WavError(f"{name}: WAV without a fmt or data chunk")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == WAVE_EXTENSIBLE and len(fmt) >= 26:  # the real tag starts the sub-format GUID
        tag = struct.unpack("<H", fmt[24:26])[0]
    if not channels or not 1000 <= rate <= 384000:
        raise WavError(f"{name}: WAV with {channels} channels at {rate} Hz")
    x, encoding = _samples(tag, bits, body)
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1)
    if encoding in ("pcm16", "mulaw") and channels == 1:
        pcm = np.frombuffer(body[: len(x) * (2 if encoding == "pcm16" else 1)], np.uint8).tobytes()
        pcm = pcm if encoding == "pcm16" else mulaw_to_pcm16(pcm)
    else:
        pcm = np.clip(np.round(x * 32768), -32768, 32767).astype("<i2").tobytes()
    return Audio(pcm, rate, encoding)


def read_wav(path: str) -> Audio:
    """read_wav_bytes for a file."""
    with open(path, "rb") as f:
        return read_wav_bytes(f.read(), path)


def resample(pcm16: bytes, rate: int, target: int, taps: int = 32) -> bytes:
    """Whole-signal sample-rate conversion (any ratio) by windowed-sinc interpolation,
    low-passed below the lower of the two Nyquist frequencies. For files; live
    streams use Upsampler."""
    if rate == target or not pcm16:
        return pcm16
    x = np.frombuffer(pcm16, "<i2").astype(np.float64)
    n_out = int(len(x) * target / rate)
    ratio = min(1.0, target / rate)  # < 1 when going down: widen the kernel, lower the cut-off
    half = int(np.ceil(taps / 2 / ratio))
    cutoff = 0.5 * ratio * 0.95
    padded = np.concatenate([np.zeros(half), x, np.zeros(half + 1)])
    out = np.empty(n_out)
    step = 4096
    offsets = np.arange(-half + 1, half + 1)
    for start in range(0, n_out, step):
        t = np.arange(start, min(n_out, start + step)) * (rate / target)
        base = np.floor(t).astype(np.int64)
        k = base[:, None] + offsets[None, :]
        d = t[:, None] - k
        window = 0.5 + 0.5 * np.cos(np.pi * d / (half + 1))  # Hann, as wide as the kernel
        h = 2 * cutoff * np.sinc(2 * cutoff * d) * window
        out[start:start + len(t)] = np.sum(padded[k + half] * h, axis=1)
    return np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes()


def phone_band(pcm16: bytes, rate: int) -> bytes:
    """What a phone line would deliver from a recording: 8 kHz, 300-3400 Hz, through mu-law."""
    x = np.frombuffer(resample(pcm16, rate, 8000), "<i2").astype(np.float64)
    if not len(x):
        return b""
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / 8000)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    y = np.clip(np.round(np.fft.irfft(spectrum, len(x))), -32768, 32767).astype("<i2").tobytes()
    return mulaw_to_pcm16(pcm16_to_mulaw(y))


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
    # Every live frame passes here (50 a second per call): an exact integer sum of squares and scalar
    # math, a third of the time of NumPy's float mean and log on a 20 ms frame.
    n = len(pcm16) // 2
    x = np.frombuffer(pcm16, "<i2", n).astype(np.int64)
    squares = int(x.dot(x)) if n else 0
    return 10 * math.log10(squares / n / 32768 ** 2) if squares else float("-inf")
