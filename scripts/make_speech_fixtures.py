#!/usr/bin/env python3
"""Make the phone-audio fixtures the speech tests use, once; the WAVs are committed.

  python scripts/make_speech_fixtures.py

Needs Debian's espeak-ng, sox and pocketsphinx-testdata. Every file is what a
phone line delivers: 8 kHz, mono, 8-bit mu-law, band-limited to 300-3400 Hz.

- ko/: Korean words spoken by espeak-ng (its Korean voice is poor, so only words
  that the small Vosk Korean model recognises reliably in a grammar are kept),
  with 0.5 s of silence before and 1.5 s after so the end of speech is there;
  and one answer said in two parts, 상담원 ... 연결 ("an agent ... connect me"),
  with a pause inside it longer than Vosk's own endpointer waits: quiet, and
  filled with a sound in the caller's room (band-limited noise at -40 dBFS,
  seeded), louder than the session's voice floor (-45 dBFS).
- en/tts_en_*: US English menu answers spoken by espeak-ng (synthetic callers).
- en/: real recordings of people from pocketsphinx-testdata (CMU, BSD-style
  licence), the "cards" set, "go forward ten meters" and a TIDIGITS digit string,
  converted the same way.

  python scripts/make_speech_fixtures.py --answers dev|test [--out DIR]

- The spoken answers (bench/speech_dev_answers.en-US.tsv for tuning,
  bench/speech_test_answers.en-US.tsv held out): every phrasing in several voices of three
  synthesisers (espeak-ng, Flite, Festival), on the phone line (8 kHz mu-law, 300-3400 Hz),
  clean and with seeded line noise. Not committed: made when a bench needs them
  (answer_recordings), kept under DIR (default /tmp/ivr-speech-answers) by content, never downloaded.
"""
from __future__ import annotations

import argparse
import hashlib
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


PAUSED_KOREAN = {  # file name -> (first part, pause in seconds, second part, level of the pause's noise or None)
    "ko_sangdamwon_pause_yeongyeol": ("상담원", 1.1, "연결", None),
    "ko_sangdamwon_noise_yeongyeol": ("상담원", 1.2, "연결", -40.0),
}


