#!/usr/bin/env python3
"""Where an answer ends on a noisy line, and whether noise alone barges into the prompt (speech/session.py's
VoiceDetector), against the fixed -45 dBFS threshold it replaced.

  nice -n 10 python bench/noise_floor.py [--set dev] [--margins 4 6 8 10] [--windows 1 2 3] [--every N]

Each answer of the set (scripts/make_speech_fixtures.py answer_recordings: every voice, clean and with line
noise at 15 dB below the speech) is streamed in 20 ms frames with `--prompt` s of the line before it (the
stream listens through the prompt, as /media's forked streams do) and `--after` s of the line after it. On a
noisy line that is more of the same noise: band-limited white noise, seeded, at the level of the noise in the
file (the noisy file minus the clean one); on a clean line digital silence, as in the files. The words' start
and end are those of the clean recording (first and last 20 ms frame at or above -45 dBFS). The session has no
recognizer (only the loudness rules: it ends at end_silence, 0.6 s, after the last voice; with an engine's
whole answer it would end at end_silence_after_words, 0.3 s) and FORKED's limits (no no-speech timeout).
Prints per detector and line: the answers that end at end of speech, where they end (audio s after the words'
end: median, 90th percentile, worst), those whose end came before the words' end (cut), the streams barged
into before the words began (by noise alone), and the barge-in's delay after the words' start (median).
Then, per detector, how many clean answers end or barge in other than with the fixed threshold (more than a
frame apart), and the detector's CPU per frame with the shipped constants. Not a test.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import numpy as np  # noqa: E402

from make_speech_fixtures import answer_recordings  # noqa: E402

FRAME = 320  # 20 ms of 8 kHz 16-bit PCM
OLD = float("-inf")  # a noise margin of -inf: the threshold is speech_dbfs alone, the detector before


def voice_span(pcm: bytes, dbfs: float = -45.0) -> tuple[float, float]:
    from speech.audio import rms_dbfs

    loud = [i for i in range(0, len(pcm) - FRAME + 1, FRAME) if rms_dbfs(pcm[i:i + FRAME]) >= dbfs]
    return (loud[0] / FRAME * 0.02, (loud[-1] / FRAME + 1) * 0.02) if loud else (0.0, 0.0)


def line_noise(level_rms: float, seconds: float, seed: str) -> np.ndarray:
    from speech.audio import phone_band

    rng = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16))
    noise = rng.standard_normal(int(seconds * 8000)) * 3000.0
    noise = np.frombuffer(phone_band(noise.astype("<i2").tobytes(), 8000), "<i2").astype(np.float64)
    return noise * level_rms / (float(np.sqrt(np.mean(noise ** 2))) or 1.0)


def streams(set_name: str, every: int, prompt: float, after: float, scenario: str = "steady") -> list[dict]:
    """One stream per recording: pcm (prompt + answer + after), the words' start and end in it, noisy or not.
    scenario "onset": the line is quiet (digital silence) for the first half of the prompt, and its noise begins
    half-way; "first-frame": no prompt, and the recording from its first voiced frame (the caller speaks at once,
    no floor learnt)."""
    from speech.twilio_media import mulaw_to_pcm16

    rows = answer_recordings(set_name)
    clean = {(r["said"], r["voice"]): r["path"] for r in rows if not r["noise"]}
    out = []
    for r in [r for i, r in enumerate(rows) if i // 2 % every == 0]:  # rows come in pairs: clean, noisy
        with open(clean[(r["said"], r["voice"])], "rb") as f:
            c = np.frombuffer(mulaw_to_pcm16(f.read()), "<i2").astype(np.float64)
        with open(r["path"], "rb") as f:
            x = np.frombuffer(mulaw_to_pcm16(f.read()), "<i2").astype(np.float64)
        start, end = voice_span(c.astype("<i2").tobytes())
        if r["noise"]:
            level = float(np.sqrt(np.mean((x - c) ** 2)))
            seed = f"{r['said']}|{r['voice']}"
            before, tail = line_noise(level, prompt, seed + "|before"), line_noise(level, after, seed + "|after")
        else:
            before, tail = np.zeros(int(prompt * 8000)), np.zeros(int(after * 8000))
        if scenario == "onset":
            before[: len(before) // 2] = 0.0
        lead = len(before) / 8000
        if scenario == "first-frame":
            before, x, lead = before[:0], x[int(start / 0.02) * 160:], -int(start / 0.02) * 0.02
        pcm = np.clip(np.round(np.concatenate([before, x, tail])), -32768, 32767).astype("<i2").tobytes()
        out.append({"noise": r["noise"], "pcm": pcm, "start": lead + start, "end": lead + end,
                    "kind": r["kind"], "said": r["said"], "voice": r["voice"]})
    return out


def run(stream: dict, margin: float, window: float) -> dict:
    from speech.session import SPEECH, SessionLimits, SpeechSession

    limits = SessionLimits(no_speech_timeout=None, stall_timeout=1e9, noise_margin=margin, noise_window=window)
    barged = []
    session = SpeechSession(None, limits, on_speaking=lambda: barged.append(session.audio_seconds))
    pcm = stream["pcm"]
    outcome = None
    for i in range(0, len(pcm), FRAME):
        outcome = session.feed_audio(pcm[i:i + FRAME])
        if outcome:
            break
    outcome = outcome or session.hangup()
    return {"ended": outcome.reason == SPEECH, "at": outcome.audio_seconds - stream["end"],
            "barge": barged[0] - stream["start"] if barged else None}


def report(label: str, results: list[dict]) -> str:
    ended = [r["at"] for r in results if r["ended"]]
    cut = sum(1 for r in results if r["ended"] and r["at"] < 0)
    early = sum(1 for r in results if r["barge"] is not None and r["barge"] < 0)
    delays = [r["barge"] for r in results if r["barge"] is not None and r["barge"] >= 0]
    q = sorted(ended)
    where = (f"{statistics.median(q):5.2f} | {q[int(0.9 * (len(q) - 1))]:5.2f} | {q[-1]:5.2f}" if q
             else "  -   |   -   |   -  ")
    return (f"| {label} | {len(ended)}/{len(results)} | {where} | {cut} | {early}/{len(results)} | "
            f"{statistics.median(delays) if delays else float('nan'):.2f} |")


def cpu_per_frame(streams_: list[dict]) -> tuple[float, float]:
    """µs per frame: rms_dbfs alone, and rms_dbfs with the shipped detector."""
    from speech.audio import rms_dbfs
    from speech.session import VoiceDetector

    frames = [s["pcm"][i:i + FRAME] for s in streams_[:40] for i in range(0, len(s["pcm"]) - FRAME + 1, FRAME)]
    began = time.process_time()
    for f in frames:
        rms_dbfs(f)
    plain = time.process_time() - began
    detector = VoiceDetector()
    began = time.process_time()
    for f in frames:
        detector.is_voice(rms_dbfs(f), 0.02)
    return plain / len(frames) * 1e6, (time.process_time() - began) / len(frames) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="dev", choices=["dev", "test"])
    parser.add_argument("--every", type=int, default=1, help="every Nth recording")
    parser.add_argument("--prompt", type=float, default=3.0, help="s of the line before the answer")
    parser.add_argument("--after", type=float, default=6.0, help="s of the line after the answer")
    parser.add_argument("--margins", type=float, nargs="*", default=[6.0])
    parser.add_argument("--windows", type=float, nargs="*", default=[2.0])
    parser.add_argument("--scenario", default="steady", choices=["steady", "onset", "first-frame"],
                        help="steady: the line's noise throughout; onset: it begins half-way through the prompt; "
                             "first-frame: the caller speaks at the stream's first frame")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    all_streams = streams(args.set, args.every, args.prompt, args.after, args.scenario)
    print("| detector | line | ended at end of speech | end after the words' end, s: median | p90 | worst "
          "| cut (end before the words' end) | barged in by noise (before the words) "
          "| barge-in after words' start, s (median) |")
    print("|---|---|---|---|---|---|---|---|---|")
    detectors = [("fixed -45 dBFS (before)", OLD, 2.0)] + [
        (f"floor + {m:g} dB, {w:g} s window", m, w) for m in args.margins for w in args.windows]
    before = None
    differ = {}
    for label, margin, window in detectors:
        for noisy in (False, True):
            results = [run(s, margin, window) for s in all_streams if s["noise"] == noisy]
            print(report(f"{label} | {'noisy' if noisy else 'clean'}", results), flush=True)
            if not noisy:
                before = before or results
                differ[label] = sum(1 for a, b in zip(before, results) if a["ended"] != b["ended"]
                                    or abs(a["at"] - b["at"]) > 0.021 or (a["barge"] is None) != (b["barge"] is None)
                                    or (a["barge"] is not None and abs(a["barge"] - b["barge"]) > 0.021))
    for label, count in differ.items():
        print(f"clean streams whose end or barge-in is not the fixed threshold's within a frame, {label}: {count}")
    plain, detected = cpu_per_frame(all_streams)
    print(f"CPU per frame: rms_dbfs {plain:.1f} µs, rms_dbfs + VoiceDetector {detected:.1f} µs")
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
