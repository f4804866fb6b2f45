"""Who may see and steer the queue: users, their passwords (argon2), and the login guards.

Users are supervisors (see and steer the queue, set agents' availability) or admins (all of that,
plus managing users and agents). Passwords are stored only as argon2id hashes.
"""
from __future__ import annotations

import functools
import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from refusals import Refusal

from storage.models import User

ROLES = ("supervisor", "admin")
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,80}$")
MIN_PASSWORD = 10

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
    Made on first use, not at import: commands that never sign anyone in do not pay for a hash."""
    return _hasher.hash("not-a-real-password")


class UserError(Refusal, ValueError):
    """A user cannot be created or changed as asked; the message says why."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password needs at least {MIN_PASSWORD} characters")


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"{name!r} is not an IANA time zone (e.g. America/New_York)") from None
    return name


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def create_user(session: Session, username: str, password: str, *, role: str, now: datetime,
                timezone: str = "UTC") -> User:
    username = username.strip()
    if not USERNAME.match(username):
        raise UserError("a username is 2-80 letters, digits or . _ @ -")
    if role not in ROLES:
        raise UserError(f"the role must be one of {', '.join(ROLES)}")
    check_password_rules(password)
    check_timezone(timezone)
    if find_user(session, username):
        raise UserError(f"there is already a user called {username!r}")
    user = User(username=username, password_hash=hash_password(password), role=role, timezone=timezone,
                active=1, created_at=now, session_version=1)
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise UserError(f"no user called {username!r}")
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 0) + 1  # every earlier sign-in ends
    session.flush()
    return user


def end_sessions(session: Session, user_id: int) -> None:
    """Sign the user out everywhere: the session version their cookies carry no longer matches."""
    user = session.get(User, user_id)
    if user is not None:
        user.session_version = (user.session_version or 0) + 1
        session.flush()


def update_user(session: Session, user_id: int, *, role: str | None = None, active: bool | None = None,
                timezone: str | None = None) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserError("no such user")
    if role is not None:
        if role not in ROLES:
            raise UserError(f"the role must be one of {', '.join(ROLES)}")
        user.role = role
    if active is not None:
        user.active = 1 if active else 0
    if timezone is not None:
        user.timezone = check_timezone(timezone)
    # Never leave the system without an active admin who could repair it (the caller rolls back).
    session.flush()
    admins = session.scalar(select(func.count()).select_from(User).where(User.role == "admin", User.active == 1))
    if not admins:
        raise UserError("that would leave no active admin")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same cost whether or not the name exists)."""
    user = find_user(session, username or "")
    if user is None or not user.active:
        try:
            _hasher.verify(_dummy_hash(), password or "")
        except (VerificationError, InvalidHashError):
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user
