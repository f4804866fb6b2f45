#!/usr/bin/env python3
"""The first answers Whisper decodes after its worker starts, against the same answers decoded again.

  nice -n 10 python bench/speech_first_answer.py [--starts 5]

Starts alternate between a worker that warms up (shipped) and one that does not (WHISPER_WARM_UP=off, as
before), so that both meet the same machine load.

Each start: a fresh speech.whisper_engine.WhisperEngine (the packaged tiny.en, one worker, pinned to one
thread as the server runs it), timed from start to ready; then one answer of each kind the cascade sends
(Flite's slt voice on the phone line, each kind's prompt) decoded twice in a row, timed from request to
reply. Prints the median over starts per kind: first decode, second decode, their ratio (within a start:
less dependent on the machine's load than either), start to ready. Not a test:
the figures go to docs/benchmarks.md ("Whisper's first answer after start").
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

ANSWERS = {"yes_no": "yes please", "skill": "my bill is too high", "time": "tomorrow at three p m",
           "digits": "two one two five five five zero one four two"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--starts", type=int, default=5, help="starts of each kind")
    args = parser.parse_args()

    from config import load_ivr_config
    from speech import whisper_engine
    from speech.cascade import hint, menu_labels
    from speech.twilio_media import mulaw_to_pcm16
    from telephony.audio import speak

    labels = menu_labels(load_ivr_config(), "en-US")
    pcm = {kind: mulaw_to_pcm16(speak(text, voice="flite:slt")) for kind, text in ANSWERS.items()}
    results = {}
    for start in range(2 * args.starts):
        cold = start % 2 == 1
        os.environ["WHISPER_WARM_UP"] = "off" if cold else "on"
        ready, first, again = results.setdefault(cold, ([], {k: [] for k in ANSWERS}, {k: [] for k in ANSWERS}))
        began = time.monotonic()
        engine = whisper_engine.WhisperEngine(whisper_engine.model_path({}), "en-US")
        assert engine.wait_ready(120), "the Whisper worker did not start"
        ready.append(time.monotonic() - began)
        for times in (first, again):
            for kind, audio in pcm.items():
                began = time.monotonic()
                heard = engine.transcribe(audio, 8000, hint(kind, "en-US", labels), timeout=60, kind=kind)
                assert heard is not None, kind
                times[kind].append(time.monotonic() - began)
        engine.close()
    print(f"\n{args.starts} starts each, load average {os.getloadavg()[0]:.1f} at the end")
    print("| kind | first decode after ready (ms): no warm-up / warm-up | the same answer again: no warm-up / "
          "warm-up | first / again, median of starts: no warm-up / warm-up |\n|---|---|---|---|")
    med = statistics.median
    for kind in ANSWERS:
        cells = []
        for part in (1, 2):
            cells.append(" / ".join(f"{med(results[cold][part][kind]) * 1000:.0f}" for cold in (True, False)))
        cells.append(" / ".join(f"{med(a / b for a, b in zip(results[cold][1][kind], results[cold][2][kind])):.2f}"
                                for cold in (True, False)))
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print(f"| start to ready | " + " / ".join(f"{med(results[cold][0]) * 1000:.0f}" for cold in (True, False))
          + " | | |")

if __name__ == "__main__":
    main()
