"""The supervisor pages: sign in, the live queue, steering actions, agents, figures, users.

Thin: parse the form, call supervisor.services / agents.services / supervisor.metrics in one
transaction, render. Every route needs a signed-in user (admin-only ones say so); every unsafe
request carries a CSRF token (flask-wtf), checked here only, so Twilio's webhooks and the JSON API
are untouched. One module per area, all on this package's blueprint (supervisor/plugin.py loads them):

- signin.py: sign in and out, the sign-in throttle.
- queue.py: the live queue page, its board fragment and event stream, one entry's page.
- entries.py: the steering actions on an entry, one handler per action (ACTIONS).
- agents.py: the agents page and its changes.
- figures.py: the figures page and its CSV.
- users.py: accounts (admin) and my own settings.
- privacy.py: the admin's erase action for a number.

This module: the blueprint, who may see what, how an answer or a refusal is given (a flash and a
redirect for a form, JSON for the page's scripts), and the template filters.
"""
from __future__ import annotations

import functools
import os
from datetime import datetime
from urllib.parse import urlsplit

from flask import (Blueprint, Response, flash, g, jsonify, redirect, request, send_from_directory, session,
                   url_for)
from flask_wtf.csrf import CSRFError, CSRFProtect

from callbacks import channels
from config import Prompts
from refusals import Refusal
from storage.models import QueueEvent, User
from storage.text import has_control
from supervisor import board
from web.errors import render_refusal
from web.problems import problem
from web.runtime import runtime

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor", template_folder="templates",
               static_folder="static/supervisor", static_url_path="/static",
               root_path=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---- guards: who may see what ---------------------------------------------------------------

