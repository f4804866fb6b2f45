#!/usr/bin/env python3
"""Spoken requests through whole calls: the caller rings, speaks over the menu, and the IVR routes.

  python bench/speech_calls.py                                   # eight voices, every phrasing
  python bench/speech_calls.py --voices flite:slt espeak-ng:en-us --every 2

bench/speech_accuracy.py feeds recordings to the session and engine directly; this drives the
app as Twilio would: the product's Twilio emulator (telephony/) rings the IVR through its signed
webhooks, forks the caller's audio to the real /media endpoint in Twilio's own messages (20 ms
mu-law frames at real-time pace), and the app stops the prompt and moves the call with the REST
API when it hears the answer. The app is the one `ivr serve` runs (create_app, speech on: the
shipped config/ivr.toml, PocketSphinx decoding in its worker processes), on SQLite in a temp dir.

"Right" is what the IVR decided at the menu, read from the caller's path it records
(call.scratch["path"], what the whisper and the supervisor page show): the skill routed to, or
the skill it asks to confirm ("Billing, is that right?"); a request for a person counts as
`general`. Recordings: telephony.audio.speak in the given voices (see bench/speech_accuracy.py).
Not a test: numbers go to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://ivr.example.com"
CALLER = "+12125550142"


def routed_to(path: list[dict]) -> str | None:
    """The skill the IVR decided on at the menu (asked to confirm or routed), from the caller's path."""
    for record in path:
        if record.get("need"):
            meaning = record.get("meaning")
            return "general" if meaning == "agent" else meaning
    return None


def main() -> int:
    from speech_accuracy import REQUESTS, VOICES

    parser = argparse.ArgumentParser()
    parser.add_argument("--voices", nargs="+", default=VOICES)
    parser.add_argument("--every", type=int, default=1, help="every Nth phrasing (the whole set takes a while)")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()

    import logging

    logging.disable(logging.WARNING)
    from sqlalchemy import select

    from app import create_app, load_speech
    from clock import ManualClock
    from config import Settings
    from storage.models import Call
    from telephony.audio import speak
    from telephony.emulator import Emulator
    from telephony.transport import WsgiTransport

    with open(REQUESTS, encoding="utf-8") as f:
        items = [tuple(line.rstrip("\n").split("\t")) for line in f if line.strip() and not line.startswith("#")]
    items = items[::args.every]
    clock = ManualClock(datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc))  # every skill open
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.sqlite3", public_base_url=PUBLIC_BASE_URL,
                            twilio_account_sid="AC" + "0" * 32, twilio_auth_token=AUTH_TOKEN,
                            twilio_number="+15005550006", secret_key="bench-secret", speech_enabled=True)
        emulator = Emulator(AUTH_TOKEN, PUBLIC_BASE_URL, clock=clock.now, number="+15005550006")
        app = create_app(settings, clock=clock, twilio_client=emulator.rest.client(AUTH_TOKEN))
        load_speech(app)  # what `ivr serve` does at start
        rt = app.extensions["ivr"]
        emulator.attach(WsgiTransport(app, PUBLIC_BASE_URL))
        right, total, misses = Counter(), Counter(), []
        started = time.monotonic()
        try:
            for text, skill in items:
                for voice in args.voices:
                    call = emulator.call(CALLER)
                    call.say(mulaw=speak(text, voice=voice), barge_in=True)
                    with rt.sessions() as s:
                        stored = s.scalars(select(Call).where(Call.call_sid == call.sid)).one()
                        path = list(stored.scratch.get("path", []))
                    got = routed_to(path)
                    synthesiser = voice.rpartition(":")[0] or "espeak-ng"
                    total[synthesiser] += 1
                    right[synthesiser] += got == skill
                    if got != skill:
                        said = next((r.get("said") for r in path if r.get("need")), None)
                        misses.append(f"{text!r} ({voice}): heard {said!r} -> {got}")
                    call.hang_up()
        finally:
            emulator.close()
            rt.engine.dispose()
    if args.misses:
        print("\n".join(misses), file=sys.stderr)
    n, r = sum(total.values()), sum(right.values())
    print(f"{len(items)} phrasings x {len(args.voices)} voices, whole calls through /media, "
          f"{time.monotonic() - started:.0f} s")
    print("| calls | routed right | per synthesiser |")
    print("| --- | --- | --- |")
    print(f"| {n} | {r}/{n} = {100 * r / n:.0f}% | "
          + ", ".join(f"{k} {right[k]}/{total[k]}" for k in sorted(total)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
