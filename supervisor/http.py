"""The supervisor pages: sign in, the live queue, steering actions, agents, figures, users.

Thin: parse the form, call supervisor.services / agents.services / supervisor.metrics in one
transaction, render. Every route needs a signed-in user (admin-only ones say so); every unsafe
request carries a CSRF token (flask-wtf), checked here only, so Twilio's webhooks and the JSON API
are untouched.
"""
from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (Blueprint, Flask, Response, current_app, flash, g, jsonify, redirect, render_template,
                   request, session, stream_with_context, url_for)
from flask_wtf.csrf import CSRFError, CSRFProtect
from limits import parse_many
from sqlalchemy.orm.exc import StaleDataError

from agents import services as agents
from agents.exceptions import AgentError
from callbacks.exceptions import CallbackError
from callbacks.scheduler import hang_up_cancelled, wake_dispatcher
from routing import hours
from storage.db import transaction
from storage.models import AGENT_STATES, QueueEvent, User
from storage.text import has_control
from supervisor import auth, board, charts, live, metrics, services
# the app's one rate limiter (memory, or RATELIMIT_STORAGE_URI)
from webhooks.limits import refund_sign_in, reserve_sign_in
from webhooks.problems import problem
from webhooks.runtime import runtime

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor", template_folder="templates",
               static_folder="static/supervisor", static_url_path="/static")


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
CHANNELS = {"phone": "Phone", "web": "Web", "chat": "Chat", "sms": "SMS", "api": "API"}


def init_app(app: Flask) -> None:
    """Register the pages, CSRF (for this blueprint only) and the `flask users` command."""
    from supervisor.cli import users_cli

    # Only this blueprint's forms are checked (see before_request); tokens live as long as the sign-in.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Flask ships these keys (None / False), so they are set, not setdefault-ed. Served over https
    # (PUBLIC_BASE_URL says so), the sign-in cookie never travels in clear text.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = (app.config.get("PUBLIC_BASE_URL") or "").startswith("https://")
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
    # Browsers ask every site for /favicon.ico: answer with the product's icon, not a 404 in the console.
    app.add_url_rule("/favicon.ico", "favicon", favicon)


def favicon():
    from flask import send_from_directory

    return send_from_directory(bp.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 24 * 3600)


# ---- who is asking ----------------------------------------------------------------------------

@bp.before_request
def load_user():
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        with runtime().sessions() as db:
            user = db.get(User, user_id)
            signed_in = session.get("signed_in_at", 0)
            fresh = datetime.now(timezone.utc).timestamp() - signed_in < SESSION_HOURS * 3600
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
        if request.form.get("back") and _safe_next(request.form["back"]) is None:
            return _problem(400, "back must be a page of the supervisor site, on one line")


@bp.errorhandler(CSRFError)
def csrf_refused(exc: CSRFError):
    message = "This form has expired or did not come from this site. Reload the page and try again."
    if _wants_json():
        return _problem(400, message)
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
    return {"me": g.get("user"), "channels": CHANNELS, "now": runtime().clock.now(), "act_url": act_url,
            "back_to": back.rstrip("?")}


def act_url(public_id: str, action: str) -> str:
    """url_for(".act") for a board of hundreds of rows, without hundreds of url_for calls."""
    prefix = g.get("act_prefix")
    if prefix is None:
        prefix = g.act_prefix = url_for("supervisor.act", public_id="ID", action="A")[: -len("/ID/A")]
    return f"{prefix}/{public_id}/{action}"


# ---- sign in / out ----------------------------------------------------------------------------

ACCOUNT_LOCKED = ("This account is locked after too many failed sign-ins. Wait {wait} and try again, or ask an "
                  "admin to set a new password.")
ADDRESS_THROTTLED = "Too many failed sign-ins from your address; wait a few minutes and try again."


