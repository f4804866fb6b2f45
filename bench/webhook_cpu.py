"""CPU per `POST /voice/incoming` in one process, through the WSGI app (no HTTP server, no load client): what
one request costs the server itself, the part of bench/webhook_speed.py's figures that a change to the app can
move. Every request is a new call (a new CallSid), signed as Twilio signs it, built before the clock starts.

    nice -n 5 python3 bench/webhook_cpu.py [--server app|minimal] [--root DIR] [--requests 250] [--chunks 16]

`--root DIR` serves the app of another checkout (e.g. a `git worktree` of the commit before), so two runs side
by side (started together, they meet the same load) compare two commits. Prints the least and the median CPU
time per request over the chunks: on a shared machine the least is the steadiest figure.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

TOKEN = "bench-auth-token-0123456789abcdef"
NUMBER = "+15005550006"
BASE = "http://127.0.0.1:8000"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=("app", "minimal"), default="app")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--requests", type=int, default=250, help="requests per chunk")
    parser.add_argument("--chunks", type=int, default=16)
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(args.root))
    if args.root.resolve() != here:
        sys.path.insert(1, str(here))  # this checkout's bench/ for the minimal webhook
    os.chdir(args.root)
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(TWILIO_AUTH_TOKEN=TOKEN, TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_NUMBER=NUMBER,
                          PUBLIC_BASE_URL=BASE, SECRET_KEY="bench", SPEECH_ENABLED="off", DISPATCHER="off",
                          DATABASE_URL=f"sqlite:///{folder}/ivr.db", MINIMAL_DB=f"{folder}/minimal.db")
        os.environ.pop("DEV_PHONE", None)
        if args.server == "minimal":
            from bench.minimal_webhook import create_app
        else:
            from app import create_app
        app = create_app()
        run(app, 300)  # warm-up: imports, caches, the pool's connections
        per_request = sorted(run(app, args.requests) / args.requests * 1000 for _ in range(args.chunks))
    print(f"{args.server} ({args.root}): CPU per request {per_request[0]:.3f} ms least, "
          f"{statistics.median(per_request):.3f} ms median of {args.chunks} chunks of {args.requests}")


def run(app, count: int) -> float:
    """CPU seconds `app` takes for `count` new calls' `POST /voice/incoming`."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    environs = []
    for i in range(count):
        params = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": f"+1212555{i % 10000:04d}",
                  "To": NUMBER, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
        body = urlencode(params).encode()
        environs.append({
            "REQUEST_METHOD": "POST", "PATH_INFO": "/voice/incoming", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body),
            "HTTP_X_TWILIO_SIGNATURE": validator.compute_signature(BASE + "/voice/incoming", params),
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.version": (1, 0)})

    def start_response(status, headers, exc_info=None):
        if not status.startswith("200"):
            raise SystemExit(f"the server answered {status}")

    began = time.process_time()
    for environ in environs:
        b"".join(app(environ, start_response))
    return time.process_time() - began


if __name__ == "__main__":
    main()
