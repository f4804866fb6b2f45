#!/usr/bin/env python3
"""Speech under call traffic: N concurrent calls answering through the real /media, with the cascade.

  nice -n 10 python bench/speech_load.py                       # 32 calls, 4 answers each, 6-12 s apart
  nice -n 10 python bench/speech_load.py --burst               # 32 answers ending in the same second
  nice -n 10 python bench/speech_load.py --calls 16 --answers 3

The app is the one `ivr serve` runs (create_app, load_speech: PocketSphinx in its worker processes and,
when the packaged model is installed, Whisper's worker for the second pass, speech/cascade.py), on SQLite,
served on a loopback port; Twilio's side is a second process (bench/speech_streams.py's `drive`: Twilio's
exact messages, 20 ms mu-law frames at real-time pace). Each call answers `--answers` questions: its first
answer starts at a random moment in the first 6 s, each next one 6-12 s (at random) after the previous
one started, the way a caller answers a prompt, then the next. Every answer is its own stream (as every
question is its own <Start><Stream>). Answers are the committed English fixtures (yes, no at a yes/no
question; a skill and "agent" at the menu), so yes/no answers always want Whisper's second pass; those
that did not get it in time (speech/cascade.py: the deadline) are asked again, counted in the last column.

Measured: end of speech -> result stored (all answers, then yes/no and menu answers apart) (the session's end-of-speech pause, PocketSphinx's finish, the
cascade's Whisper pass and the database write: when the app would move the call to its next prompt);
CPU per answer, of the server process and its decoding workers together (from /proc, over the run);
peak RSS of the server and its workers. Not a test: the table goes to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import rss_mb, time_stored_answers  # noqa: E402
from speech_streams import drive, make_app, pct, prepare  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def family() -> list[int]:
    """This process and its descendants (the decoding workers)."""
    pids, frontier = [os.getpid()], [os.getpid()]
    while frontier:
        parent = frontier.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        pids += kids
        frontier += kids
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
        except OSError:
            pass
    return total


def schedule(calls: int, answers: int, burst: bool, rng: random.Random) -> list[float]:
    if burst:
        return [rng.uniform(0, 1.0) for _ in range(calls * answers)]
    starts = []
    for _ in range(calls):
        at = rng.uniform(0, 6.0)
        for _ in range(answers):
            starts.append(at)
            at += rng.uniform(6.0, 12.0)
    return starts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=32)
    parser.add_argument("--answers", type=int, default=4, help="answers per call (--burst: 1)")
    parser.add_argument("--burst", action="store_true", help="every call's answer ends within the same second")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import logging

    logging.disable(logging.WARNING)
    from speech.session import SessionLimits
    from tests.support.live_server import serve
    from understanding.answers import confirm_below

    stored_at = time_stored_answers()
    limits = SessionLimits()
    answers = 1 if args.burst else args.answers
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(tmp, "en-US")
        from speech.engines import second_pass_for

        second = second_pass_for("en-US")
        print(f"second pass: {second.name if second else 'none'}", file=sys.stderr)
        if second is not None:
            second.wait_ready()
        with serve(app) as http_base:
            jobs = prepare(app, "en-US", args.calls * answers, limits.speech_dbfs)
            steps = {job[0]: job[1] for job in jobs}
            delays = schedule(args.calls, answers, args.burst, rng)
            pids = family()
            cpu0, wall0 = cpu_seconds(pids), time.monotonic()
            server0 = cpu_seconds([os.getpid()])
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                sent = pool.apply(drive, (http_base.replace("http://", "ws://"), jobs, limits.end_silence, delays))
            time.sleep(1.0)  # the last results stored
            cpu, wall = cpu_seconds(pids) - cpu0, time.monotonic() - wall0
            server = cpu_seconds([os.getpid()]) - server0
            rss = sum(rss_mb(pid) for pid in pids if os.path.exists(f"/proc/{pid}"))
    done = [r for r in sent if r["speech_end"] and stored_at.get(r["sid"])]
    latency = [stored_at[r["sid"]][0] - r["speech_end"] for r in done]
    # Yes/no answers always want Whisper's pass, menu answers only when PocketSphinx names no skill surely.
    by_question = {question: [stored_at[r["sid"]][0] - r["speech_end"] for r in done
                              if (steps[r["sid"]] == "confirm_skill") == (question == "yes/no")]
                   for question in ("yes/no", "menu")}
    engines = {}
    for r in done:
        name = stored_at[r["sid"]][1].engine
        engines[name] = engines.get(name, 0) + 1
    # Yes/no answers the cascade marked doubtful (Whisper wanted, not to be had in time): asked again.
    yes_no = [stored_at[r["sid"]][1] for r in done if steps[r["sid"]] == "confirm_skill"]
    doubtful = sum(1 for o in yes_no if o.transcript and o.confidence < confirm_below("yes_no"))
    print(f"server process {server / wall:.2f} cores, decoding workers {(cpu - server) / wall:.2f} cores; "
          f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    mode = "burst (all within 1 s)" if args.burst else f"{answers} answers per call, 6-12 s apart"
    print("| calls | answers | results | end of speech -> result p50 / p95 / max (ms) | CPU-s per answer "
          "| yes/no p50 / p95 | menu p50 / p95 | server+workers cores | RSS server+workers | whose words "
          "| yes/no asked again |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    split = " | ".join(f"{pct(v, 50):.0f} / {pct(v, 95):.0f}" for v in by_question.values())
    print(f"| {args.calls} | {mode} | {len(done)}/{len(sent)} | {pct(latency, 50):.0f} / {pct(latency, 95):.0f} / "
          f"{max(latency) * 1000 if latency else float('nan'):.0f} | {cpu / max(len(done), 1):.2f} | {split} "
          f"| {cpu / wall:.2f} "
          f"| {rss:.0f} MB | {', '.join(f'{k} {v}' for k, v in sorted(engines.items()))} | {doubtful}/{len(yes_no)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
