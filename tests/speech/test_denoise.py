"""The stationary-noise suppressor (speech/denoise.py): what it does to a tone in line noise, to silence,
to clean audio, and that its state belongs to one stream."""
from __future__ import annotations

import numpy as np

from speech.denoise import NoiseSuppressor, suppress

RATE = 8000


def tone_in_noise(seconds=2.0, noise_rms=800.0, seed=1, tone_from=0.8, tone_to=1.6, hz=700.0):
    t = np.arange(int(seconds * RATE)) / RATE
    tone = np.where((t >= tone_from) & (t < tone_to), 4000 * np.sin(2 * np.pi * hz * t), 0.0)
    noise = np.random.default_rng(seed).standard_normal(len(t)) * noise_rms
    return tone, noise


def pcm(x):
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def samples(b):
    return np.frombuffer(b, "<i2").astype(np.float64)


def snr_db(signal, clean):
    """The clean signal's power against the power of everything else in `signal` (least-squares fit of the
    clean signal's scale, so that a gain below one is not counted as noise)."""
    scale = float(np.dot(signal, clean) / np.dot(clean, clean))
    rest = signal - scale * clean
    return 10 * np.log10(np.dot(scale * clean, scale * clean) / np.dot(rest, rest))


def test_a_tone_in_white_noise_comes_out_with_a_better_snr():
    tone, noise = tone_in_noise()
    noisy = samples(pcm(tone + noise))
    out = samples(suppress(pcm(tone + noise), RATE))
    assert len(out) == len(noisy)
    before, after = snr_db(noisy, tone), snr_db(out, tone)
    assert after > before + 6, (before, after)
    # Between the words the noise is turned down, not cut to nothing.
    quiet = slice(int(0.2 * RATE), int(0.7 * RATE))
    ratio = np.sqrt(np.mean(out[quiet] ** 2)) / np.sqrt(np.mean(noisy[quiet] ** 2))
    assert 0.02 < ratio < 0.5, ratio


def test_silence_stays_silence():
    assert suppress(bytes(2 * RATE), RATE) == bytes(2 * RATE)
    s = NoiseSuppressor(RATE)
    assert all(s.process(bytes(320)) == bytes(320) for _ in range(50))
    assert suppress(b"", RATE) == b""


def test_clean_audio_passes_unchanged_and_streaming_matches_the_whole():
    tone, noise = tone_in_noise()
    assert suppress(pcm(tone), RATE) == pcm(tone)  # no noise: nothing to take out (digital silence before it)
    s = NoiseSuppressor(RATE)
    stream = b"".join(s.process(pcm(tone + noise)[i:i + 320]) for i in range(0, 2 * len(tone), 320))
    assert len(stream) == 2 * len(tone)  # every 20 ms frame gets 20 ms back
    stream += s.flush()
    delay = 2 * s.delay
    assert stream[delay:delay + 2 * len(tone)] == suppress(pcm(tone + noise), RATE)


def test_the_state_is_per_call():
    tone, noise = tone_in_noise()
    loud_line = pcm(np.random.default_rng(7).standard_normal(RATE) * 3000)
    first, second = NoiseSuppressor(RATE), NoiseSuppressor(RATE)
    for i in range(0, len(loud_line), 320):
        first.process(loud_line[i:i + 320])  # one caller on a loud line
    # The other caller's audio comes out as from a fresh suppressor: nothing learnt from the first line.
    fresh = NoiseSuppressor(RATE)
    audio = pcm(tone + noise)
    chunks = [audio[i:i + 320] for i in range(0, len(audio), 320)]
    assert [second.process(c) for c in chunks] == [fresh.process(c) for c in chunks]
    # ... while the first, which learnt a louder noise, takes more out of the same audio until it has
    # followed the quieter line down (its first 200 ms, after twice its 32 ms delay, which still holds the loud line).
    other = NoiseSuppressor(RATE)
    taken, kept = (samples(b"".join(s.process(c) for c in chunks))[2 * first.delay:RATE // 5] for s in (first, other))
    assert np.sum(taken ** 2) < 0.5 * np.sum(kept ** 2)