def _window(limit: str) -> str:
    minutes = max(1, max(item.get_expiry() for item in parse_many(limit)) // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _sign_in_throttled(message: str, retry_after: int):
    """The sign-in form again, saying why and for how long (the per-address or per-account limit)."""
    flash(message, "error")
    return render_template("supervisor/login.html", next=None), 429, {"Retry-After": str(retry_after)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.user is not None:
            return redirect(url_for("supervisor.queue_page"))
        return render_template("supervisor/login.html", next=_safe_next(request.args.get("next")))
    refused = reserve_sign_in()  # counted as a failure before the password is looked at
    if refused is not None:
        limit, wait = refused
        message = ADDRESS_THROTTLED if limit == "SUPERVISOR_LOGIN_LIMIT" else \
            ACCOUNT_LOCKED.format(wait=_window(current_app.config[limit]))
        return _sign_in_throttled(message, wait)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    with transaction(runtime().sessions) as db:
        user = auth.authenticate(db, username, password)
        if user is not None:
            user_id, version = user.id, user.session_version
    if user is None:
        flash("That username and password do not match an active account.", "error")
        return render_template("supervisor/login.html", next=_safe_next(request.form.get("next")),
                               username=username), 401
    refund_sign_in()
    session.clear()  # a fresh session (and CSRF token) for the new sign-in
    session["user_id"] = user_id
    session["sv"] = version  # no part of the password hash travels in the cookie
    session["signed_in_at"] = datetime.now(timezone.utc).timestamp()
    return redirect(_safe_next(request.form.get("next")) or url_for("supervisor.queue_page"))


@bp.post("/logout")
@login_required
def logout():
    # Server-side: every cookie of this sign-in (copies included) stops working, not just this one.
    with transaction(runtime().sessions) as db:
        auth.end_sessions(db, g.user.id)
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("supervisor.login"))


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    if has_control(target, one_line=True):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/supervisor/") or parts.path.startswith("//"):
        return None
    return target


# ---- the queue ----------------------------------------------------------------------------------

def _board_context(skill: str | None) -> dict:
    rt = runtime()
    now = rt.clock.now()
    with rt.sessions() as db:
        boards = board.build(db, rt.ivr_config, now, skill=skill)
        agent_list = agents.list_agents(db)
        mark = live.marker(db)
        db.expunge_all()
    return {"boards": boards, "agents": agent_list, "marker": mark, "skill": skill,
            "skills": list(rt.ivr_config.skills), "agent_states": AGENT_STATES, "now": now,
            "row_limit": board.ROWS_PER_SECTION,
            "server_now_ms": int(now.timestamp() * 1000)}


def _skill_param() -> str | None:
    skill = request.args.get("skill") or None
    return skill if skill in runtime().ivr_config.skills else None


@bp.get("/")
@login_required
def queue_page():
    return render_template("supervisor/queue.html", **_board_context(_skill_param()))


@bp.get("/board")
@login_required
def board_fragment():
    """The live part of the queue page, fetched by the page's script when the stream says 'change'."""
    return render_template("supervisor/_board.html", **_board_context(_skill_param()))


@bp.get("/stream")
@login_required
def stream():
    since = request.headers.get("Last-Event-ID") or request.args.get("since")
    sessions = runtime().sessions
    response = Response(stream_with_context(live.stream(sessions, since)), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return response


@bp.get("/entries/<public_id>")
@login_required
def entry_page(public_id: str):
    rt = runtime()
    with rt.sessions() as db:
        from callbacks.services import get_entry

        entry = get_entry(db, public_id)
        events = list(entry.events)
        rows = [r for b in board.build(db, rt.ivr_config, rt.clock.now(), skill=entry.skill) for r in b.rows
                if r.entry.id == entry.id]
        context = board.customer_context(entry, rt.ivr_config)
        db.expunge_all()
    return render_template("supervisor/entry.html", entry=entry, events=events, row=rows[0] if rows else None,
                           skills=list(rt.ivr_config.skills), context=context, trail_details=board.trail_details)


ACTIONS = ("call-now", "reschedule", "cancel", "priority", "move", "note", "retry", "close")


@bp.post("/entries/<public_id>/<action>")
@login_required
def act(public_id: str, action: str):
    if action not in ACTIONS:
        return _problem(404, f"unknown action {action!r}")
    rt = runtime()
    actor = g.user.username
    form = request.form
    try:
        version = int(form.get("version", ""))
    except ValueError:
        version = None
    try:
        with services.steering(), transaction(rt.sessions) as db:
            now = rt.clock.now()
            if action == "call-now":
                entry = services.call_now(db, public_id, version, actor=actor, now=now)
                message = "Calling now: at the head of the line for the next free agent."
            elif action == "reschedule":
                when = _parse_local(form.get("when", ""), form.get("zone") or "UTC")
                entry = services.reschedule(db, public_id, version, when=when, actor=actor, now=now,
                                            config=rt.ivr_config, reason=form.get("reason"))
                message = f"Rescheduled to {local_filter(when, entry.customer_timezone or form.get('zone'))}."
            elif action == "cancel":
                entry = services.cancel(db, public_id, version, reason=form.get("reason", ""), actor=actor, now=now)
                message = "Cancelled."
            elif action == "priority":
                entry = services.set_priority(db, public_id, version, priority=_priority(form), actor=actor,
                                              now=now)
                message = f"Priority is now {entry.priority}."
            elif action == "move":
                entry = services.move_skill(db, public_id, version, skill=form.get("skill", ""), actor=actor,
                                            now=now, config=rt.ivr_config)
                message = f"Moved to {entry.skill}."
            elif action == "note":
                entry = services.add_note(db, public_id, version, text=form.get("text", ""), actor=actor, now=now)
                message = "Note added."
            elif action == "retry":
                entry = services.retry_failed(db, public_id, version, actor=actor, now=now)
                message = "Back in line for another try."
            else:
                entry = services.close_failed(db, public_id, version, actor=actor, now=now,
                                              reason=form.get("reason"))
                message = "Closed."
            new_version = entry.version
    except hours.TimeRefused as refused:
        return _answer(400, f"Cannot use that time: {refused}")
    except CallbackError as exc:
        return _answer(exc.status, str(exc))
    if action in ("call-now", "retry"):
        wake_dispatcher(rt)
    elif action == "cancel":
        hang_up_cancelled(rt, entry.id)
    return _answer(200, message, version=new_version)


def _priority(form) -> int:
    raw = form.get("priority", "")
    try:
        if raw in ("up", "down"):
            return int(form.get("current", "0")) + (1 if raw == "up" else -1)
        return int(raw)
    except ValueError:
        raise services.SteeringRefused("priority is a whole number") from None


def _parse_local(raw: str, zone_name: str) -> datetime:
    """A datetime-local field ('2026-11-25T14:30') in the chosen zone, to UTC (refusing DST gaps)."""
    try:
        local = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise services.SteeringRefused("give the new time as date and time (YYYY-MM-DD HH:MM)") from None
    if local.tzinfo is not None:
        return local.astimezone(timezone.utc)
    try:
        zone = ZoneInfo(zone_name)
    except Exception:
        raise services.SteeringRefused(f"unknown time zone {zone_name!r}") from None
    return hours.local_to_utc(local.date(), local.time(), zone)


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch" or request.accept_mimetypes.best == "application/json"


def _problem(status: int, message: str):
    return problem(status, "Refused", message)


def _answer(status: int, message: str, **extra):
    if _wants_json():
        if status < 400:
            return jsonify({"ok": True, "message": message, **extra})
        return _problem(status, message)
    flash(message, "info" if status < 400 else "error")
    back = _safe_next(request.form.get("back")) or _safe_next(_referrer_path()) or url_for("supervisor.queue_page")
    return redirect(back, code=303)


def _referrer_path() -> str | None:
    if not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


# ---- agents -------------------------------------------------------------------------------------

@bp.get("/agents")
@login_required
def agents_page():
    rt = runtime()
    with rt.sessions() as db:
        agent_list = agents.list_agents(db)
        db.expunge_all()
    return render_template("supervisor/agents.html", agents=agent_list, skills=list(rt.ivr_config.skills),
                           agent_states=AGENT_STATES)


@bp.post("/agents/<int:agent_id>/state")
@login_required
def agent_state(agent_id: int):
    rt = runtime()
    state = request.form.get("state", "")
    try:
        with transaction(rt.sessions) as db:
            agent = agents.get_agent(db, agent_id)
            try:
                shown = int(request.form.get("version", ""))
            except ValueError:
                shown = None
            if shown is not None and shown != agent.version and agent.state != request.form.get("shown_state"):
                return _answer(409, f"{agent.name} is now {agent.state.replace('_', ' ')} (changed since your "
                                    "page showed them); check and try again.")
            agents.set_state(db, agent, state, rt.clock.now(), actor=g.user.username, reason="supervisor page")
            name = agent.name
    except StaleDataError:
        return _answer(409, "That agent changed at the same moment; the page shows the latest state.")
    except CallbackError as exc:
        return _answer(exc.status, str(exc))
    if state == "available":
        wake_dispatcher(rt)
    return _answer(200, f"{name} is now {state.replace('_', ' ')}.")


@bp.post("/agents")
@role_required("admin")
def agent_add():
    rt = runtime()
    form = request.form
    try:
        with transaction(rt.sessions) as db:
            agent = agents.add_agent(db, name=form.get("name", ""), address=form.get("address", ""),
                                     skills=_parse_skills(form.get("skills", "")), now=rt.clock.now(),
                                     wrap_up_seconds=_int(form.get("wrap_up_seconds"), 30),
                                     known_skills=set(rt.ivr_config.skills))
            name = agent.name
    except CallbackError as exc:
        return _answer(exc.status, str(exc))
    return _answer(200, f"Agent {name} added (offline until set available).")


@bp.post("/agents/<int:agent_id>")
@role_required("admin")
def agent_update(agent_id: int):
    rt = runtime()
    form = request.form
    try:
        with transaction(rt.sessions) as db:
            agent = agents.get_agent(db, agent_id)
            if form.get("remove"):
                name = agent.name
                agents.remove_agent(db, agent)
                message = f"Agent {name} removed."
            else:
                agents.update_agent(db, agent, now=rt.clock.now(), name=form.get("name") or None,
                                    address=form.get("address") or None,
                                    skills=_parse_skills(form["skills"]) if form.get("skills") else None,
                                    wrap_up_seconds=_int(form.get("wrap_up_seconds"), None),
                                    known_skills=set(rt.ivr_config.skills))
                message = f"Agent {agent.name} saved."
    except StaleDataError:
        return _answer(409, "That agent changed at the same moment; reload and try again.")
    except CallbackError as exc:
        return _answer(exc.status, str(exc))
    return _answer(200, message)


def _parse_skills(raw: str) -> dict[str, int]:
    """'billing:7, sales' -> {'billing': 7, 'sales': 5}"""
    skills: dict[str, int] = {}
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        name, _, level = part.partition(":")
        try:
            skills[name.strip()] = int(level) if level.strip() else 5
        except ValueError:
            raise AgentError(f"skill level in {part!r} must be a whole number from 1 to 10") from None
    return skills


def _int(raw: str | None, default):
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise AgentError(f"{raw!r} is not a whole number") from None


# ---- figures ------------------------------------------------------------------------------------

def _period() -> tuple[datetime, datetime, str, str, str]:
    """[start, end) from ?period=today|yesterday|7d or ?start=YYYY-MM-DD&end=YYYY-MM-DD (whole days, my zone)."""
    zone = board.zone(g.user.timezone)
    now = runtime().clock.now()
    today = now.astimezone(zone).date()
    period = request.args.get("period") or ("custom" if request.args.get("start") else "today")

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)

    if period == "custom":
        try:
            first = date.fromisoformat(request.args.get("start", ""))
            last = date.fromisoformat(request.args.get("end") or request.args.get("start", ""))
        except ValueError:
            raise services.SteeringRefused("give the period as start and end dates (YYYY-MM-DD)") from None
        if last < first:
            first, last = last, first
        if (last - first).days > 92:
            raise services.SteeringRefused("a period can be at most 92 days")
        try:
            start, end = midnight(first), min(midnight(last + timedelta(days=1)), now)
        except OverflowError:  # the first or last day there is (0001-01-01, 9999-12-31)
            raise services.SteeringRefused("give dates between the years 1 and 9998") from None
    elif period == "yesterday":
        first = last = today - timedelta(days=1)
        start, end = midnight(first), midnight(today)
    elif period == "7d":
        first, last = today - timedelta(days=6), today
        start, end = midnight(first), now
    else:
        period, first, last = "today", today, today
        start, end = midnight(today), now
    # "until now" includes what happened this very second
    if end >= now:
        end = now + timedelta(seconds=1)
    return start, end, period, first.isoformat(), last.isoformat()


def _figures():
    rt = runtime()
    start, end, period, first, last = _period()
    with rt.sessions() as db:
        lines = metrics.timelines(db, start, end)
        figs = metrics.figures(db, list(rt.ivr_config.skills), start, end, lines=lines)
        db.expunge_all()
    return lines, figs, start, end, period, first, last


@bp.get("/metrics")
@login_required
def metrics_page():
    try:
        lines, figs, start, end, period, first, last = _figures()
    except services.SteeringRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("supervisor.metrics_page"))
    zone = board.zone(g.user.timezone)
    skill = _skill_param()
    shown = [skill] if skill else list(figs)
    length = charts.line_chart(
        [charts.Series(s, metrics.queue_length_series(lines, s, start, end)) for s in shown], zone,
        title="People in line over time")
    waits = []
    for s in shown:
        waits += figs[s].waits_to_connect
    wait_chart = charts.histogram_chart(metrics.histogram(waits), title="Waits to connection")
    today_figures = None
    if period != "today":
        # today stays in view while looking at another period
        rt = runtime()
        now = rt.clock.now()
        midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone).astimezone(timezone.utc)
        with rt.sessions() as db:
            today_figures = list(metrics.figures(db, list(rt.ivr_config.skills), midnight,
                                                 now + timedelta(seconds=1)).values())
            db.expunge_all()
    return render_template("supervisor/metrics.html", figures=[figs[s] for s in figs], length_chart=length,
                           today_figures=today_figures,
                           wait_chart=wait_chart, start=start, end=end, period=period, first=first, last=last,
                           skill=skill, skills=list(runtime().ivr_config.skills),
                           sl_seconds=metrics.SERVICE_LEVEL_SECONDS)


