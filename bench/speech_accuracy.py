#!/usr/bin/env python3
"""How often a spoken answer reaches the right meaning, on telephone audio, PocketSphinx US English.

  python bench/speech_accuracy.py                         # every answer kind, eight voices
  python bench/speech_accuracy.py --kinds skill --voices en-us en-gb
  python bench/speech_accuracy.py --listen phrases        # the old bounded phrase grammar, for comparison
  python bench/speech_accuracy.py --front-end fixed-cmn   # the old front end (fixed cepstral mean, no noise floor)
  python bench/speech_accuracy.py --kinds skill --via cli # each recording a mu-law WAV, read as `ivr speech recognize` does

Whole calls through the real /media endpoint: bench/speech_calls.py.

Recordings are made here with three synthesisers in eight voices (espeak-ng, CMU Flite,
Festival: telephony.audio.synthesise) and passed through the phone band (8 kHz, 300-3400 Hz,
mu-law), from phrasings written apart from the operator's
examples (tests/speech/spoken_requests.en-US.tsv and the yes/no, digit and time answers
below). Each is fed in 20 ms frames through speech/session.py and the engine, as /media
does, and the transcript is read by understanding (the same classifier as calls).
A skill answer counts as right when the top skill is right (whether the IVR confirms it
first or not). Not a test: numbers go to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

REQUESTS = os.path.join(ROOT, "tests", "speech", "spoken_requests.en-US.tsv")
VOICES = ["espeak-ng:en-us", "espeak-ng:en-us+f3", "espeak-ng:en-gb", "flite:slt", "flite:rms", "flite:awb",
          "flite:kal16", "festival:cmu_us_slt_arctic_hts"]
# kind -> (what is said, what it must mean). Written for this bench, not taken from word tables.
ANSWERS = {
    "yes_no": [("yes", "yes"), ("yes please", "yes"), ("yeah that's right", "yes"), ("correct", "yes"),
               ("sure", "yes"), ("no", "no"), ("no thanks", "no"), ("nope", "no"), ("no that's wrong", "no")],
    "digits": [("two one two five five five zero one four two", "2125550142"),
               ("oh six one two three four five six seven eight", "0612345678"),
               ("four four double five one two three", "4455123"),
               ("plus three one six one two three four five", "+31612345")],
    "time": [("tomorrow at three", "tomorrow at three"), ("monday morning", "monday morning"),
             ("half past two", "half past two"), ("in an hour", "in an hour"),
             ("as soon as possible", "as soon as possible"), ("friday afternoon", "friday afternoon")],
}


def phone_recording(text: str, voice: str) -> bytes:
    """`text` said by `voice` as a phone line carries it (16-bit PCM at 8 kHz), with quiet around it."""
    from speech.twilio_media import mulaw_to_pcm16
    from telephony.audio import speak

    return mulaw_to_pcm16(speak(text, voice=voice))


def listen(engine, grammar, pcm: bytes):
    from speech.session import SessionLimits, SpeechSession

    session = SpeechSession(engine.recognizer(8000, grammar), SessionLimits())
    outcome = None
    for i in range(0, len(pcm), 320):
        outcome = session.feed_audio(pcm[i:i + 320])
        if outcome:
            break
    return outcome or session.hangup()


def recognized_by_cli(pcm: bytes, config, u) -> str | None:
    """The skill `ivr speech recognize answer.wav --lang en-US` prints for a recording."""
    from speech.audio import write_mulaw_wav
    from speech.cli import recognize_file
    from understanding.decision import context_from_config

    with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
        write_mulaw_wav(wav.name, pcm)
        return recognize_file(wav.name, "menu", "en-US", context=context_from_config(config, None, "en-US"))["skill"]


def meaning(kind: str, transcript: str, u, lang: str = "en-US"):
    if kind == "skill":
        return u.skill(transcript, lang).skill
    if kind == "yes_no":
        answer = u.yes_no(transcript, lang)
        return None if answer is None else ("yes" if answer else "no")
    if kind == "digits":
        return u.digits(transcript, lang)
    return " ".join(transcript.split())


def same_time(heard: str, said: str, u) -> bool:
    from datetime import datetime, time, timezone
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
    zone = ZoneInfo("America/New_York")
    hours = {d: (time(7), time(22)) for d in range(7)}
    a = u.callback_time(heard, "en-US", now, zone, hours)
    b = u.callback_time(said, "en-US", now, zone, hours)
    if u.wants_asap(said, "en-US"):
        return u.wants_asap(heard, "en-US")
    return a.when is not None and a.when == b.when


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", nargs="+", default=["skill", "yes_no", "digits", "time"])
    parser.add_argument("--voices", nargs="+", default=VOICES)
    parser.add_argument("--listen", choices=["model", "phrases"], default="model",
                        help="model: what grammar_for() builds (a language model from the examples or word "
                             "tables); phrases: a bounded JSGF of phrases (for skill: the old skill phrase list)")
    parser.add_argument("--front-end", choices=["current", "fixed-cmn", "no-noise", "old"], default="current")
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--every", type=int, default=1, help="every Nth skill phrasing (as bench/speech_calls.py)")
    parser.add_argument("--via", choices=["session", "cli"], default="session",
                        help="session: frames fed to the session and engine, as /media does; cli: each recording "
                             "written as a mu-law WAV file and read by `ivr speech recognize`'s code "
                             "(speech.cli.recognize_file; skill answers only)")
    args = parser.parse_args()
    if args.via == "cli" and args.kinds != ["skill"]:
        parser.error("--via cli measures skill answers only (--kinds skill)")

    import logging

    logging.disable(logging.WARNING)
    from config import load_ivr_config
    from speech import pocketsphinx_engine as ps
    from speech.grammar import Grammar, grammar_for_config, phrases_for
    from understanding import Understanding

    if args.front_end in ("fixed-cmn", "old"):
        ps.CMN_SECONDS = 0.0  # decode from the first frame with the fixed starting mean used before
    if args.front_end in ("no-noise", "old"):
        ps.NOISE_FLOOR = 0.0
    config = load_ivr_config()
    u = Understanding.for_config(config)
    engine = ps.PocketSphinxEngine("en-US", workers=0)
    items: dict[str, list[tuple[str, str]]] = {}
    with open(REQUESTS, encoding="utf-8") as f:
        items["skill"] = [tuple(line.rstrip("\n").split("\t"))
                          for line in f if line.strip() and not line.startswith("#")][::args.every]
    items.update(ANSWERS)
    rows = []
    for kind in args.kinds:
        grammar = grammar_for_config(kind, "en-US", config)
        if args.listen == "phrases":  # a bounded JSGF of phrases, no language model
            grammar = phrases_for("skill", "en-US", config.phrases_by_skill("en-US")) if kind == "skill" \
                else Grammar(list(grammar), grammar.max_phrases, kind)
        right = defaultdict(int)
        total = defaultdict(int)
        misses = []
        cpu = 0.0
        audio = 0.0
        for text, label in items[kind]:
            for voice in args.voices:
                pcm = phone_recording(text, voice)
                started = time.process_time()
                if args.via == "cli":
                    right[voice] += recognized_by_cli(pcm, config, u) == label
                    total[voice] += 1
                    cpu += time.process_time() - started
                    audio += len(pcm) / 16000
                    continue
                outcome = listen(engine, grammar, pcm)
                cpu += time.process_time() - started
                audio += len(pcm) / 16000
                if kind == "time":
                    ok = same_time(outcome.transcript, text, u)
                else:
                    ok = meaning(kind, outcome.transcript, u) == label
                right[voice] += ok
                total[voice] += 1
                if not ok:
                    misses.append(f"{kind}: {text!r} ({voice}) heard {outcome.transcript!r}")
        n, r = sum(total.values()), sum(right.values())
        synths = sorted({v.rpartition(":")[0] or "espeak-ng" for v in args.voices})
        per_voice = ", ".join(f"{s} {sum(right[v] for v in args.voices if v.startswith(s))}/"
                              f"{sum(total[v] for v in args.voices if v.startswith(s))}" for s in synths)
        per_voice += " (" + ", ".join(f"{v.rpartition(':')[2]} {right[v]}/{total[v]}" for v in args.voices) + ")"
        rows.append((kind, r, n, per_voice, cpu / audio if audio else 0))
        if args.misses:
            print("\n".join(misses), file=sys.stderr)
    print(f"via={args.via} listen={args.listen} front-end={args.front_end} voices={' '.join(args.voices)}")
    print("| answer kind | right | per voice | CPU per audio second |")
    print("| --- | --- | --- | --- |")
    for kind, r, n, per_voice, rtf in rows:
        print(f"| {kind} | {r}/{n} = {100 * r / n:.0f}% | {per_voice} | {rtf:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
