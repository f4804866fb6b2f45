"""Barge-in latency: from the end of a caller's spoken answer to the start of the next prompt.

N concurrent calls ring the app (served on a loopback port, speech on, SQLite in a temp folder). Each call
answers the menu by voice over a forked media stream exactly as Twilio sends it (telephony.media: 20 ms
mu-law frames in real time, silence before and after), starting at a random moment while the menu
plays. The app stops the prompt and then delivers the answer with `calls(sid).update(url=...)`; here the
REST API is a stand-in that fetches that URL at once, signed, as Twilio does. Measured per call: the time
from the last voiced frame leaving the caller to the next prompt's TwiML arriving back.

Not included: Twilio's own REST round trip and its time to fetch the URL and start speaking (not
measurable without Twilio; add them when reading the figures). Results go to docs/benchmarks.md.

    python bench/barge_in_latency.py --calls 1 8 16 32
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import run_threads  # noqa: E402
from twilio.http import HttpClient  # noqa: E402
from twilio.http.response import Response  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402
from twilio.rest import Client  # noqa: E402

from telephony import audio  # noqa: E402
from telephony.media import MediaStream  # noqa: E402
from telephony.transport import serve  # noqa: E402

TOKEN = "bench-auth-token"
ACCOUNT = "AC" + "0" * 32
PUBLIC = "https://ivr.bench.example"
ANSWERS = ["billing", "my internet is not working", "I want to buy a new phone", "an agent please",
           "a question about my bill"]


class Moves(HttpClient):
    """Twilio's REST API as far as barge-in uses it: a call update fetches its URL, signed, at once.
    Lives in the app's process; reports (call, URL, when the reply came back) on `replies`."""

    def __init__(self, replies):
        super().__init__(logger=None, is_async=False)
        self.local = ""
        self.replies = replies

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        sid = urlsplit(url).path.rsplit("/", 1)[-1].removesuffix(".json")
        target = (data or {}).get("Url")
        threading.Thread(target=self._fetch, args=(sid, target), daemon=True).start()
        return Response(200, json.dumps({"sid": sid, "account_sid": ACCOUNT, "status": "in-progress"}))

    def _fetch(self, sid: str, public_url: str) -> None:
        post(self.local, public_url, {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": "in-progress",
                                      "From": "+12125550142", "To": "+15005550006"})
        self.replies.put((sid, public_url, time.monotonic()))


class Replies:
    """The app process's replies, gathered in the callers' process (monotonic clocks agree on Linux)."""

    def __init__(self, queue):
        self.queue = queue
        self.seen: dict[str, list[tuple[str, float]]] = {}
        self.lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            sid, url, at = self.queue.get()
            with self.lock:
                self.seen.setdefault(sid, []).append((url, at))

    def answered(self, sid: str) -> list[float]:
        with self.lock:
            return [at for url, at in self.seen.get(sid, []) if "/listen" not in url]


def serve_app(replies, ready) -> None:
    """The app, in a process of its own (as in production), speech on, SQLite in a temp folder."""
    import logging

    os.environ.setdefault("DISPATCHER", "off")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from app import create_app
    from config import Settings

    folder = tempfile.mkdtemp(prefix="barge-in-bench-")
    settings = Settings(database_url=f"sqlite:///{folder}/ivr.sqlite3", public_base_url=PUBLIC,
                        twilio_account_sid=ACCOUNT, twilio_auth_token=TOKEN, twilio_number="+15005550006",
                        secret_key="bench", speech_enabled=True)
    moves = Moves(replies)
    app = create_app(settings, twilio_client=Client(ACCOUNT, TOKEN, http_client=moves))
    with serve(app) as local:
        moves.local = local
        ready.put(local)
        threading.Event().wait()


def post(local: str, public_url: str, params: dict) -> str:
    signature = RequestValidator(TOKEN).compute_signature(public_url, params)
    req = urllib.request.Request(local + public_url[len(PUBLIC):], data=urlencode(params).encode(),
                                 headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(req, timeout=30) as response:
        return response.read().decode()


def one_call(n: int, local: str, replies: Replies, speech: bytes, out: list, rng_delay: float) -> None:
    sid = f"CA{n:032x}"
    twiml = post(local, PUBLIC + "/voice/incoming", {"CallSid": sid, "AccountSid": ACCOUNT, "CallStatus": "ringing",
                                                     "From": "+12125550142", "To": "+15005550006"})
    token = re.search(r'name="token" value="([^"]+)"', twiml).group(1)
    stream = MediaStream(account_sid=ACCOUNT, call_sid=sid, url=PUBLIC.replace("https", "wss") + "/media",
                         local_url=local.replace("http", "ws") + "/media", auth_token=TOKEN,
                         parameters={"token": token})
    stream.open(keepalive=True)  # silence every 20 ms, as a phone line
    try:
        time.sleep(rng_delay)  # the caller speaks up somewhere in the menu prompt
        started = time.monotonic()
        stream.send_audio(speech, paced=True)
        voice_end = started + audio.voice_end_seconds(speech)
        deadline = voice_end + 15
        while time.monotonic() < deadline:
            answered = replies.answered(sid)
            if answered:
                out.append(answered[0] - voice_end)
                return
            time.sleep(0.005)
        out.append(None)
    finally:
        stream.stop()


CALL_NUMBERS = itertools.count(1)


def run(calls: int, local: str, replies: Replies, utterances: list[bytes]) -> list:
    out: list = []
    # Call numbers are never reused: a size measured twice (the warm-up's 2, then --calls 2) would otherwise
    # read the earlier round's replies for the same CallSid.
    run_threads([threading.Thread(target=one_call, args=(next(CALL_NUMBERS), local, replies,
                                                         utterances[i % len(utterances)], out, (i * 0.37) % 1.5))
                 for i in range(calls)])
    return out


def main() -> None:
    import multiprocessing

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="+", default=[1, 8, 16, 32])
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    reply_queue, ready = ctx.Queue(), ctx.Queue()
    server = ctx.Process(target=serve_app, args=(reply_queue, ready), daemon=True)
    server.start()
    local = ready.get(timeout=120)
    replies = Replies(reply_queue)
    utterances = [audio.speak(text) for text in ANSWERS]
    try:
        run(2, local, replies, utterances)  # warm-up: engines, grammars, worker processes
        print("| concurrent calls | answers | p50 | p95 | max |")
        print("|---|---|---|---|---|")
        for calls in args.calls:
            results = run(calls, local, replies, utterances)
            done = sorted(r for r in results if r is not None)
            if not done:
                print(f"| {calls} | 0/{calls} | - | - | - |")
                continue
            p95 = done[min(len(done) - 1, int(round(0.95 * (len(done) - 1))))]
            print(f"| {calls} | {len(done)}/{calls} | {statistics.median(done) * 1000:.0f} ms | "
                  f"{p95 * 1000:.0f} ms | {done[-1] * 1000:.0f} ms |", flush=True)
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
