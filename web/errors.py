"""The web layer's shared answers: how every refusal and error is rendered, bounded bodies and the
security headers every response carries. Installed once by web/plugin.py (install)."""
from __future__ import annotations

import io
import logging
from itertools import chain

from flask import Blueprint, Flask, Response, make_response, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import IntegerConverter

from refusals import Refusal
from storage.models import MAX_ROW_ID
from storage.text import TextRefused, has_control
from web.problems import problem

log = logging.getLogger("ivr")


def install(app: Flask) -> None:
    """The row-id converter, error handlers, the chunked-body bound, the control-character rule and the
    security headers, on `app`."""
    # Before any route is added (web's plugin loads first): an <int:...> that no id column can hold
    # does not match (404).
    app.url_map.converters["int"] = RowIntConverter
    app.wsgi_app = BoundedBody(app.wsgi_app, MAX_BODY_BYTES)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    register_errors(app)
    register_security_headers(app)


# Titles of problem responses by status; the detail is the refusal's own sentence.
TITLES = {400: "Request refused", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 409: "Conflict",
          422: "Invalid request", 503: "Service unavailable"}
# Blueprints whose every answer is problem+json, whatever the client accepts (answers_json).
JSON_BLUEPRINTS: set[str] = set()


def answers_json(blueprint: Blueprint) -> Blueprint:
    """Mark a blueprint as a JSON API outside /api/ (a bot's webhook, the dev phone's calls)."""
    JSON_BLUEPRINTS.add(blueprint.name)
    return blueprint


def render_problem(status: int, title: str, detail: str, **extra) -> Response:
    """The one way an error leaves the app: problem+json for APIs and clients that ask for JSON, a small
    HTML page for browsers, plain text for the rest (Twilio, which never shows it to anyone)."""
    best = request.accept_mimetypes.best
    if request.path.startswith("/api/") or request.blueprint in JSON_BLUEPRINTS or best == "application/json":
        return problem(status, title, detail, **extra)
    if best == "text/html":
        return make_response(render_template("problem.html", status=status, title=title, detail=detail), status)
    return make_response((f"{title}: {detail}\n", status, {"Content-Type": "text/plain; charset=utf-8"}))


def render_refusal(refusal: Refusal) -> Response:
    title = TITLES.get(refusal.status) or HTTP_STATUS_CODES.get(refusal.status, "Refused")
    return render_problem(refusal.status, title, refusal.message, field=refusal.field, code=refusal.code,
                          **refusal.extra)


def register_errors(app: Flask) -> None:
    """Every refusal is a 4xx with a sentence a person can act on (refusals.Refusal, rendered once here)."""
    app.register_error_handler(Refusal, render_refusal)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = render_problem(exc.code or 500, exc.name, exc.description or exc.name)
        # Keep what the exception adds, e.g. Allow on a 405 (RFC 9110) or Retry-After.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def database_unavailable(exc):
        # Down, restarting, out of disk or out of connections: nothing was stored, so asking again is
        # safe. Twilio turns a 503 into its fallback URL (README: "When the database is down").
        cause = getattr(exc, "orig", None) or exc
        log.error("database unavailable, answered 503: %s", type(cause).__name__)
        response = render_problem(503, "Service Unavailable",
                                  "The database is not reachable just now; try again in a few seconds.")
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


class RowIntConverter(IntegerConverter):
    """<int:...> for row ids: 0 to the largest id a row can have (MAX_ROW_ID), so a larger number is an
    unknown page (404), not an overflow in the database."""

    def __init__(self, url_map, fixed_digits=0, min=0, max=MAX_ROW_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_control_characters() -> None:
    """storage.text's rule for every request, before any view: the path and query on one line, form
    fields as free text (JSON bodies: web.bodies). A 400 that names the field; nothing is done."""
    form = request.form if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") else None
    # The usual request holds none: each kind of text is searched at once (a character is a control
    # character wherever it stands), and the fields are named only when one does.
    if not has_control(request.path + _all_text(request.args), one_line=True) and not (
            form and has_control(_all_text(form))):
        return
    fields = [("the URL path", request.path, True)]
    fields += [(f"query parameter {name!r}", text, True)
               for name, values in request.args.lists() for text in [name, *values]]
    if form:
        fields += [(f"form field {name!r}", text, False)
                   for name, values in form.lists() for text in [name, *values]]
    for field, text, one_line_only in fields:
        if has_control(text, one_line=one_line_only):
            raise BadRequest(str(TextRefused(field, one_line_only)))


def _all_text(fields) -> str:
    """Every name and value of a MultiDict (the query, a form), run together."""
    return "".join(fields) + "".join(chain.from_iterable(fields.listvalues()))


# Every response carries these unless its view set its own.
SECURITY_HEADERS = (("Content-Security-Policy", CONTENT_SECURITY_POLICY), ("X-Content-Type-Options", "nosniff"),
                    ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"))


def register_security_headers(app: Flask) -> None:
    @app.before_request
    def refuse_oversized_chunked_body():
        if request.environ.get("ivr.body_too_large"):
            raise RequestEntityTooLarge()

    app.before_request(refuse_control_characters)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        present = {name.lower() for name, _ in headers}  # one pass, not one per header (setdefault)
        headers.extend([(name, value) for name, value in SECURITY_HEADERS if name.lower() not in present])
        return response
