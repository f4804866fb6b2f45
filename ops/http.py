"""/healthz: the process is alive (no database). /readyz: ready for traffic (ops/health.py), 503 if not."""
import os

from flask import Blueprint, jsonify

from ops.health import readiness
from web.runtime import runtime

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(alive=True, pid=os.getpid())  # which worker answered (a deployment check)


@bp.get("/readyz")
def readyz():
    state = readiness(runtime())
    return jsonify(state.as_dict()), (200 if state.ready else 503)
