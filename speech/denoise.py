"""A stationary-noise suppressor for phone audio, in front of the recognisers (issue 19: the noisy half).

A line's hiss is steady: its spectrum can be learnt from the line itself and taken out of every frame.
`NoiseSuppressor` does that per call, streaming: short-time spectra (32 ms frames at 8 kHz, 50% overlap,
square-root Hann windows, so that with no noise the audio comes back as it went in, 32 ms later), the noise
power per frequency bin tracked as a running minimum of the smoothed power (it follows a quieter line at
once and a louder one slowly, so a word does not teach it that the word is noise), and a Wiener gain from
the decision-directed a-priori SNR (Ephraim-Malah), floored so that nothing is cut to silence. Its state
belongs to one stream: one caller's noise never shapes another's audio. NumPy only.

`suppress(pcm16, rate)` runs the same on a whole utterance (the held answer Whisper decodes).
Where it is used, and whether it is on, is measured in docs/speech.md ("Ninth round").
"""
from __future__ import annotations

import numpy as np

FRAME_SECONDS = 0.032  # analysis frame (256 samples at 8 kHz); the hop is half of it
SMOOTHING = 0.8  # of the power per bin, per hop, before its minimum is tracked
RISE_DB_PER_SECOND = 3.0  # how fast the noise estimate may climb when the line gets louder
MINIMUM_BIAS = 1.5  # the running minimum of a noisy power sits below its mean: scaled back up
DECISION_DIRECTED = 0.98  # weight of the previous frame's clean estimate in the a-priori SNR
# Where it runs: "first" (PocketSphinx's stream, per call) and/or "second" (Whisper's held utterance).
APPLY: set[str] = set()
GAIN_FLOOR = 0.15  # about -16 dB: attenuate noise, never cut it to nothing (recognisers dislike holes)


class NoiseSuppressor:
    """Streaming suppressor for one call. `process(chunk)` returns as many samples as it is given
    (delayed by one frame, 32 ms); `flush()` returns what is still inside."""

    def __init__(self, sample_rate: int = 8000):
        self.sample_rate = sample_rate
        n = 1 << int(round(np.log2(FRAME_SECONDS * sample_rate)))
        self._n, self._hop = n, n // 2
        self._window = np.sqrt(np.hanning(n + 1)[:n])  # periodic: squared, halves overlap-add to 1
        self._input = np.zeros(n - self._hop)  # the frame's first part, from the previous hop
        self._pending = np.zeros(0)  # input not yet a whole hop
        self._overlap = np.zeros(n - self._hop)  # the second half of the last frame's output
        self._out = np.zeros(0)  # output ready, not yet returned
        self._owed = self._hop  # leading zeros, so that every chunk gets as many samples back as it gave
        self._given = self._returned = 0  # samples
        self._power = None  # smoothed power per bin
        self._noise = None  # tracked minimum per bin
        self._previous = None  # previous frame's clean power estimate per bin
        self._rise = 10 ** (RISE_DB_PER_SECOND / 10 * self._hop / sample_rate)

    def _frame(self, frame: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(frame * self._window)
        power = spectrum.real ** 2 + spectrum.imag ** 2
        if self._power is None:
            self._power = power.copy()
            self._noise = power.copy()
            self._previous = power.copy()
        else:
            self._power = SMOOTHING * self._power + (1 - SMOOTHING) * power
            self._noise = np.minimum(self._power, self._noise * self._rise)
        noise = np.maximum(self._noise * MINIMUM_BIAS, 1e-9)
        posterior = power / noise
        prior = DECISION_DIRECTED * self._previous / noise + (1 - DECISION_DIRECTED) * np.maximum(posterior - 1, 0)
        gain = np.maximum(prior / (1 + prior), GAIN_FLOOR)
        self._previous = gain ** 2 * power
        return np.fft.irfft(spectrum * gain, self._n) * self._window

    def _run(self, x: np.ndarray) -> None:
        x = np.concatenate([self._pending, x])
        hops = len(x) // self._hop
        pieces = []
        for i in range(hops):
            hop = x[i * self._hop:(i + 1) * self._hop]
            y = self._frame(np.concatenate([self._input, hop]))
            pieces.append(y[:self._hop] + self._overlap)
            self._overlap = y[self._hop:]
            self._input = hop  # n = 2 * hop: the next frame starts with this hop
        self._pending = x[hops * self._hop:]
        if pieces:
            self._out = np.concatenate([self._out, *pieces])

    def _take(self, count: int) -> bytes:
        lead = min(self._owed, count)
        self._owed -= lead
        rest = count - lead
        y = np.concatenate([np.zeros(lead), self._out[:rest]])
        self._out = self._out[rest:]
        self._returned += count
        return np.clip(np.round(y), -32768, 32767).astype("<i2").tobytes()

    def process(self, pcm16: bytes) -> bytes:
        x = np.frombuffer(pcm16, "<i2").astype(np.float64)
        self._given += len(x)
        self._run(x)
        return self._take(min(len(x), self._owed + len(self._out)))

    def flush(self) -> bytes:
        """What is still inside: the output up to the last sample given plus the delay."""
        self._run(np.zeros(self._n))  # completes the frames that hold the last samples given
        return self._take(self._given + self.delay - self._returned)

    @property
    def delay(self) -> int:
        """Samples by which the output lags the input: the frame's overlap plus the leading zeros."""
        return self._n - self._hop + self._hop


def suppress(pcm16: bytes, sample_rate: int) -> bytes:
    """A whole utterance through a fresh suppressor: the same number of samples, aligned with the input."""
    if not pcm16:
        return pcm16
    s = NoiseSuppressor(sample_rate)
    y = s.process(pcm16) + s.flush()
    return y[2 * s.delay:2 * (s.delay + len(pcm16) // 2)]
