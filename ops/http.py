"""/healthz: the process is alive (no database). /readyz: ready for traffic (ops/health.py), 503 if not.
/metrics: Prometheus (ops/metrics.py), with a bearer token when METRICS_TOKEN is set, else from the
loopback address only (scrape through the machine's own agent or a sidecar)."""
import hmac
import logging
import os
import time

from flask import Blueprint, Response, abort, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ops.health import readiness
from ops.logs import set_request
from web.runtime import runtime

bp = Blueprint("ops", __name__)
access_log = logging.getLogger("ivr.requests")
LOOPBACK = ("127.0.0.1", "::1")


@bp.get("/healthz")
def healthz():
    return jsonify(alive=True, pid=os.getpid())  # which worker answered (a deployment check)


@bp.get("/readyz")
def readyz():
    state = readiness(runtime())
    return jsonify(state.as_dict()), (200 if state.ready else 503)


@bp.get("/metrics")
def metrics():
    token = os.environ.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            abort(401)
    elif request.remote_addr not in LOOPBACK:
        abort(403)
    return Response(generate_latest(runtime().extras["metrics"].registry), content_type=CONTENT_TYPE_LATEST)


def start_timer() -> None:
    g.ops_started = time.perf_counter()
    # What every log line of this request names (ops/logs.py): Twilio's call and the callback's public id.
    args = request.view_args or {}
    set_request(request.values.get("CallSid"), args.get("public_id") or args.get("entry_id"))


def observe(response):
    started = g.pop("ops_started", None)
    if started is not None:
        seconds = time.perf_counter() - started
        rule, method = request.url_rule, request.method
        route = rule.rule if rule is not None else "unmatched"
        runtime().extras["metrics"].latency.labels(route, method).observe(seconds)
        # The route's rule, never the path or query (they may carry a token): one line per request.
        access_log.debug("%s %s %s %.1f ms", method, route, response.status_code, seconds * 1000)
    return response