def login_required(view):
    """Only for a signed-in, active user; pages redirect to the login form, data endpoints answer 401."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            if _wants_page():
                return redirect(url_for("supervisor.login", next=request.full_path.rstrip("?")))
            return _refuse(401, "Sign in first.")
        return view(*args, **kwargs)

    return wrapped


def role_required(*roles: str):
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None:
                return login_required(view)(*args, **kwargs)
            if g.user.role not in roles:
                return _refuse(403, f"This needs the {' or '.join(roles)} role.")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _wants_page() -> bool:
    return request.method == "GET" and request.accept_mimetypes.accept_html and \
        request.headers.get("X-Requested-With") != "fetch" and request.accept_mimetypes.best != "text/event-stream"


def _refuse(status: int, message: str):
    return problem(status, "Not allowed", message)


csrf = CSRFProtect()

SESSION_HOURS = 12
PUBLIC_ENDPOINTS = ("supervisor.login", "supervisor.static")


def favicon():
    return send_from_directory(bp.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 24 * 3600)


# ---- who is asking ----------------------------------------------------------------------------

@bp.before_request
def load_user():
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        rt = runtime()
        with rt.sessions() as db:
            user = db.get(User, user_id)
            signed_in = session.get("signed_in_at", 0)
            fresh = rt.clock.now().timestamp() - signed_in < SESSION_HOURS * 3600
            # Signing out, a password change or deactivation ends every sign-in of that user.
            if user is not None and user.active and fresh and session.get("sv") == user.session_version:
                db.expunge(user)
                g.user = user
            else:
                session.clear()
    if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
        # Refused here for every route of the blueprint, before anything else runs (the views'
        # decorators say the same; this is the net under them).
        return login_required(lambda: None)()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
        # Where the answer sends the browser back to is checked before anything is written.
        if request.form.get("back") and safe_next(request.form["back"]) is None:
            return refuse_json(400, wording().text("supervisor_back_refused"))


@bp.errorhandler(CSRFError)
def csrf_refused(exc: CSRFError):
    message = wording().text("supervisor_form_expired")
    if wants_json():
        return refuse_json(400, message)
    flash(message, "error")
    return redirect(url_for("supervisor.login" if g.get("user") is None else "supervisor.queue_page"))


@bp.after_request
def no_caching(response: Response) -> Response:
    # Phone numbers and names must not linger in shared caches or the back button after logout.
    if request.endpoint != "supervisor.static":
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.app_template_filter("duration")
def duration_filter(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds}s"
    if seconds < 3600:
        return f"{sign}{seconds // 60}m" + (f" {seconds % 60:02d}s" if seconds % 60 else "")
    return f"{sign}{seconds // 3600}h {seconds % 3600 // 60:02d}m"


@bp.app_template_filter("asked_label")
def asked_label_filter(step: str) -> str:
    """What an IVR step asked, in the supervisor's words (asked_<step> in config/ivr.toml); a step the
    file has no label for (an old call's) by its name."""
    key = f"asked_{step}"
    words = wording()
    return words.text(key) if key in words.table else step.replace("_", " ").capitalize()


@bp.app_template_filter("pct")
def pct_filter(value) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


@bp.app_template_filter("local")
def local_filter(when: datetime | None, zone_name: str | None, with_zone: bool = True) -> str:
    if when is None:
        return "–"
    zone = board.zone(zone_name)
    local = when.astimezone(zone)
    today = runtime().clock.now().astimezone(zone).date()
    text = local.strftime("%H:%M") if local.date() == today else local.strftime("%a %d %b %H:%M")
    return f"{text} {local.tzname()}" if with_zone else text


@bp.app_context_processor
def page_globals():
    if not request.blueprint == "supervisor":
        return {}
    back = url_for("supervisor.queue_page") if request.endpoint == "supervisor.board_fragment" else request.full_path
    return {"me": g.get("user"), "channels": channel_labels(), "now": runtime().clock.now(), "act_url": act_url,
            "back_to": back.rstrip("?")}


def act_url(public_id: str, action: str) -> str:
    """url_for(".act") for a board of hundreds of rows, without hundreds of url_for calls."""
    prefix = g.get("act_prefix")
    if prefix is None:
        prefix = g.act_prefix = url_for("supervisor.act", public_id="ID", action="A")[: -len("/ID/A")]
    return f"{prefix}/{public_id}/{action}"


@bp.errorhandler(Refusal)
def refused(exc: Refusal):
    """A form's change refused by the domain is said on the page it came from (or to its script); a
    page that cannot be shown (an unknown entry) is the app's one refusal page."""
    if request.method == "GET":
        return render_refusal(exc)
    # The app's one refusal shape for the page's scripts: its code, field and extra members (e.g. next_free).
    return answer(exc.status, exc.message, code=exc.code, field=exc.field, **exc.extra)


# ---- answers ------------------------------------------------------------------------------------

def channel_labels() -> dict[str, str]:
    """Each channel as the supervisor pages name it (channel_<name> in config/ivr.toml)."""
    words = wording()
    return {name: words.text(f"channel_{name}") for name in channels.BY_NAME}


def wording() -> Prompts:
    """The supervisor pages' wording (config/ivr.toml, supervisor_*), in the IVR file's default language."""
    config = runtime().ivr_config
    return Prompts(config, config.default_language)


def wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch" or request.accept_mimetypes.best == "application/json"


def refuse_json(status: int, message: str, **extra):
    return problem(status, "Refused", message, **extra)


def answer(status: int, message: str, **extra):
    if wants_json():
        if status < 400:
            return jsonify({"ok": True, "message": message, **extra})
        return refuse_json(status, message, **extra)
    flash(message, "info" if status < 400 else "error")
    back = safe_next(request.form.get("back")) or safe_next(referrer_path()) or url_for("supervisor.queue_page")
    return redirect(back, code=303)


def referrer_path() -> str | None:
    if not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def safe_next(target: str | None) -> str | None:
    if not target:
        return None
    if has_control(target, one_line=True):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/supervisor/") or parts.path.startswith("//"):
        return None
    return target


def skill_param() -> str | None:
    skill = request.args.get("skill") or None
    return skill if skill in runtime().ivr_config.skills else None


# ---- audit trail in words -----------------------------------------------------------------------

@bp.app_template_filter("event_words")
def event_words(event: QueueEvent) -> str:
    name = event.event.replace("_", " ")
    if event.previous_state and event.previous_state != event.state:
        return f"{name} ({event.previous_state.replace('_', ' ')} → {event.state.replace('_', ' ')})"
    return name
