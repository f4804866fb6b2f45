#!/usr/bin/env python3
"""Moonshine base-en (PyPI `moonshine-cpp`) alone on the held utterances, beside Whisper alone.

  nice -n 10 python bench/moonshine_alone.py [--set dev] [--whisper-cache nf] [--every N]
  nice -n 10 python bench/moonshine_alone.py --report-only
  nice -n 10 python bench/moonshine_alone.py --every 5 --whisper-too   # both decoded here: CPU side by side

The held utterance is made as bench/speech_cascade.py makes it (the recording streamed in 20 ms frames
through speech/session.py with PocketSphinx and the kind's grammar, the audio it keeps), brought from 8 kHz
to 16 kHz as speech.whisper_engine.decode does (speech.audio.Upsampler), and transcribed by Moonshine
base-en (the model the wheel ships, no prompt: Moonshine takes none). The transcript is read by our own
understanding exactly as the cascade bench reads Whisper's in its "whisper alone" rows
(understanding.confidence.choose with no first pass, then answer_key against the truth of the row). Whisper
alone is read from the cascade bench's cached dev transcripts (/tmp/speech_cascade_<set>_<cache>.json), or
with --whisper-too decoded again here (speech.whisper_engine.decode, one thread, the kind's prompt) on the
same utterance, so both CPU figures come from one process at one load.
CPU is process time of the Moonshine call (all of its threads: the library does not let one set them).
Needs `pip install moonshine-cpp`; not a test, not in requirements.
"""
from __future__ import annotations

import os

for _name, _value in {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}.items():
    os.environ.setdefault(_name, _value)

import argparse
import ctypes
import json
import resource
import sys
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from speech_cascade import ENDPOINT_BY_ANSWER, cache_path, ident, truth  # noqa: E402


def moonshine_model():
    import moonshine_cpp

    return moonshine_cpp.MoonshineModel()  # base-en, from the wheel's own folder: no download


