"""Accounts (admins add and change them) and my own settings."""
from __future__ import annotations

from flask import g, render_template, request

from storage.db import transaction
from storage.models import User
from supervisor import auth
from supervisor.http import answer, bp, login_required, role_required, wording
from web.runtime import runtime


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
        return answer(400, wording().text("supervisor_user_not_added", reason=exc))
    return answer(200, wording().text("supervisor_user_added", name=name))


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
        return answer(400, wording().text("supervisor_not_saved", reason=exc))
    return answer(200, wording().text("supervisor_user_saved", name=name))


@bp.post("/me")
@login_required
def my_settings():
    try:
        with transaction(runtime().sessions) as db:
            auth.update_user(db, g.user.id, timezone=request.form.get("timezone") or None)
    except auth.UserError as exc:
        return answer(400, wording().text("supervisor_not_saved", reason=exc))
    return answer(200, wording().text("supervisor_zone_saved"))