def korean_paused() -> dict[str, str]:
    """Answers said in two parts with a pause between them (PAUSED_KOREAN), on the phone line as above."""
    import numpy as np

    sys.path.insert(0, ROOT)
    from speech.audio import phone_band, read_wav, write_mulaw_wav

    made = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (first, pause, second, noise_dbfs) in PAUSED_KOREAN.items():
            parts = []
            for i, text in enumerate((first, second)):
                raw, line = os.path.join(tmp, f"{name}{i}.wav"), os.path.join(tmp, f"{name}{i}.line.wav")
                run("espeak-ng", "-v", "ko", "-s", "150", "-w", raw, text)
                run("sox", raw, *PHONE, line, *BAND)
                x = np.frombuffer(read_wav(line).pcm16, "<i2").astype(np.float64)
                heard = np.flatnonzero(np.abs(x) > 100)  # without espeak-ng's own silence: the pause is `pause`
                parts.append(x[heard[0]:heard[-1] + 1])
            gap = np.zeros(int(8000 * pause))
            if noise_dbfs is not None:
                rng = np.random.default_rng(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
                hiss = np.frombuffer(phone_band((rng.standard_normal(len(gap)) * 3000).astype("<i2").tobytes(), 8000),
                                     "<i2").astype(np.float64)
                gap = hiss / float(np.sqrt(np.mean(hiss ** 2))) * 32768 * 10 ** (noise_dbfs / 20)
            lead, tail = np.zeros(4000), np.zeros(12000)  # 0.5 s before, 1.5 s after, as the words above
            pcm = np.clip(np.round(np.concatenate([lead, parts[0], gap, parts[1], tail])), -32768, 32767)
            write_mulaw_wav(os.path.join(OUT, "ko", name + ".wav"), pcm.astype("<i2").tobytes())
            made[name + ".wav"] = f"{first} {second}"
    return made


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


ANSWER_SETS = {"dev": "speech_dev_answers.en-US.tsv", "test": "speech_test_answers.en-US.tsv"}
# Voices per set: the held-out set uses a Flite voice the dev set never had (slt), the same espeak-ng
# and Festival voices (the only Festival voice installed); each voice clean and with line noise.
ANSWER_VOICES = {"dev": ["espeak-ng:en-us", "flite:awb", "flite:kal16", "festival:cmu_us_slt_arctic_hts"],
                 "test": ["espeak-ng:en-us", "flite:slt", "festival:cmu_us_slt_arctic_hts"]}
NOISE_SNR_DB = 15.0  # line noise (band-limited, seeded) this far below the speech
ANSWERS_DIR = os.path.join(tempfile.gettempdir(), "ivr-speech-answers")


def answer_rows(set_name: str) -> list[tuple[str, str, str | None]]:
    """(kind, what is said, what it means or None) per line of the set's TSV."""
    with open(os.path.join(ROOT, "bench", ANSWER_SETS[set_name]), encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip() and not line.startswith("#")]
    return [(r[0], r[1], r[2] if len(r) > 2 else None) for r in rows]


def with_line_noise(mulaw: bytes, seed: str, snr_db: float = NOISE_SNR_DB) -> bytes:
    """`mulaw` with band-limited white noise NOISE_SNR_DB below the speech's loudness, seeded by `seed`."""
    import numpy as np

    from speech.audio import phone_band
    from speech.twilio_media import mulaw_to_pcm16, pcm16_to_mulaw

    x = np.frombuffer(mulaw_to_pcm16(mulaw), "<i2").astype(np.float64)
    loud = x[np.abs(x) > 0.05 * np.abs(x).max()] if len(x) else x
    level = float(np.sqrt(np.mean(loud ** 2))) if len(loud) else 0.0
    rng = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16))
    noise = rng.standard_normal(len(x)) * 3000.0
    noise = np.frombuffer(phone_band(noise.astype("<i2").tobytes(), 8000), "<i2").astype(np.float64)
    scale = level / (float(np.sqrt(np.mean(noise ** 2))) or 1.0) * 10 ** (-snr_db / 20)
    y = np.clip(np.round(x + noise * scale), -32768, 32767).astype("<i2").tobytes()
    return pcm16_to_mulaw(y)


def answer_recordings(set_name: str, out_dir: str = ANSWERS_DIR, voices: list[str] | None = None) -> list[dict]:
    """Every answer of the set in every voice, clean and noisy, as mu-law files under `out_dir` (made
    once per content: text, voice, noise). Rows: kind, said, meant, voice, noise, path."""
    sys.path.insert(0, ROOT)
    from telephony.audio import speak

    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for kind, said, meant in answer_rows(set_name):
        for voice in voices or ANSWER_VOICES[set_name]:
            clean = None
            for noise in (False, True):
                name = hashlib.sha256(f"{said}|{voice}|{noise}|{NOISE_SNR_DB}".encode()).hexdigest()[:20]
                path = os.path.join(out_dir, name + ".ulaw")
                if not os.path.exists(path):
                    clean = clean or speak(said, voice=voice)
                    audio = with_line_noise(clean, f"{said}|{voice}") if noise else clean
                    with open(f"{path}.{os.getpid()}.tmp", "wb") as f:
                        f.write(audio)
                    os.replace(f"{path}.{os.getpid()}.tmp", path)
                rows.append({"kind": kind, "said": said, "meant": meant, "voice": voice, "noise": noise,
                             "path": path})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", choices=sorted(ANSWER_SETS), help="make a set of spoken answers instead")
    parser.add_argument("--out", default=ANSWERS_DIR)
    args = parser.parse_args()
    if args.answers:
        rows = answer_recordings(args.answers, args.out)
        print(f"{len(rows)} recordings of the {args.answers} answers under {args.out}")
        return 0
    manifest = {
        "about": "8 kHz mono mu-law phone audio made by scripts/make_speech_fixtures.py",
        "ko": {**korean(), **korean_paused()},
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
