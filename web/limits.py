"""Rate limits for the public callback entry points (web button, API, chat, SMS) and sign-in.

A callback form that dials any number it is given is a harassment and toll-fraud tool unless it is
throttled, so requests are counted per client IP and per phone number. Counts live on the app's own
database by default (RATELIMIT_STORAGE_URI=database://, storage/counters.py), so every process on that
database shares them; memory:// keeps them per process, redis://host:6379 in a Redis. Limits are flask-limiter strings ("10/minute;100/day"),
overridable from the environment: CALLBACK_LIMIT_PER_IP, CALLBACK_LIMIT_PER_NUMBER,
CALLBACK_LIMIT_STATUS_PER_IP, SUPERVISOR_LOGIN_LIMIT, SUPERVISOR_ACCOUNT_LIMIT.

Who pays for a request: a per-IP limit counts every request from that address (the real peer: see
TRUSTED_PROXY_HOPS), it is that client's own quota. A per-number or per-account limit is someone
else's quota, so it counts only requests that were authenticated and accepted (`when_accepted`):
refused, forged or unsigned requests never spend it.
"""
from __future__ import annotations

import hashlib
import os
import time

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from sqlalchemy.engine import Engine

from phone_numbers import NumberRefused, normalise
from refusals import RequestRefused
from storage.counters import storage_uri
from web.bodies import parse_json_object

DEFAULT_LIMITS = {
    "CALLBACK_LIMIT_PER_IP": "20/minute;200/day",
    "CALLBACK_LIMIT_PER_NUMBER": "5/hour;20/day",
    "CALLBACK_LIMIT_STATUS_PER_IP": "120/minute",
    "SUPERVISOR_LOGIN_LIMIT": "10/minute;50/hour",  # failed sign-ins per address
    "SUPERVISOR_ACCOUNT_LIMIT": "10/15minutes",  # failed sign-ins per account, then it is locked
}

TOO_MANY = "too many requests from your address; please wait a few minutes and try again"
TOO_MANY_FOR_NUMBER = "too many callback requests for this phone number; please wait and try again later"

limiter = Limiter(key_func=get_remote_address, headers_enabled=True)

# Blueprints whose routes no rate limit counts (unlimited): flask-limiter's hooks, which cost more than the
# rest of a Twilio voice webhook's guards, are not run for them at all (_skip_for_unlimited).
UNLIMITED_BLUEPRINTS: set[str] = set()


def unlimited(blueprint):
    """Mark a blueprint none of whose routes has a rate limit (Twilio's voice webhooks: every request
    is signed, and all come from Twilio's addresses). A limit put on one of its routes would not count."""
    UNLIMITED_BLUEPRINTS.add(blueprint.name)
    return blueprint


@limiter.request_filter
def _in_unlimited_blueprint() -> bool:
    return request.blueprint in UNLIMITED_BLUEPRINTS


def init_limits(app: Flask, engine: Engine) -> None:
    for name, default in DEFAULT_LIMITS.items():
        app.config.setdefault(name, os.environ.get(name) or default)
    app.config.setdefault("RATELIMIT_STORAGE_URI", os.environ.get("RATELIMIT_STORAGE_URI") or "database://")
    if app.config["RATELIMIT_STORAGE_URI"].rstrip("/") == "database:":
        app.config["RATELIMIT_STORAGE_URI"] = storage_uri(engine)  # this app's database
    # reserve()/refund() count in fixed windows (flask-limiter's default, set here so nobody changes it).
    app.config["RATELIMIT_STRATEGY"] = "fixed-window"
    hooks_before = _hooks(app)
    # after_request hooks run last-registered first: these two bracket flask-limiter's, which writes its
    # own Retry-After (the window's end) on every response that a limit counted.
    app.after_request(_retry_after_for_429_only)
    limiter.init_app(app)
    app.after_request(_note_retry_after)
    _skip_for_unlimited(app, hooks_before)


def _hooks(app: Flask) -> dict[str, list]:
    return {"before": list(app.before_request_funcs.get(None, ())), "after": list(app.after_request_funcs.get(None, ())),
            "teardown": list(app.teardown_request_funcs.get(None, ()))}


def _skip_for_unlimited(app: Flask, hooks_before: dict[str, list]) -> None:
    """The app-wide hooks added since `hooks_before` (flask-limiter's check before the view, its headers and
    conditional deductions after it, its per-request state's release at teardown, and our two around its
    headers), run only outside UNLIMITED_BLUEPRINTS: no limit counts there, so they would do nothing but set
    up and drop that state. (Its request filter above exempts those blueprints too, but only once the check
    has set up that state, which costs as much.)"""
    for kind, table in (("before", app.before_request_funcs), ("after", app.after_request_funcs),
                        ("teardown", app.teardown_request_funcs)):
        table[None] = [hook if hook in hooks_before[kind] else _OUTSIDE_UNLIMITED[kind](hook)
                       for hook in table.get(None, ())]


