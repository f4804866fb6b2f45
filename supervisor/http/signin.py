"""Signing in and out: the form, the per-address and per-account throttle, and sign-out everywhere."""
from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from limits import parse_many

from storage.db import transaction
from supervisor import auth
from supervisor.http import bp, login_required, safe_next, wording
# the app's one rate limiter (memory, or RATELIMIT_STORAGE_URI)
from web.limits import refund_sign_in, reserve_sign_in
from web.runtime import runtime


def _window(limit: str) -> str:
    minutes = max(1, max(item.get_expiry() for item in parse_many(limit)) // 60)
    return wording().fragment("minutes_exact_one") if minutes == 1 else \
        wording().fragment("minutes_exact_many", n=minutes)


def _sign_in_throttled(message: str, retry_after: int):
    """The sign-in form again, saying why and for how long (the per-address or per-account limit)."""
    flash(message, "error")
    return render_template("supervisor/login.html", next=None), 429, {"Retry-After": str(retry_after)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if g.user is not None:
            return redirect(url_for("supervisor.queue_page"))
        return render_template("supervisor/login.html", next=safe_next(request.args.get("next")))
    refused = reserve_sign_in()  # counted as a failure before the password is looked at
    if refused is not None:
        limit, wait = refused
        message = wording().text("supervisor_address_throttled") if limit == "SUPERVISOR_LOGIN_LIMIT" else \
            wording().text("supervisor_account_locked", wait=_window(current_app.config[limit]))
        return _sign_in_throttled(message, wait)
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    with transaction(runtime().sessions) as db:
        user = auth.authenticate(db, username, password)
        if user is not None:
            user_id, version = user.id, user.session_version
    if user is None:
        flash(wording().text("supervisor_sign_in_failed"), "error")
        return render_template("supervisor/login.html", next=safe_next(request.form.get("next")),
                               username=username), 401
    refund_sign_in()
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
    flash(wording().text("supervisor_signed_out"), "info")
    return redirect(url_for("supervisor.login"))
