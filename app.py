"""Application factory. `python app.py` runs the IVR on its embedded default (SQLite in instance/)."""
from __future__ import annotations

import logging
import os
import re
import secrets
import traceback

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from agents import plugin as agents_plugin
from callbacks import plugin as callbacks_plugin
from clock import Clock
from config import ConfigError, Settings, load_ivr_config
from devphone import plugin as devphone_plugin
from devphone.wiring import DevPhone
from ivr import plugin as ivr_plugin
from ops import plugin as ops_plugin
from phone_numbers import DialPolicy, set_dial_policy
from privacy import plugin as privacy_plugin
from speech import plugin as speech_plugin
from storage.db import make_engine, make_sessionmaker, migrate
from supervisor import plugin as supervisor_plugin
from telephony import plugin as telephony_plugin
from understanding import Understanding
from web import plugin as web_plugin
from web.runtime import Runtime
from webhooks import plugin as webhooks_plugin

log = logging.getLogger("ivr")

# The checkout's instance/ folder: the generated SECRET_KEY (and the embedded default database) live there.
INSTANCE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance")

# The one way a package attaches to the app: its plugin.py's load(app, runtime), in this order.
PLUGINS = (
    web_plugin,  # error rendering, bounded bodies, security headers, rate limits
    ops_plugin,  # /healthz (alive) and /readyz (database, migrations, scheduler leader)
    webhooks_plugin,  # Twilio's calls and media streams, the calls the dispatcher places, web/chat/SMS/API
    ivr_plugin,  # `ivr flow ...`
    speech_plugin,  # `ivr speech ...`
    telephony_plugin,  # `ivr devphone call`: the IVR through the Twilio emulator
    supervisor_plugin,  # /supervisor pages, their CSRF, `ivr users`
    agents_plugin,  # /api/agents, `ivr agents`
    callbacks_plugin,  # the dispatcher; its scheduler only with DISPATCHER=on
    privacy_plugin,  # `ivr privacy export|erase|retain`
    devphone_plugin,  # /dev-phone when the dev phone is on: a customer's and an agent's phone in the browser
)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, twilio_client=None,
               migrate_schema: bool = True) -> Flask:
    settings = settings or Settings.from_env()
    clock = clock or Clock()
    # The dev phone (devphone/): in development, Twilio emulated in this process; None when it is off.
    dev_phone = DevPhone.for_app(settings, twilio_client, clock)
    if dev_phone is not None:  # without credentials: its REST client, made-up webhook token and number
        settings, twilio_client = dev_phone.settings, twilio_client or dev_phone.client
    app = Flask(__name__, instance_path=INSTANCE_PATH)
    install_log_redaction()
    # Which numbers and SIP domains callbacks and agents may be dialled at (toll fraud stays out).
    set_dial_policy(DialPolicy.from_names(settings.dial_number_kinds, settings.agent_sip_domains,
                                          settings.allowed_countries))
    # X-Forwarded-* only from the proxies the operator says are there: from anyone else they would
    # choose the address limits and logs see, and the host a Twilio signature is checked against.
    if settings.trusted_proxy_hops:
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    secret = settings.secret_key or instance_secret(app.instance_path)
    app.config.update(
        SECRET_KEY=secret,
        TWILIO_AUTH_TOKEN=settings.twilio_auth_token,
        PUBLIC_BASE_URL=settings.public_base_url,
        JSON_SORT_KEYS=False,
    )
    if migrate_schema:
        migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    ivr_config = load_ivr_config(settings.ivr_config_path)
    if dev_phone is not None:  # its "open every team for this demo" switch (routing.hours.DemoHours)
        ivr_config = dev_phone.demo_hours.wire(ivr_config)
    if twilio_client is None and settings.twilio_account_sid and settings.twilio_auth_token:
        from twilio.rest import Client

        twilio_client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    runtime = app.extensions["ivr"] = Runtime(
        settings=settings, engine=engine, sessions=make_sessionmaker(engine), clock=clock,
        ivr_config=ivr_config, twilio=twilio_client,
        # Barge-in moves live calls with Twilio's REST API: without a client, questions take keys only.
        speech_languages=speech_languages(settings, ivr_config) if twilio_client is not None else frozenset(),
        understanding=Understanding.for_config(ivr_config),
    )
    if dev_phone is not None:
        runtime.extras["dev_phone"] = dev_phone
    for plugin in PLUGINS:
        plugin.load(app, runtime)
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


# What logs must not hold: phone numbers (+ and 7-15 digits, however grouped, or a bare run of 9-15
# digits) keep their last four digits; tokens and signatures in URLs are dropped.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d(?:[ ().-]{0,2}\d){6,14}|\d{9,15})(?!\w)")
# (The lookahead on the names' first letters halves the search: every request's access line goes through it.)
_SECRET = re.compile(r"(?i)\b(?=[fstb])((?:form_)?token|signature|bodySHA256)=[^&\s\"']+")


def redact(text: str) -> str:
    if "=" in text:  # (most lines, gunicorn's access line among them, have no name=value to hide)
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


def describe_setup(settings: Settings, dev_phone=None) -> str:
    """What the operator reads at start: where to point Twilio, and what is missing. `settings` as the
    operator set them; `dev_phone` the app's (devphone/wiring.py), which may have made up a webhook token."""
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
        made_up = not settings.twilio_auth_token and dev_phone is not None
        # As webhooks/security.py answers: no token at all is 503; a token (ours or the dev phone's) that
        # does not match the signature is 403.
        token = ("Webhooks are checked with a token the dev phone made up at start: it signs its own, and any "
                 "other request (unsigned, or signed by Twilio) is refused (403)" if made_up else
                 "Without TWILIO_AUTH_TOKEN every webhook is refused (503)" if not settings.twilio_auth_token else
                 "Webhooks not signed with TWILIO_AUTH_TOKEN are refused (403)")
        lines.append(
            "Not set: " + ", ".join(missing) + f". {token}; "
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
    print(describe_setup(settings, app.extensions.get("devphone")), flush=True)
    if "devphone" in app.extensions:
        print(app.extensions["devphone"].describe(), flush=True)
    load_speech(app)  # loads the models now and warns once for a language without one
    if os.environ.get("DISPATCHER", "on").lower() not in ("off", "0", "false", "no"):
        from callbacks.scheduler import start_service

        start_service(app.extensions["ivr"])  # one process on the database holds the lease and dials (docs/dispatcher.md)
    app.run(host=settings.host, port=settings.port, threaded=True)


if __name__ == "__main__":
    main()