@bp.get("/metrics.csv")
@login_required
def metrics_csv():
    try:
        _lines, figs, start, end, *_ = _figures()
    except services.SteeringRefused as exc:
        return _problem(400, str(exc))
    body = metrics.to_csv(list(figs.values()))
    name = f"callback-figures-{start.date().isoformat()}-{end.date().isoformat()}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---- users (admin) and my own settings --------------------------------------------------------

@bp.get("/users")
@role_required("admin")
def users_page():
    with runtime().sessions() as db:
        users = auth.list_users(db)
        db.expunge_all()
    return render_template("supervisor/users.html", users=users, roles=auth.ROLES)


@bp.post("/users")
@role_required("admin")
def user_add():
    form = request.form
    try:
        with transaction(runtime().sessions) as db:
            user = auth.create_user(db, form.get("username", ""), form.get("password", ""),
                                    role=form.get("role", "supervisor"), now=runtime().clock.now(),
                                    timezone=form.get("timezone") or "UTC")
            name = user.username
    except auth.UserError as exc:
        return _answer(400, f"Cannot add that user: {exc}.")
    return _answer(200, f"User {name} added.")


@bp.post("/users/<int:user_id>")
@role_required("admin")
def user_update(user_id: int):
    form = request.form
    try:
        with transaction(runtime().sessions) as db:
            if form.get("password"):
                target = db.get(User, user_id)
                if target is None:
                    raise auth.UserError("no such user")
                auth.set_password(db, target.username, form["password"])
            user = auth.update_user(db, user_id, role=form.get("role") or None,
                                    active={"1": True, "0": False}.get(form.get("active", "")),
                                    timezone=form.get("timezone") or None)
            name = user.username
    except auth.UserError as exc:
        return _answer(400, f"Not saved: {exc}.")
    return _answer(200, f"User {name} saved.")


@bp.post("/me")
@login_required
def my_settings():
    try:
        with transaction(runtime().sessions) as db:
            auth.update_user(db, g.user.id, timezone=request.form.get("timezone") or None)
    except auth.UserError as exc:
        return _answer(400, f"Not saved: {exc}.")
    return _answer(200, "Your time zone is saved.")


# ---- audit trail in words -----------------------------------------------------------------------

@bp.app_template_filter("event_words")
def event_words(event: QueueEvent) -> str:
    name = event.event.replace("_", " ")
    if event.previous_state and event.previous_state != event.state:
        return f"{name} ({event.previous_state.replace('_', ' ')} → {event.state.replace('_', ' ')})"
    return name
