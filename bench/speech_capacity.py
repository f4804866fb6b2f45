#!/usr/bin/env python3
"""Concurrent live streams through speech/session.py and the engine, in real time, per worker count.

  nice -n 10 python bench/speech_capacity.py                        # workers 0, 1, 2; 8/16/32 streams
  nice -n 10 python bench/speech_capacity.py --workers 2 --streams 32 --rounds 3

What /media does per stream, without the WebSocket and the database (bench/speech_streams.py
has those): one thread per call feeds 20 ms frames every 20 ms to a SpeechSession whose
recognizer is built as /media builds it (speech.grammar.grammar_for_config for the answer's
kind: a skill answer or yes/no), starts spread over the first second. PocketSphinx decodes
in `--workers` processes (0: in this process, under its GIL).

Measured per stream: end of speech -> result, from feeding the last frame with voice in it
to the session's outcome. It includes the quiet the session must hear before it decides the
caller has finished (0.3 s once the engine has words, else 0.6 s): about 300 ms of it is by
design. Memory: RSS of this process and of each worker after the run (VmRSS), and how much a
decoder ready for one more stream adds. Not a test: numbers go to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
from common import last_voice_frame, rss_mb, run_threads  # noqa: E402

AUDIO = os.path.join(ROOT, "tests", "fixtures", "audio", "en")
CALLS = [("tts_en_yes.wav", "yes_no"), ("tts_en_no.wav", "yes_no"), ("tts_en_support.wav", "skill"),
         ("tts_en_agent.wav", "skill"), ("tts_en_billing.wav", "skill"), ("tts_en_sales.wav", "skill")]


def one_round(engine, grammars, recordings, n: int, limits) -> list[dict]:
    from speech.session import SpeechSession

    rows: list[dict] = []
    lock = threading.Lock()

    def call(index: int, delay: float):
        name, kind = CALLS[index % len(CALLS)]
        pcm, end_frame = recordings[name]
        time.sleep(delay)
        session = SpeechSession(engine.recognizer(8000, grammars[kind]), limits)
        frames = [pcm[i:i + 320] for i in range(0, len(pcm), 320)] + [b"\0\0" * 160] * 150
        t0 = time.monotonic()
        speech_end = None
        for k, frame in enumerate(frames):
            wait = t0 + k * 0.02 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            outcome = session.feed_audio(frame)
            if k == end_frame:
                speech_end = time.monotonic()
            if outcome:
                break
        done = time.monotonic()
        session.close()
        with lock:
            rows.append({"latency": done - speech_end if speech_end else None,
                         "heard": bool(session.outcome and session.outcome.transcript)})

    run_threads([threading.Thread(target=call, args=(i, random.uniform(0, 1.0))) for i in range(n)])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--streams", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    import logging

    logging.disable(logging.WARNING)
    from config import load_ivr_config
    from speech.audio import read_wav
    from speech.grammar import grammar_for_config
    from speech.pocketsphinx_engine import PocketSphinxEngine
    from speech.session import SessionLimits

    config = load_ivr_config()
    limits = SessionLimits(no_speech_timeout=None, stall_timeout=1.0)  # /media's forked streams
    grammars = {kind: grammar_for_config(kind, "en-US", config) for kind in ("skill", "yes_no")}
    recordings = {}
    for name, _ in CALLS:
        pcm = read_wav(os.path.join(AUDIO, name)).pcm16
        recordings[name] = (pcm, last_voice_frame(pcm, limits.speech_dbfs))
    print("| decoding | streams | heard words | end of speech -> result p50 / p95 / p99 (ms) | CPU used (cores) |")
    print("| --- | --- | --- | --- | --- |")
    memory = []
    for workers in args.workers:
        rss0 = rss_mb()
        engine = PocketSphinxEngine("en-US", workers=workers)
        engine.prepare(list(grammars.values()), streams=1)
        pids = engine._pool.pids() if engine._pool else []
        one = {pid: rss_mb(pid) for pid in pids} or {"self": rss_mb()}
        engine.prepare(list(grammars.values()), streams=max(args.streams))
        ready = {pid: rss_mb(pid) for pid in pids} or {"self": rss_mb()}
        label = f"{workers} worker process{'es' if workers != 1 else ''}" if workers else "in the server process"
        for n in args.streams:
            rows = []
            cpu0 = _cpu(pids)
            wall0 = time.monotonic()
            for _ in range(args.rounds):
                rows += one_round(engine, grammars, recordings, n, limits)
            cores = (_cpu(pids) - cpu0) / (time.monotonic() - wall0)
            lat = np.array([r["latency"] for r in rows if r["latency"] is not None]) * 1000
            heard = sum(r["heard"] for r in rows)
            print(f"| {label} | {n} | {heard}/{len(rows)} | {np.percentile(lat, 50):.0f} / "
                  f"{np.percentile(lat, 95):.0f} / {np.percentile(lat, 99):.0f} | {cores:.2f} |", flush=True)
        after = {pid: rss_mb(pid) for pid in pids} or {"self": rss_mb()}
        per_decoder = sum(ready[p] - one[p] for p in one) / max(1, max(args.streams) - len(one))
        memory.append((label, rss_mb() - (rss0 if workers else 0), after, per_decoder))
        engine.close()
    print()
    for label, server, after, per_decoder in memory:
        workers = ", ".join(f"{v:.0f}" for k, v in after.items() if k != "self")
        print(f"- {label}: server process {rss_mb():.0f} MB RSS" + (f"; workers {workers} MB RSS each" if workers else "")
              + f"; a decoder ready for one more stream adds about {per_decoder:.1f} MB")
    print(f"- load average at the end (other work on the machine): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


def _cpu(pids) -> float:
    """CPU seconds used by this process and the workers so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    total = usage.ru_utime + usage.ru_stime
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


if __name__ == "__main__":
    sys.exit(main())
