#!/usr/bin/env python3
"""Two recognisers on the same answers: PocketSphinx alone, Whisper alone, and the cascades between them.

  nice -n 10 .venv/bin/python bench/speech_cascade.py                 # record, decode, report (cached)
  nice -n 10 .venv/bin/python bench/speech_cascade.py --report-only   # the tables again from the cache

Recordings are made here with three synthesisers (telephony.audio.synthesise) from the dev answers in
bench/speech_dev_answers.en-US.tsv (written for this; not the tests' phrasings), passed through the
phone band, streamed in 20 ms frames through speech/session.py with PocketSphinx and the answer kind's
language model (as /media does), and the held utterance decoded by Whisper (speech.whisper_engine.decode,
one thread, the kind's prompt). An answer is right when its meaning (understanding.confidence.answer_key)
is the meaning of the words said. CPU is process time per answer. Prints, per kind: each combination's
accuracy and CPU, and the reliability of each state (the calibration of understanding.confidence).
Needs faster-whisper and a Whisper model (speech.whisper_engine.model_path); not a test.
"""
from __future__ import annotations

import os

for _name, _value in {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}.items():
    os.environ.setdefault(_name, _value)  # before NumPy loads: as the Whisper worker runs

import argparse
import json
import sys
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from speech_accuracy import phone_recording  # noqa: E402

DEV = os.path.join(ROOT, "bench", "speech_dev_answers.en-US.tsv")
VOICES = ["espeak-ng:en-us", "flite:awb", "flite:kal16", "festival:cmu_us_slt_arctic_hts"]
CACHE = os.path.join("/tmp", "speech_cascade_cache.json")


def dev_answers() -> list[tuple[str, str]]:
    with open(DEV, encoding="utf-8") as f:
        return [tuple(line.rstrip("\n").split("\t")) for line in f if line.strip() and not line.startswith("#")]


def record(voices, kinds) -> list[dict]:
    from config import load_ivr_config
    from speech.cascade import hint, menu_labels
    from speech.grammar import grammar_for_config
    from speech.pocketsphinx_engine import PocketSphinxEngine
    from speech.session import SessionLimits, SpeechSession
    from speech.whisper_engine import _load, decode, model_path

    config = load_ivr_config()
    sphinx = PocketSphinxEngine("en-US", workers=0)
    whisper = _load(model_path())
    rows = []
    for kind, said in dev_answers():
        if kind not in kinds:
            continue
        grammar = grammar_for_config(kind, "en-US", config)
        prompt = hint(kind, "en-US", menu_labels(config, "en-US"))
        for voice in voices:
            pcm = phone_recording(said, voice)
            started = time.process_time()
            session = SpeechSession(sphinx.recognizer(8000, grammar), SessionLimits(), keep_audio=True)
            outcome = None
            for i in range(0, len(pcm), 320):
                outcome = session.feed_audio(pcm[i:i + 320])
                if outcome:
                    break
            outcome = outcome or session.hangup()
            first_cpu = time.process_time() - started
            started = time.process_time()
            second, second_confidence = decode(whisper, session.utterance, 8000, prompt, "en-US") \
                if session.utterance else ("", 0.0)
            rows.append({"kind": kind, "said": said, "voice": voice, "first": outcome.transcript,
                         "first_cpu": first_cpu, "second": second, "second_confidence": second_confidence,
                         "second_cpu": time.process_time() - started})
            print(f"{kind:7} {voice:32} {said!r:45} ps={outcome.transcript!r} wh={second!r}", flush=True)
    return rows


def combinations():
    """name -> (policy, pick): policy is 'never', 'only' (Whisper alone), 'always' or 'unsure'."""
    return {"pocketsphinx alone": ("never", "first"), "whisper alone": ("only", "second"),
            "cascade: Whisper when unsure, prefer PocketSphinx": ("unsure", "first"),
            "cascade: Whisper when unsure, prefer Whisper": ("unsure", "second"),
            "cascade: Whisper always, prefer PocketSphinx": ("always", "first"),
            "cascade: Whisper always, prefer Whisper": ("always", "second"),
            "cascade: Whisper always, digits merged": ("always", "merge"),
            "cascade: Whisper always, its words whenever it heard any": ("always", "heard")}


