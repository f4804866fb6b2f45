import numpy as np

from speech.audio import Upsampler, read_wav, rms_dbfs, write_mulaw_wav
from speech.twilio_media import mulaw_to_pcm16, pcm16_to_mulaw


def tone(freq, rate, seconds=0.5, amplitude=10000):
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * freq * t) * amplitude).astype("<i2")


def test_mulaw_wav_round_trip(tmp_path):
    pcm = tone(440, 8000).tobytes()
    path = str(tmp_path / "t.wav")
    write_mulaw_wav(path, pcm)
    audio = read_wav(path)
    assert (audio.sample_rate, audio.encoding) == (8000, "mulaw")
    assert audio.pcm16 == mulaw_to_pcm16(pcm16_to_mulaw(pcm))
    assert abs(audio.seconds - 0.5) < 1e-9


def test_reads_committed_phone_fixtures(audio_path):
    audio = read_wav(audio_path("en", "cards_001.wav"))
    assert (audio.sample_rate, audio.encoding) == (8000, "mulaw")
    assert 1.0 < audio.seconds < 3.0


def spectrum_peak(samples, rate):
    mags = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(mags)], mags


def test_upsampler_keeps_the_tone_and_suppresses_the_image():
    x = tone(1000, 8000)
    up = Upsampler(2)
    # fed in 20 ms frames like a call: state must carry across frames
    y = np.frombuffer(b"".join(up.process(x[i:i + 160].tobytes()) for i in range(0, len(x), 160)), "<i2")
    assert len(y) == 2 * len(x)
    peak, mags = spectrum_peak(y[200:].astype(float), 16000)
    assert abs(peak - 1000) < 20
    freqs = np.fft.rfftfreq(len(y) - 200, 1 / 16000)
    image = mags[np.argmin(np.abs(freqs - 7000))]  # zero-stuffing mirrors 1 kHz to 7 kHz
    assert image < mags.max() / 100  # at least 40 dB down


def test_upsampler_chunked_equals_whole():
    x = tone(700, 8000).tobytes()
    whole = Upsampler(2).process(x)
    up = Upsampler(2)
    chunked = b"".join(up.process(x[i:i + 320]) for i in range(0, len(x), 320))
    assert whole == chunked


def test_rms_dbfs():
    assert rms_dbfs(b"\0\0" * 160) == float("-inf")
    full = np.full(160, 32767, "<i2").tobytes()
    assert abs(rms_dbfs(full)) < 0.01
    assert -25 < rms_dbfs(tone(440, 8000, amplitude=3000).tobytes()) < -20


def test_reads_24_bit_stereo_float_and_alaw_and_resamples(tmp_path):
    import struct

    from speech.audio import read_wav_bytes, resample

    x = tone(1000, 22050).astype(float) / 32768
    raw24 = np.clip(np.round(np.repeat(x, 2) * 8388607), -8388608, 8388607).astype("<i4")
    body = np.frombuffer(raw24.tobytes(), np.uint8).reshape(-1, 4)[:, :3].tobytes()
    fmt = struct.pack("<HHIIHH", 1, 2, 22050, 22050 * 6, 6, 24)
    wav = b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt \
        + b"data" + struct.pack("<I", len(body)) + body
    audio = read_wav_bytes(wav)
    assert (audio.sample_rate, audio.encoding) == (22050, "pcm24") and abs(audio.seconds - 0.5) < 1e-3
    down = np.frombuffer(resample(audio.pcm16, 22050, 8000), "<i2").astype(float)
    assert len(down) == 4000
    peak, _ = spectrum_peak(down[200:-200], 8000)
    assert abs(peak - 1000) < 20 and 9000 < np.abs(down[200:-200]).max() < 10500


def test_not_a_wav_is_a_wav_error():
    import pytest

    from speech.audio import WavError, read_wav_bytes

    for data, why in ((b"ID3\x03 an mp3", "input is not a WAV file"), (b"", "input is not a WAV file"),
                      (b"RIFF\x04\x00\x00\x00WAVE", "input: WAV without a fmt or data chunk")):
        with pytest.raises(WavError, match=why):
            read_wav_bytes(data)
