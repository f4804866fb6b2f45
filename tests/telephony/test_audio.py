"""telephony.audio: words spoken by a synthesiser, as a phone line carries them."""
from __future__ import annotations

import pytest

from speech.audio import read_wav_bytes
from telephony.audio import SILENCE_FRAME, AudioError, speak, synthesise, voice_end_seconds


@pytest.mark.parametrize("voice", ["en-us", "espeak-ng:en-gb", "flite:slt", "festival:cmu_us_slt_arctic_hts"])
def test_each_synthesiser_speaks_on_the_phone_line(voice):
    wav = read_wav_bytes(synthesise("billing please", voice))
    assert wav.seconds > 0.3
    line = speak("billing please", voice=voice)  # mu-law at 8 kHz: one byte per sample
    assert line.startswith(SILENCE_FRAME * 25) and line.endswith(SILENCE_FRAME * 75)
    assert 0.5 < voice_end_seconds(line) < len(line) / 8000 - 1.4


def test_an_unknown_synthesiser_is_refused_in_one_line():
    with pytest.raises(AudioError, match="unknown synthesiser 'say'"):
        synthesise("hello", "say:alex")
