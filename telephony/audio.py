"""The caller's audio as Twilio carries it: 8 kHz mono G.711 mu-law, in 160-byte (20 ms) frames.

Any WAV speech.audio reads (8-32 bit PCM, float, mu-law, A-law, any rate, mono or stereo) or raw 16-bit
PCM is brought to the phone line with speech.audio.phone_band (8 kHz, 300-3400 Hz) and mu-law encoded.
`speak()` synthesises words for the dev phone's `--say` with Debian's espeak-ng, or, for the speech
tests and benches, with another synthesiser's voice (`flite:slt`, `festival:cmu_us_slt_arctic_hts`):
recognition measured on one synthesiser alone says more about that synthesiser than about callers.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile

from speech.audio import WavError, phone_band, read_wav_bytes, rms_dbfs
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


# Synthesiser -> (the program, the Debian package that has it).
SYNTHESISERS = {"espeak-ng": ("espeak-ng", "espeak-ng"), "flite": ("flite", "flite"),
                "festival": ("text2wave", "festival festvox-us-slt-hts")}


SYNTHESIS_TIMEOUT = 20  # seconds: a synthesiser that hangs must not hold a request or a test forever


def synthesise(text: str, voice: str, words_per_minute: int = 150) -> bytes:
    """A WAV of `text` said by `voice`: "espeak-ng:<voice>" (or a bare espeak-ng voice such as "en-us+f3"),
    "flite:<kal16|awb|rms|slt>" or "festival:<voice>" (e.g. cmu_us_slt_arctic_hts)."""
    synthesiser, _, name = voice.rpartition(":")
    synthesiser = synthesiser or "espeak-ng"
    if synthesiser not in SYNTHESISERS:
        raise AudioError(f"unknown synthesiser {synthesiser!r}; one of {', '.join(SYNTHESISERS)}")
    program, package = SYNTHESISERS[synthesiser]
    if shutil.which(program) is None:
        raise AudioError(f"{program} is not installed (Debian: apt-get install {package}; "
                         "scripts/install does it, with --tests for flite and festival)")
    if synthesiser == "espeak-ng":
        command = ["espeak-ng", "-v", name, "-s", str(words_per_minute), "--stdout", text]
    elif synthesiser == "flite":
        command = ["flite", "-voice", name, "-t", text, "-o", "/dev/stdout"]
    else:  # text2wave cannot write to a pipe
        with tempfile.NamedTemporaryFile(suffix=".wav") as out:
            subprocess.run(["text2wave", "-eval", f"(voice_{name})", "-o", out.name], input=text.encode(),
                           check=True, capture_output=True, timeout=SYNTHESIS_TIMEOUT)
            return out.read()
    return subprocess.run(command, check=True, capture_output=True, timeout=SYNTHESIS_TIMEOUT).stdout


def speak(text: str, language: str = "en-US", words_per_minute: int = 150, voice: str | None = None) -> bytes:
    """`text` spoken by espeak-ng in `language` (or by `voice`, see synthesise), on the phone line
    (mu-law 8 kHz), with 0.5 s of quiet before and 1.5 s after so the end of speech is there."""
    voice = voice or ESPEAK_VOICES.get(language, language.split("-")[0].lower())
    wav = synthesise(text, voice, words_per_minute)
    return SILENCE_FRAME * 25 + wav_bytes_to_mulaw(wav, voice) + SILENCE_FRAME * 75


def voice_end_seconds(mulaw: bytes, speech_dbfs: float = -45.0) -> float:
    """Where the voice in `mulaw` ends (end of its last 20 ms frame louder than `speech_dbfs`)."""
    last = 0
    for index, frame in enumerate(frames(mulaw)):
        if rms_dbfs(mulaw_to_pcm16(frame)) >= speech_dbfs:
            last = index + 1
    return last * FRAME_BYTES / MULAW_RATE
