#!/usr/bin/env python3
"""Two recognisers on the same answers: PocketSphinx alone, Whisper alone, and the cascades between them.

  nice -n 10 python bench/speech_cascade.py [--set dev|test]            # record, decode, report (cached)
  nice -n 10 python bench/speech_cascade.py --set test --report-only   # the tables again from the cache
  nice -n 10 python bench/speech_cascade.py --set test --prompts old.json --cache before  # other prompts
  nice -n 10 python bench/speech_cascade.py --set dev --unstructured --cache lm  # numbers: the language model
  nice -n 10 python bench/speech_cascade.py --set dev --window full --cache w30   # Whisper's window: 30 s
  nice -n 10 python bench/speech_cascade.py --set dev --window 10 --cache w10     # the answer + 10 s, every kind
  nice -n 10 python bench/speech_cascade.py --set dev --kinds time --held-to-words digits time --cache tw  # times:
                                                                   # Whisper writes only the words of a time
  nice -n 10 python bench/speech_cascade.py --set dev --kinds yes_no --held-to-words digits time yes_no --cache yn
                                                                   # yes/no: the words of a yes, a no, a neither
  nice -n 10 python bench/speech_cascade.py --set dev --denoise first second --cache dn  # the noise suppressor
                                                                   # (speech/denoise.py) before both passes

Recordings are made by scripts/make_speech_fixtures.py (answer_recordings) with three synthesisers from
the dev answers (bench/speech_dev_answers.en-US.tsv: for tuning) or the held-out test answers
(bench/speech_test_answers.en-US.tsv: never tuned on), each voice clean and with line noise, on the
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

sys.path.insert(0, os.path.join(ROOT, "scripts"))

from make_speech_fixtures import answer_recordings  # noqa: E402

ENDPOINT_BY_ANSWER = True  # --no-wait-for-whole-number: a pause after any words ends a phone number (before)
# What the third column of an answer set means, per kind (None: words that must be asked again).
MEANT = {"yes_no": {"yes": True, "no": False, "neither": None}, "time": {"asap": "asap", "none": None}}


def cache_path(set_name: str, label: str) -> str:
    return os.path.join("/tmp", f"speech_cascade_{set_name}_{label}.json")


def truth(row, u):
    """What the answer means: the third column when the set gives one, else what the words say."""
    from understanding.confidence import answer_key

    meant = row.get("meant")
    if meant is None:
        return answer_key(row["kind"], row["said"], "en-US", u)
    return MEANT.get(row["kind"], {}).get(meant, meant)


def ident(row) -> tuple:
    return row["kind"], row["said"], row["voice"], row["noise"]


def record(set_name, kinds, prompts=None, every=1, done=(), windows=None, save=None) -> list[dict]:
    from config import load_ivr_config
    from speech.cascade import hint, menu_labels
    from speech.grammar import grammar_for_config
    from speech.pocketsphinx_engine import PocketSphinxEngine
    from speech.session import SessionLimits, SpeechSession
    from speech.twilio_media import mulaw_to_pcm16
    from speech.whisper_engine import _load, decode, model_path
    from understanding.answers import completeness

    config = load_ivr_config()
    sphinx = PocketSphinxEngine("en-US", workers=0)
    whisper = _load(model_path())
    rows = []
    for item in answer_recordings(set_name)[::every]:
        kind, said, voice = item["kind"], item["said"], item["voice"]
        if kind not in kinds or ident(item) in done:
            continue
        grammar = grammar_for_config(kind, "en-US", config)
        prompt = (prompts or {}).get(kind) or hint(kind, "en-US", menu_labels(config, "en-US"))
        prompt = prompt.format(labels=menu_labels(config, "en-US")) if "{labels}" in prompt else prompt
        with open(item["path"], "rb") as f:
            pcm = mulaw_to_pcm16(f.read())
        started = time.process_time()
        session = SpeechSession(sphinx.recognizer(8000, grammar), SessionLimits(), keep_audio=True,
                                complete=completeness(kind, "en-US") if ENDPOINT_BY_ANSWER else None)
        outcome = None
        for i in range(0, len(pcm), 320):
            outcome = session.feed_audio(pcm[i:i + 320])
            if outcome:
                break
        outcome = outcome or session.hangup()
        first_cpu = time.process_time() - started
        started = time.process_time()
        second, second_confidence = decode(whisper, session.utterance, 8000, prompt, "en-US", kind, windows) \
            if session.utterance else ("", 0.0)
        rows.append({**item, "first": outcome.transcript,
                     "first_cpu": first_cpu, "second": second, "second_confidence": second_confidence,
                     "second_cpu": time.process_time() - started})
        print(f"{kind:7} {voice:32} {'noisy' if item['noise'] else 'clean'} {said!r:45} "
              f"ps={outcome.transcript!r} wh={second!r}", flush=True)
        if save is not None and len(rows) % 25 == 0:
            save(rows)  # a long run stopped half-way keeps what it decoded
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


_CONFIG = []


def _config():
    from config import load_ivr_config

    if not _CONFIG:
        _CONFIG.append(load_ivr_config())
    return _CONFIG[0]


def shipped(row, u):
    """(meaning heard, confidence, CPU-s) of one answer through the shipped cascade (speech/cascade.py)."""
    from speech.cascade import PICK, POLICY, hint, menu_labels
    from understanding.confidence import answer_key, choose, confidence

    kind, first = row["kind"], row["first"]
    wants = POLICY[kind] == "always" or POLICY[kind] == "unsure" and answer_key(kind, first, "en-US", u) is None
    second = row["second"] if wants else None
    prompt = hint(kind, "en-US", menu_labels(_config(), "en-US"))  # what Whisper was prompted with
    heard, _, answer_state = choose(kind, first, second, "en-US", u, PICK[kind], prompt)
    cpu = row["first_cpu"] + (row["second_cpu"] if wants else 0.0)
    return heard, answer_key(kind, heard, "en-US", u), confidence(kind, answer_state), answer_state, cpu


BUCKETS = [(0.0, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 1.01)]


def report(rows) -> None:
    from config import load_ivr_config
    from understanding import Understanding
    from speech.cascade import PICK
    from understanding.confidence import answer_key, choose

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
                first, second, spent = row["first"], None, row["first_cpu"]
                if policy == "only":
                    first, spent = None, row["second_cpu"]
                    second = row["second"]
                elif policy == "always" or policy == "unsure" and key(kind, first) is None:
                    second, spent = row["second"], spent + row["second_cpu"]
                heard, _, answer_state = choose(kind, first, second, "en-US", u, pick)
                ok = key(kind, heard) == truth(row, u)
                right += ok
                cpu += spent
                if (policy, pick) in (("never", "first"), ("always", PICK[kind])):
                    reliability[(kind, policy, answer_state)][0] += ok
                    reliability[(kind, policy, answer_state)][1] += 1
            print(f"| {kind} | {name} | {right}/{len(items)} ({right / len(items):.0%}) | {cpu / len(items):.2f} |")
    print("\n| kind | the shipped cascade: right | clean | noisy | acted on wrong without a confirmation "
          "| confirmed, read back or asked again | CPU-s per answer |\n|---|---|---|---|---|---|---|")
    buckets = defaultdict(lambda: [0, 0])
    total = total_wrong = 0
    for kind, items in sorted(by_kind.items()):
        right, wrong_acted, confirmed, cpu, per_noise = 0, 0, 0, 0.0, defaultdict(lambda: [0, 0])
        for row in items:
            heard, got, sure, _, spent = shipped(row, u)
            ok = got == truth(row, u)
            right += ok
            cpu += spent
            per_noise[row.get("noise", False)][0] += ok
            per_noise[row.get("noise", False)][1] += 1
            bucket = next(b for b in BUCKETS if b[0] <= sure < b[1])
            buckets[bucket][0] += ok
            buckets[bucket][1] += 1
            acted = got is not None and acted_unconfirmed(kind, heard, got, sure, u)
            wrong_acted += acted and got != truth(row, u)
            confirmed += got is not None and not acted
        total, total_wrong = total + len(items), total_wrong + wrong_acted
        clean, noisy = per_noise[False], per_noise[True]
        print(f"| {kind} | {right}/{len(items)} ({right / len(items):.0%}) | {clean[0]}/{clean[1]} | "
              f"{noisy[0]}/{noisy[1]} | {wrong_acted}/{len(items)} | {confirmed}/{len(items)} | {cpu / len(items):.2f} |")
    print(f"| all | | | | {total_wrong}/{total} ({total_wrong / max(total, 1):.1%}) | | |")
    print("\n| confidence | answers | share right |\n|---|---|---|")
    for (low, high), (ok, n) in sorted(buckets.items()):
        print(f"| {low:.2f}-{min(high, 1.0):.2f} | {n} | {ok / n:.2f} |")
    # The calibrated confidence is the share right with one right and one wrong answer added (Laplace):
    # a state seen 3 times, all right, is not "certain".
    print("\n| kind | passes | state | right | share right | confidence (smoothed) |\n|---|---|---|---|---|---|")
    for (kind, policy, answer_state), (ok, n) in sorted(reliability.items()):
        passes = "PocketSphinx only" if policy == "never" else "both"
        print(f"| {kind} | {passes} | {answer_state} | {ok}/{n} | {ok / n:.2f} | {(ok + 1) / (n + 2):.2f} |")


def acted_unconfirmed(kind: str, heard: str, got, sure: float, u) -> bool:
    """Whether the IVR acts on this answer without asking: numbers are always read back, times below
    every spoken time is read back, "as soon as possible" below understanding.answers.CONFIRM_BELOW too (a
    day alone asks the time), a doubtful skill is confirmed, a yes or no below CONFIRM_BELOW is asked again."""
    from understanding.answers import confirm_below

    if kind == "digits" or kind == "time" and str(got).startswith("day "):
        return False
    if kind == "time":  # every spoken time is read back (ivr/answers.py); "as soon as possible" when doubtful
        return got == "asap" and sure >= confirm_below("time")
    if kind == "skill":  # below understanding.skills.NONE_FLOOR it is none of the skills: a person (the fallback)
        guess = u.skill(heard, "en-US", sure)
        return guess.skill is not None and not guess.needs_confirmation
    return sure >= confirm_below("yes_no")  # a doubtful yes or no is asked again (ivr/answers.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="dev", choices=["dev", "test"])
    parser.add_argument("--kinds", nargs="+", default=["yes_no", "time", "digits", "skill"])
    parser.add_argument("--prompts", help="a JSON file {kind: prompt} for Whisper instead of the shipped ones")
    parser.add_argument("--cache", default="shipped", help="label of the cached transcripts (per set)")
    parser.add_argument("--every", type=int, default=1, help="every Nth recording only (a quicker run)")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--unstructured", action="store_true",
                        help="PocketSphinx searches the phone-number language model, not the counted grammar "
                             "(speech.grammar.number_structure): as before numbers had one")
    parser.add_argument("--window", nargs="+", metavar="[KIND=]SECONDS|full",
                        help="Whisper's window: the answer plus SECONDS of silence (per kind, or every kind), or "
                             "'full' for 30 s; default: speech.whisper_engine.SHORT_WINDOW")
    parser.add_argument("--held-to-words", nargs="*", metavar="KIND",
                        help="the kinds Whisper may write only their own words of (speech.whisper_engine."
                             "HELD_TO_WORDS, default: as shipped); none given: no kind")
    parser.add_argument("--no-wait-for-whole-number", action="store_true",
                        help="end a phone number at the first pause after words, as before "
                             "(understanding.answers.completeness not used)")
    parser.add_argument("--denoise", nargs="*", choices=["first", "second"], metavar="PASS",
                        help="the noise suppressor (speech.denoise.APPLY) in front of PocketSphinx's stream "
                             "(first) and/or Whisper's held utterance (second); none given: off")
    parser.add_argument("--denoise-set", nargs="*", metavar="NAME=VALUE", default=[],
                        help="speech.denoise settings for this run, e.g. GAIN_FLOOR=0.3 MINIMUM_BIAS=1.0")
    args = parser.parse_args()
    for item in args.denoise_set:
        import speech.denoise

        name, _, value = item.partition("=")
        assert hasattr(speech.denoise, name), name
        setattr(speech.denoise, name, float(value))
    if args.denoise is not None:
        import speech.denoise

        speech.denoise.APPLY = set(args.denoise)
    if args.no_wait_for_whole_number:
        global ENDPOINT_BY_ANSWER
        ENDPOINT_BY_ANSWER = False
    if args.held_to_words is not None:
        import speech.whisper_engine

        speech.whisper_engine.HELD_TO_WORDS = set(args.held_to_words)
    windows = None
    if args.window:
        windows = {}
        for item in args.window:
            kind, _, seconds = item.rpartition("=")
            if seconds != "full":
                windows.update({k: float(seconds) for k in ([kind] if kind else args.kinds)})
    if args.unstructured:
        import speech.pocketsphinx_engine

        speech.pocketsphinx_engine.STRUCTURED = False
    cache = cache_path(args.set, args.cache)
    if args.report_only:
        with open(cache) as f:
            rows = json.load(f)
    else:
        prompts = None
        if args.prompts:
            with open(args.prompts) as f:
                prompts = json.load(f)
        # Only what the cache lacks is decoded; rows of answers no longer in the set are dropped.
        cached = []
        if os.path.exists(cache):
            with open(cache) as f:
                cached = json.load(f)
        current = {ident(item) for item in answer_recordings(args.set)[::args.every]}
        cached = [r for r in cached if ident(r) in current]
        def save(new_rows):
            with open(cache + ".tmp", "w") as f:
                json.dump(cached + new_rows, f)
            os.replace(cache + ".tmp", cache)

        rows = cached + record(args.set, set(args.kinds), prompts, args.every, {ident(r) for r in cached},
                              windows, save)
        save(rows[len(cached):])
    report([r for r in rows if r["kind"] in args.kinds])


if __name__ == "__main__":
    main()