def report(rows) -> None:
    from config import load_ivr_config
    from understanding import Understanding
    from speech.cascade import PICK, POLICY
    from understanding.confidence import answer_key, choose, confidence

    u = Understanding.for_config(load_ivr_config())
    key = lambda kind, text: answer_key(kind, text, "en-US", u)  # noqa: E731
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    print("\n| kind | combination | right | CPU-s per answer |\n|---|---|---|---|")
    reliability = defaultdict(lambda: [0, 0])
    for kind, items in sorted(by_kind.items()):
        for name, (policy, pick) in combinations().items():
            if pick == "merge" and kind != "digits":
                continue
            right = cpu = 0
            for row in items:
                truth = key(kind, row["said"])
                first, second, spent = row["first"], None, row["first_cpu"]
                if policy == "only":
                    first, spent = None, row["second_cpu"]
                    second = row["second"]
                elif policy == "always" or policy == "unsure" and key(kind, first) is None:
                    second, spent = row["second"], spent + row["second_cpu"]
                heard, _, answer_state = choose(kind, first, second, "en-US", u, pick)
                ok = key(kind, heard) == truth
                right += ok
                cpu += spent
                if (policy, pick) in (("never", "first"), ("always", PICK[kind])):
                    reliability[(kind, policy, answer_state)][0] += ok
                    reliability[(kind, policy, answer_state)][1] += 1
            print(f"| {kind} | {name} | {right}/{len(items)} ({right / len(items):.0%}) | {cpu / len(items):.2f} |")
    print("\n| kind | the shipped cascade: right | acted on wrong without a confirmation |\n|---|---|---|")
    for kind, items in sorted(by_kind.items()):
        right = wrong_acted = 0
        for row in items:
            truth = key(kind, row["said"])
            first = row["first"]
            second = row["second"] if POLICY[kind] == "always" or key(kind, first) is None else None
            heard, _, answer_state = choose(kind, first, second, "en-US", u, PICK[kind])
            got, sure = key(kind, heard), confidence(kind, answer_state)
            right += got == truth
            if got is not None and got != truth and acted_unconfirmed(kind, heard, sure, u):
                wrong_acted += 1
        print(f"| {kind} | {right}/{len(items)} | {wrong_acted}/{len(items)} |")
    # The calibrated confidence is the share right with one right and one wrong answer added (Laplace):
    # a state seen 3 times, all right, is not "certain".
    print("\n| kind | passes | state | right | share right | confidence (smoothed) |\n|---|---|---|---|---|---|")
    for (kind, policy, answer_state), (ok, n) in sorted(reliability.items()):
        passes = "PocketSphinx only" if policy == "never" else "both"
        print(f"| {kind} | {passes} | {answer_state} | {ok}/{n} | {ok / n:.2f} | {(ok + 1) / (n + 2):.2f} |")


def acted_unconfirmed(kind: str, heard: str, sure: float, u) -> bool:
    """Whether the IVR acts on this answer without asking: numbers are always read back, times below
    understanding.answers.CONFIRM_BELOW are read back, a doubtful skill is confirmed, yes/no is acted on."""
    from understanding.answers import confirm_below

    if kind == "digits":
        return False
    if kind == "time":
        return sure >= confirm_below("time")
    if kind == "skill":
        return not u.skill(heard, "en-US", sure).needs_confirmation
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voices", nargs="+", default=VOICES)
    parser.add_argument("--kinds", nargs="+", default=["yes_no", "time", "digits", "skill"])
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    if args.report_only:
        with open(CACHE) as f:
            rows = json.load(f)
    else:
        rows = record(args.voices, set(args.kinds))
        if os.path.exists(CACHE):  # re-recording some kinds keeps the others' rows
            with open(CACHE) as f:
                rows += [r for r in json.load(f) if r["kind"] not in args.kinds]
        with open(CACHE, "w") as f:
            json.dump(rows, f)
    report(rows)


if __name__ == "__main__":
    main()
