#!/usr/bin/env python3
"""Make the phone-audio fixtures the speech tests use, once; the WAVs are committed.

  python scripts/make_speech_fixtures.py

Needs Debian's espeak-ng, sox and pocketsphinx-testdata. Every file is what a
phone line delivers: 8 kHz, mono, 8-bit mu-law, band-limited to 300-3400 Hz.

- ko/: Korean words spoken by espeak-ng (its Korean voice is poor, so only words
  that the small Vosk Korean model recognises reliably in a grammar are kept),
  with 0.5 s of silence before and 1.5 s after so the end of speech is there.
- en/tts_en_*: US English menu answers spoken by espeak-ng (synthetic callers).
- en/: real recordings of people from pocketsphinx-testdata (CMU, BSD-style
  licence), the "cards" set, "go forward ten meters" and a TIDIGITS digit string,
  converted the same way.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "audio")
TESTDATA = "/usr/share/pocketsphinx/test/data"
PHONE = ["-r", "8000", "-c", "1", "-e", "mu-law", "-D"]  # -D: no dither, so reruns give the same bytes
BAND = ["sinc", "300-3400"]

KOREAN = {  # file name -> what is said
    "ko_gisul_jiwon": "기술 지원",  # technical support
    "ko_ne": "네",  # yes
    "ko_aniyo": "아니요",  # no
    "ko_sangdamwon": "상담원",  # an agent
}


ENGLISH_TTS = {  # synthetic US English callers (espeak-ng), for menu routing on the CLI and benchmarks
    "tts_en_support": ("technical support", "support"),
    "tts_en_internet": ("my internet is not working", "support"),
    "tts_en_billing": ("I have a question about my bill", "billing"),
    "tts_en_refund": ("refund", "billing"),
    "tts_en_sales": ("I want to buy a new contract", "sales"),
    "tts_en_agent": ("operator", "general"),
    "tts_en_yes": ("yes", "yes"),
    "tts_en_no": ("no", "no"),
}


def run(*args: str) -> None:
    subprocess.run(args, check=True, stderr=subprocess.DEVNULL)


def korean() -> dict[str, str]:
    os.makedirs(os.path.join(OUT, "ko"), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in KOREAN.items():
            raw = os.path.join(tmp, name + ".wav")
            run("espeak-ng", "-v", "ko", "-s", "150", "-w", raw, text)
            run("sox", raw, *PHONE, os.path.join(OUT, "ko", name + ".wav"), *BAND, "pad", "0.5", "1.5")
    return {name + ".wav": text for name, text in KOREAN.items()}


def english() -> dict[str, str]:
    os.makedirs(os.path.join(OUT, "en"), exist_ok=True)
    transcripts = {}
    with open(os.path.join(TESTDATA, "cards", "cards.transcription")) as f:
        for line in f:
            text, _, ident = line.strip().rpartition("(")
            ident = ident.rstrip(")")
            text = text.replace("<s>", "").replace("</s>", "").strip()
            name = f"cards_{ident}.wav"
            run("sox", os.path.join(TESTDATA, "cards", ident + ".wav"), *PHONE, os.path.join(OUT, "en", name),
                *BAND, "pad", "0.2", "1.0")
            transcripts[name] = text
    run("sox", "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1",
        os.path.join(TESTDATA, "goforward.raw"), *PHONE, os.path.join(OUT, "en", "goforward.wav"), *BAND)
    transcripts["goforward.wav"] = "go forward ten meters"
    # A TIDIGITS recording (16 kHz raw); its name is the digits said, z = zero.
    run("sox", "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1",
        os.path.join(TESTDATA, "tidigits", "dhd.2934z.raw"), *PHONE, os.path.join(OUT, "en", "tidigits_2934z.wav"),
        *BAND)
    transcripts["tidigits_2934z.wav"] = "two nine three four zero"
    with tempfile.TemporaryDirectory() as tmp:
        for name, (text, _) in ENGLISH_TTS.items():
            raw = os.path.join(tmp, name + ".wav")
            run("espeak-ng", "-v", "en-us", "-s", "150", "-w", raw, text)
            run("sox", raw, *PHONE, os.path.join(OUT, "en", name + ".wav"), *BAND, "pad", "0.5", "1.5")
            transcripts[name + ".wav"] = text
    return transcripts


def main() -> int:
    manifest = {
        "about": "8 kHz mono mu-law phone audio made by scripts/make_speech_fixtures.py",
        "ko": korean(),
        "en": english(),
        "en_source": "Debian pocketsphinx-testdata (CMU Sphinx test recordings), converted to the phone band",
        "en_cards_grammar": "cards.gram in the same package: ranks, 'of', suits",
        "en_tts_expected": {name + ".wav": expected for name, (_, expected) in ENGLISH_TTS.items()},
    }
    with open(os.path.join(OUT, "transcripts.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"wrote {len(manifest['ko']) + len(manifest['en'])} files under {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