def transcribe(model, pcm16: bytes, sample_rate: int) -> str:
    """Moonshine's words for 16-bit PCM (the package's own `transcribe` passes the samples wrongly in 0.1.4:
    ctypes.c_float_p does not exist, so the library is called directly)."""
    import numpy as np
    from moonshine_cpp.moonshine_cpp import moonshine_lib

    from speech.audio import Upsampler

    if sample_rate != 16000:
        pcm16 = Upsampler(16000 // sample_rate).process(pcm16)
    audio = np.frombuffer(pcm16, "<i2").astype(np.float32) / 32768.0
    samples = (ctypes.c_float * len(audio)).from_buffer_copy(audio.tobytes())
    text = ctypes.c_char_p(0)
    error = moonshine_lib.moonshine_transcribe(model.model_handle, samples, len(audio), ctypes.byref(text))
    if error:
        raise RuntimeError(f"moonshine_transcribe failed: {error}")
    words = text.value.decode("utf-8") if text.value else ""
    moonshine_lib.moonshine_free_text(text)
    return words.strip()


def record(set_name, whisper_rows, every, save, whisper_too=False):
    from config import load_ivr_config
    from speech.grammar import grammar_for_config
    from speech.pocketsphinx_engine import PocketSphinxEngine
    from speech.session import SessionLimits, SpeechSession
    from speech.twilio_media import mulaw_to_pcm16
    from understanding.answers import completeness

    config = load_ivr_config()
    sphinx = PocketSphinxEngine("en-US", workers=0)
    model = moonshine_model()
    whisper = None
    if whisper_too:
        from speech.cascade import hint, menu_labels
        from speech.whisper_engine import _load, decode, model_path

        whisper = _load(model_path())
    rows = []
    for item in whisper_rows[::every]:
        kind = item["kind"]
        with open(item["path"], "rb") as f:
            pcm = mulaw_to_pcm16(f.read())
        session = SpeechSession(sphinx.recognizer(8000, grammar_for_config(kind, "en-US", config)),
                                SessionLimits(), keep_audio=True,
                                complete=completeness(kind, "en-US") if ENDPOINT_BY_ANSWER else None)
        outcome = None
        for i in range(0, len(pcm), 320):
            outcome = session.feed_audio(pcm[i:i + 320])
            if outcome:
                break
        outcome = outcome or session.hangup()
        started = time.process_time()
        heard = transcribe(model, session.utterance, 8000) if session.utterance else ""
        row = {**item, "same_first": outcome.transcript == item["first"], "moonshine": heard,
               "moonshine_cpu": time.process_time() - started, "seconds": len(session.utterance or b"") / 16000}
        if whisper is not None:  # Whisper again on this very utterance, in this process: CPU beside Moonshine's
            started = time.process_time()
            prompt = hint(kind, "en-US", menu_labels(config, "en-US"))
            row["second"] = decode(whisper, session.utterance, 8000, prompt, "en-US", kind)[0] \
                if session.utterance else ""
            row["second_cpu"] = time.process_time() - started
        rows.append(row)
        print(f"{kind:7} {item['voice']:32} {'noisy' if item['noise'] else 'clean'} {item['said']!r:45} "
              f"wh={item['second']!r} ms={heard!r}", flush=True)
        if len(rows) % 25 == 0:
            save(rows)
    return rows


def report(rows) -> None:
    from config import load_ivr_config
    from understanding import Understanding
    from understanding.confidence import answer_key, choose

    u = Understanding.for_config(load_ivr_config())
    # whisper right, moonshine right, answers, CPU whisper, CPU moonshine, held seconds, moonshine wrote nothing
    table = defaultdict(lambda: [0, 0, 0, 0.0, 0.0, 0.0, 0])
    for row in rows:
        want = truth(row, u)
        for key in ((row["kind"], "all"), (row["kind"], "noisy" if row["noise"] else "clean"), ("all", "all")):
            cell = table[key]
            for i, text in ((0, row["second"]), (1, row["moonshine"])):
                heard, _, _ = choose(row["kind"], None, text, "en-US", u, "second")
                cell[i] += answer_key(row["kind"], heard, "en-US", u) == want
            cell[2] += 1
            cell[3] += row["second_cpu"]
            cell[4] += row["moonshine_cpu"]
            cell[5] += row["seconds"]
            cell[6] += not row["moonshine"]
    print("\n| kind | line | answers | Whisper tiny.en alone | Moonshine base-en alone | CPU-s per answer: "
          "Whisper / Moonshine | Moonshine wrote nothing | mean held seconds |\n|---|---|---|---|---|---|---|---|")
    for (kind, line), (w, m, n, cw, cm, s, empty) in sorted(table.items()):
        print(f"| {kind} | {line} | {n} | {w}/{n} ({w / n:.0%}) | {m}/{n} ({m / n:.0%}) | "
              f"{cw / n:.2f} / {cm / n:.2f} | {empty}/{n} | {s / n:.1f} |")
    same = sum(r.get("same_first", True) for r in rows)
    print(f"\nheld utterance made again with the same first-pass words as the cached run: {same}/{len(rows)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="dev", choices=["dev", "test"])
    parser.add_argument("--whisper-cache", default="nf", help="label of the cascade bench's cached transcripts")
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--whisper-too", action="store_true",
                        help="decode Whisper again on the same held utterance in this process (CPU side by side)")
    args = parser.parse_args()
    out = cache_path(args.set, f"moonshine_{args.whisper_cache}" + ("_both" if args.whisper_too else ""))
    if args.report_only:
        with open(out) as f:
            rows = json.load(f)
    else:
        with open(cache_path(args.set, args.whisper_cache)) as f:
            whisper_rows = sorted(json.load(f), key=ident)

        def save(new_rows):
            with open(out + ".tmp", "w") as f:
                json.dump(new_rows, f)
            os.replace(out + ".tmp", out)

        rows = record(args.set, whisper_rows, args.every, save, args.whisper_too)
        save(rows)
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
              f"load {os.getloadavg()}")
    report(rows)


if __name__ == "__main__":
    main()
