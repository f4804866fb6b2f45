"""Application factory. `python app.py` runs the IVR on its embedded default (SQLite in instance/)."""
from __future__ import annotations

import io
import logging
import os
import re
import secrets
import traceback

from flask import Flask, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter
from werkzeug.middleware.proxy_fix import ProxyFix

from callbacks.exceptions import CallbackError
from callbacks.numbers import DialPolicy, set_dial_policy
from clock import Clock
from config import ConfigError, Settings, load_ivr_config
from devphone.wiring import DevPhone
from ivr.flow import TurnMismatch, UnknownCall
from understanding import Understanding
from storage.db import make_engine, make_sessionmaker, migrate
from storage.models import MAX_ROW_ID
from storage.text import TextRefused, has_control
from webhooks.problems import problem as problem_json
from webhooks.runtime import Runtime

log = logging.getLogger("ivr")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, twilio_client=None,
               migrate_schema: bool = True) -> Flask:
    settings = settings or Settings.from_env()
    clock = clock or Clock()
    # The dev phone (devphone/): in development, Twilio emulated in this process; None when it is off.
    dev_phone = DevPhone.for_app(settings, twilio_client, clock)
    if dev_phone is not None:  # without credentials: its REST client, made-up webhook token and number
        settings, twilio_client = dev_phone.settings, twilio_client or dev_phone.client
    app = Flask(__name__, instance_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance"))
    # Before any route is added: an <int:...> that no id column can hold does not match (404).
    app.url_map.converters["int"] = RowIntConverter
    install_log_redaction()
    # Which numbers and SIP domains callbacks and agents may be dialled at (toll fraud stays out).
    set_dial_policy(DialPolicy.from_names(settings.dial_number_kinds, settings.agent_sip_domains,
                                          settings.allowed_countries))
    # X-Forwarded-* only from the proxies the operator says are there: from anyone else they would
    # choose the address limits and logs see, and the host a Twilio signature is checked against.
    if settings.trusted_proxy_hops:
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    app.wsgi_app = BoundedBody(app.wsgi_app, MAX_BODY_BYTES)
    secret = settings.secret_key or instance_secret(app.instance_path)
    app.config.update(
        SECRET_KEY=secret,
        TWILIO_AUTH_TOKEN=settings.twilio_auth_token,
        PUBLIC_BASE_URL=settings.public_base_url,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
    )
    if migrate_schema:
        migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    ivr_config = load_ivr_config(settings.ivr_config_path)
    if twilio_client is None and settings.twilio_account_sid and settings.twilio_auth_token:
        from twilio.rest import Client

        twilio_client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    app.extensions["ivr"] = Runtime(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine), clock=clock,
        ivr_config=ivr_config, twilio=twilio_client,
        # Barge-in moves live calls with Twilio's REST API: without a client, questions take keys only.
        speech_languages=speech_languages(settings, ivr_config) if twilio_client is not None else frozenset(),
        understanding=Understanding.for_config(ivr_config),
    )

    from webhooks.voice import voice

    app.register_blueprint(voice)
    from ivr.cli import ivr_cli
    from speech.cli import speech_cli
    from webhooks.media import init_media

    init_media(app)  # /media: Twilio Media Streams carrying spoken answers
    app.cli.add_command(speech_cli)
    app.cli.add_command(ivr_cli)
    from telephony.cli import devphone_cli

    app.cli.add_command(devphone_cli)  # `ivr devphone call`: the IVR through the Twilio emulator
    from webhooks.public import register_public

    register_public(app)  # web/chat/SMS callbacks, the button and its demo page
    from supervisor.http import init_app as register_supervisor

    register_supervisor(app)  # /supervisor pages, their CSRF, `ivr users`
    from agents.cli import agents_cli
    from agents.http import agents_api
    from callbacks.scheduler import install as install_dispatcher
    from webhooks.outbound import outbound

    app.register_blueprint(outbound)  # the calls the dispatcher places
    app.register_blueprint(agents_api)
    app.cli.add_command(agents_cli)
    install_dispatcher(app)  # builds the dispatcher; runs its scheduler only with DISPATCHER=on
    register_errors(app)
    register_security_headers(app)
    if dev_phone is not None:
        from devphone.http import install as install_dev_phone

        install_dev_phone(app, dev_phone)  # /dev-phone: a customer's and an agent's phone in the browser
    return app


def speech_languages(settings: Settings, ivr_config) -> frozenset[str]:
    """The caller languages a speech engine is set up for; the others get keypad-only prompts.
    Nothing is loaded here, so commands start fast: the server loads the engines (load_speech)."""
    if not settings.speech_enabled:
        return frozenset()
    from speech.engines import speech_configured

    return frozenset(lang for lang in ivr_config.languages
                     if speech_configured(lang, default_language=ivr_config.default_language))


def load_speech(app: Flask) -> None:
    """When the server starts: load each language's engine now rather than on a caller's first words,
    and warn once for each language that has none (speech.engines says how to add one)."""
    rt = app.extensions["ivr"]
    if not rt.settings.speech_enabled:
        return
    from speech.engines import speech_available

    loaded = {lang for lang in rt.ivr_config.languages
              if speech_available(lang, default_language=rt.ivr_config.default_language)}
    rt.speech_languages = frozenset(rt.speech_languages & loaded)
    if rt.speech_languages:
        from speech.engines import prepare_for_calls

        # Build every question's search now, so the first callers do not wait for it.
        prepare_for_calls(rt.ivr_config)


