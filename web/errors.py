"""The web layer's shared answers: how every refusal and error is rendered, bounded bodies and the
security headers every response carries. Installed once by app.create_app (install)."""
from __future__ import annotations

import io
import logging

from flask import Flask, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from callbacks.exceptions import CallbackError
from ivr.flow import TurnMismatch, UnknownCall
from web.problems import problem as problem_json

log = logging.getLogger("ivr")


def install(app: Flask) -> None:
    """Error handlers, the chunked-body bound and the security headers, on `app`."""
    app.wsgi_app = BoundedBody(app.wsgi_app, MAX_BODY_BYTES)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    register_errors(app)
    register_security_headers(app)


def register_errors(app: Flask) -> None:
    """Every refusal is a 4xx with a sentence a person can act on; JSON for APIs, text for Twilio."""

    def problem(status: int, title: str, detail: str):
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return problem_json(status, title, detail)
        return f"{title}: {detail}\n", status, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = app.make_response(problem(exc.code or 500, exc.name, exc.description or exc.name))
        # Keep what the exception adds, e.g. Allow on a 405 (RFC 9110) or Retry-After.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(UnknownCall)
    def unknown_call(exc):
        return problem(404, "Unknown call", str(exc))

    @app.errorhandler(TurnMismatch)
    def out_of_turn(exc):
        return problem(409, "Out of turn", str(exc))

    @app.errorhandler(CallbackError)
    def callback_error(exc: CallbackError):
        return problem(exc.status, type(exc).__name__, str(exc))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(exc):
        # Down, restarting, out of disk or out of connections: nothing was stored, so asking again is
        # safe. Twilio turns a 503 into its fallback URL (README: "When the database is down").
        cause = getattr(exc, "orig", None) or exc
        log.error("database unavailable, answered 503: %s", type(cause).__name__)
        response = app.make_response(problem(503, "Service Unavailable",
                                             "The database is not reachable just now; try again in a few seconds."))
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response


DATABASE_RETRY_AFTER_SECONDS = 5
MAX_BODY_BYTES = 64 * 1024
# A chunked body over the limit is read this far (so the client hears the 413), then the connection is dropped.
DRAIN_BYTES = 16 * 1024 * 1024


class BoundedBody:
    """MAX_CONTENT_LENGTH for bodies sent without a Content-Length (Transfer-Encoding: chunked), which
    Werkzeug passes through unbounded: read up to the limit, and past it answer 413 like any large body."""

    def __init__(self, wsgi_app, limit: int):
        self.wsgi_app, self.limit = wsgi_app, limit

    def __call__(self, environ, start_response):
        if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.wsgi_app(environ, start_response)
        stream = environ["wsgi.input"]
        body = stream.read(self.limit + 1)
        if len(body) > self.limit:
            drained = len(body)
            while drained < DRAIN_BYTES and (chunk := stream.read(65536)):
                drained += len(chunk)
            environ["ivr.body_too_large"] = True
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)

# Our pages load scripts, styles and data only from this app (no inline script anywhere); inline
# styles are allowed for the demo page and the figures' legends. Nobody may frame them.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; media-src 'self' blob: data:; connect-src 'self'; "
                           "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'")


def register_security_headers(app: Flask) -> None:
    @app.before_request
    def refuse_oversized_chunked_body():
        if request.environ.get("ivr.body_too_large"):
            raise RequestEntityTooLarge()

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
