"""Signing in and out: the form, the per-address and per-account throttle, and sign-out everywhere."""
from __future__ import annotations

from flask import Response, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many

from storage.db import transaction
from supervisor import auth
from supervisor.http import bp, login_required, safe_next
from web.limits import account_key, limiter  # the app's one rate limiter (memory, or RATELIMIT_STORAGE_URI)
from web.runtime import runtime


def login_limit() -> str:
    return current_app.config["SUPERVISOR_LOGIN_LIMIT"]


def account_limit() -> str:
    return current_app.config["SUPERVISOR_ACCOUNT_LIMIT"]


def _failed(response: Response) -> bool:
    return response.status_code == 401


ACCOUNT_LOCKED = ("This account is locked after too many failed sign-ins. Wait {wait} and try again, or ask an "
                  "admin to set a new password.")


def _window(limit: str) -> str:
    minutes = max(1, max(item.get_expiry() for item in parse_many(limit)) // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@bp.errorhandler(RateLimitExceeded)
def sign_in_throttled(exc: RateLimitExceeded):
    """The sign-in form again, saying why and for how long (the per-address or per-account limit)."""
    flash(exc.description, "error")
    return render_template("supervisor/login.html", next=None), 429


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"], deduct_when=_failed,
               error_message="Too many failed sign-ins from your address; wait a few minutes and try again.")
@limiter.limit(account_limit, key_func=account_key, methods=["POST"], deduct_when=_failed,
               error_message=lambda: ACCOUNT_LOCKED.format(wait=_window(account_limit())))
def login():
    if request.method == "GET":
        if g.user is not None:
            return redirect(url_for("supervisor.queue_page"))
        return render_template("supervisor/login.html", next=safe_next(request.args.get("next")))
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    with transaction(runtime().sessions) as db:
        user = auth.authenticate(db, username, password)
        if user is not None:
            user_id, version = user.id, user.session_version
    if user is None:
        flash("That username and password do not match an active account.", "error")
        return render_template("supervisor/login.html", next=safe_next(request.form.get("next")),
                               username=username), 401
    session.clear()  # a fresh session (and CSRF token) for the new sign-in
    session["user_id"] = user_id
    session["sv"] = version  # no part of the password hash travels in the cookie
    session["signed_in_at"] = runtime().clock.now().timestamp()
    return redirect(safe_next(request.form.get("next")) or url_for("supervisor.queue_page"))


@bp.post("/logout")
@login_required
def logout():
    # Server-side: every cookie of this sign-in (copies included) stops working, not just this one.
    with transaction(runtime().sessions) as db:
        auth.end_sessions(db, g.user.id)
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("supervisor.login"))