def instance_secret(instance_path: str) -> str:
    """Without SECRET_KEY, a key generated once and kept in instance/ so sessions survive restarts."""
    path = os.path.join(instance_path, "secret_key")
    if os.path.exists(path):
        with open(path) as fh:
            return fh.read().strip()
    os.makedirs(instance_path, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    log.warning("SECRET_KEY is not set: generated one in %s. Set SECRET_KEY (the same on every machine) "
                "when you run more than one.", path)
    return key


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


class RowIntConverter(IntegerConverter):
    """<int:...> for row ids: 0 to the largest id a row can have (MAX_ROW_ID), so a larger number is an
    unknown page (404), not an overflow in the database."""

    def __init__(self, url_map, fixed_digits=0, min=0, max=MAX_ROW_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def refuse_control_characters() -> None:
    """storage.text's rule for every request, before any view: the path and query on one line, form
    fields as free text (JSON bodies: webhooks.bodies). A 400 that names the field; nothing is done."""
    fields = [("the URL path", request.path, True)]
    fields += [(f"query parameter {name!r}", text, True)
               for name, values in request.args.lists() for text in [name, *values]]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields += [(f"form field {name!r}", text, False)
                   for name, values in request.form.lists() for text in [name, *values]]
    for field, text, one_line in fields:
        if has_control(text, one_line=one_line):
            raise BadRequest(str(TextRefused(field, one_line)))


def register_security_headers(app: Flask) -> None:
    @app.before_request
    def refuse_oversized_chunked_body():
        if request.environ.get("ivr.body_too_large"):
            raise RequestEntityTooLarge()

    app.before_request(refuse_control_characters)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


# What logs must not hold: phone numbers (+ and 7-15 digits, however grouped, or a bare run of 9-15
# digits) keep their last four digits; tokens and signatures in URLs are dropped.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d(?:[ ().-]{0,2}\d){6,14}|\d{9,15})(?!\w)")
_SECRET = re.compile(r"(?i)\b((?:form_)?token|signature|bodySHA256)=[^&\s\"']+")


def redact(text: str) -> str:
    text = _SECRET.sub(lambda m: f"{m.group(1)}=[hidden]", text)
    return _PHONE.sub(lambda m: "[number …" + re.sub(r"\D", "", m.group(0))[-4:] + "]", text)


# Control characters (and Unicode's line separators) in what a log line shows: a newline from a request
# would otherwise start a forged record.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


# Colours (werkzeug's access log) are dropped rather than shown escaped.
_COLOURS = re.compile("\x1b\\[[0-9;]{0,12}m")


def escape_controls(text: str) -> str:
    text = _COLOURS.sub("", text)
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def _exception_text(exc_info) -> str:
    """A traceback as logging writes it, with every exception's message (and notes) on its own line."""
    shown = traceback.TracebackException(*exc_info)
    pending, seen = [shown], set()
    while pending:
        part = pending.pop()
        if part is None or id(part) in seen:
            continue
        seen.add(id(part))
        if isinstance(getattr(part, "_str", None), str):
            part._str = escape_controls(part._str)
        if getattr(part, "__notes__", None):
            part.__notes__ = [escape_controls(str(note)) for note in part.__notes__]
        pending += [part.__cause__, part.__context__, *(getattr(part, "exceptions", None) or ())]
    return "".join(shown.format()).rstrip("\n")


def install_log_redaction() -> None:
    """Every log record of the process (ours, werkzeug's access log, flask-limiter, twilio, tracebacks)
    is redacted and its control characters escaped as it is made, whatever handler later writes it:
    one record is one line (a traceback's own lines aside), whatever a request put in it."""
    current = logging.getLogRecordFactory()
    if getattr(current, "redacts", False):
        return

    def factory(*args, **kwargs):
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is logged as it is
            return record
        record.msg, record.args = escape_controls(redact(message)), None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(_exception_text(record.exc_info))
        return record

    factory.redacts = True
    logging.setLogRecordFactory(factory)


def describe_setup(settings: Settings) -> str:
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    lines = [
        f"IVR listening on http://{settings.host}:{settings.port} (database: {settings.database_url})",
        "Point your Twilio number's webhooks at:",
        f"  A call comes in:      POST {base}/voice/incoming",
        f"  Call status changes:  POST {base}/voice/status",
        f"  A message comes in:   POST {base}/webhooks/sms",
        f"Supervisors sign in at {base}/supervisor/ (first admin: ivr users create NAME --role admin).",
        f"The call-me-back button's demo page: {base}/demo",
    ]
    missing = settings.missing_for_twilio()
    if missing:
        lines.append(
            "Not set: " + ", ".join(missing) + ". Without TWILIO_AUTH_TOKEN every webhook is refused (503), "
            "without TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN no callback can be dialled, and without "
            "PUBLIC_BASE_URL the URLs above are only reachable locally (use a tunnel, see README)."
        )
    return "\n".join(lines)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    try:
        app = create_app(settings)
    except ConfigError as exc:
        raise SystemExit(f"Configuration problem: {exc}")
    print(describe_setup(settings), flush=True)
    if "devphone" in app.extensions:
        print(app.extensions["devphone"].describe(), flush=True)
    load_speech(app)  # loads the models now and warns once for a language without one
    if os.environ.get("DISPATCHER", "on").lower() not in ("off", "0", "false", "no"):
        from callbacks.scheduler import start_service

        start_service(app)  # one process on the database holds the lease and dials (docs/dispatcher.md)
    app.run(host=settings.host, port=settings.port, threaded=True)


if __name__ == "__main__":
    main()