def _limited() -> bool:
    return request.blueprint not in UNLIMITED_BLUEPRINTS


def _before_outside_unlimited(hook):
    def before_request():
        return hook() if _limited() else None

    return before_request


def _after_outside_unlimited(hook):
    def after_request(response: Response) -> Response:
        return hook(response) if _limited() else response

    return after_request


def _teardown_outside_unlimited(hook):
    def teardown_request(exc: BaseException | None = None) -> None:
        if _limited():
            hook(exc)

    return teardown_request


_OUTSIDE_UNLIMITED = {"before": _before_outside_unlimited, "after": _after_outside_unlimited,
                      "teardown": _teardown_outside_unlimited}


def _note_retry_after(response: Response) -> Response:
    g.retry_after = response.headers.get("Retry-After")
    return response


def _retry_after_for_429_only(response: Response) -> Response:
    """A 503's Retry-After stays what the app said (5 s); a 201 or 422 gets none from the limiter."""
    if response.status_code != 429:
        own = g.pop("retry_after", None)
        if own is None:
            response.headers.pop("Retry-After", None)
        else:
            response.headers["Retry-After"] = own
    return response


def per_ip() -> str:
    return current_app.config["CALLBACK_LIMIT_PER_IP"]


def per_number() -> str:
    return current_app.config["CALLBACK_LIMIT_PER_NUMBER"]


def status_per_ip() -> str:
    return current_app.config["CALLBACK_LIMIT_STATUS_PER_IP"]


def when_accepted(response: Response) -> bool:
    """deduct_when for quotas that belong to someone else: only what was authenticated and accepted."""
    return 200 <= response.status_code < 300


def within(limit: str, key: str) -> bool:
    """Whether `key` may do one more thing under `limit`, without spending any of it."""
    return all(limiter.limiter.test(item, key) for item in parse_many(limit))


def spend(limit: str, key: str) -> None:
    for item in parse_many(limit):
        limiter.limiter.hit(item, key)


def reserve(limit: str, key: str) -> int | None:
    """Spend one of `limit` for `key` before the work it guards, atomically (one increment in the limiter's
    storage, shared by every process with RATELIMIT_STORAGE_URI): a burst sent at once cannot all pass a
    check together. None when it may go ahead; else the seconds until the spent window ends."""
    for item in parse_many(limit):
        if not limiter.limiter.hit(item, key):
            return max(1, int(limiter.limiter.get_window_stats(item, key).reset_time - time.time()) + 1)
    return None


def refund(limit: str, key: str) -> None:
    """Give back what reserve() spent, for work that turned out not to count (a sign-in that succeeded)."""
    for item in parse_many(limit):
        limiter.limiter.storage.incr(item.key_for(key), item.get_expiry(), amount=-1)


SIGN_IN_LIMITS = ("SUPERVISOR_LOGIN_LIMIT", "SUPERVISOR_ACCOUNT_LIMIT")


def _sign_in_keys() -> tuple[str, str]:
    return "sign-in:" + get_remote_address(), account_key()


def reserve_sign_in() -> tuple[str, int] | None:
    """Count this sign-in attempt as a failure before its password is looked at, per address then per
    account, so guesses sent at once cannot pass the check together. None when it may be evaluated;
    else the limit that refused it and the seconds until its window ends."""
    for name, key in zip(SIGN_IN_LIMITS, _sign_in_keys()):
        wait = reserve(current_app.config[name], key)
        if wait is not None:
            return name, wait
    return None


def refund_sign_in() -> None:
    """A sign-in that succeeded was no failure: give its attempt back to both limits."""
    for name, key in zip(SIGN_IN_LIMITS, _sign_in_keys()):
        refund(current_app.config[name], key)


def account_key() -> str:
    """One bucket per account name as typed (case and spaces aside), whether or not it exists, so
    the lockout tells nobody which names are real; hashed so no typed text reaches the storage."""
    name = request.form.get("username", "").strip().lower()
    return "account:" + hashlib.sha256(name.encode("utf-8", errors="replace")).hexdigest()[:24]


def _number_key(raw) -> str:
    """One bucket per number, however it is written (+31 20..., 0031 20..., 3120...)."""
    if not isinstance(raw, str) or not raw.strip():
        # No number to count: fall back to the client, so one sender cannot exhaust a shared bucket.
        return "number:none:" + get_remote_address()
    try:
        return "number:" + normalise(raw, tuple(current_app.extensions["ivr"].settings.allowed_countries))
    except NumberRefused:
        return "number:" + "".join(ch for ch in raw if ch.isdigit())[:20]


def number_in_json() -> str:
    try:
        body = parse_json_object(request.get_data(cache=True))
    except RequestRefused:
        body = None  # refused by the view itself, with the reason
    return _number_key(body.get("phone") if isinstance(body, dict) else None)


def number_in_form() -> str:
    """The texter's number (Twilio's From) for SMS."""
    return _number_key(request.form.get("From"))
