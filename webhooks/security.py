"""X-Twilio-Signature checking for every request Twilio sends us.

The signature covers the URL exactly as Twilio requested it. Behind a proxy or tunnel that URL is
not what Flask sees, so it is rebuilt from PUBLIC_BASE_URL when set, else from X-Forwarded-Proto/Host
(ProxyFix in app.py). JSON bodies are signed through `?bodySHA256=` in the URL instead of the params.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit, urlunsplit

from flask import abort, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from twilio.request_validator import RequestValidator


def public_url() -> str:
    """The URL Twilio used for this request."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    parts = urlsplit(base.rstrip("/"))
    incoming = urlsplit(request.url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path + incoming.path, incoming.query, ""))


def public_base() -> str:
    """The base URL callers, browsers and Twilio reach this app at (no trailing slash)."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def is_signed_by_twilio(auth_token: str) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = RequestValidator(auth_token)
    url = public_url()
    if request.is_json or "bodySHA256" in request.args:
        return validator.validate(url, request.get_data(as_text=True), signature)
    return validator.validate(url, request.form.to_dict(flat=True) if request.form else {}, signature)


def twilio_signed(view):
    """Refuse (403, nothing done) any request not signed with our Twilio auth token."""

    @wraps(view)
    def checked(*args, **kwargs):
        token = current_app.config.get("TWILIO_AUTH_TOKEN")
        if not token:
            abort(503, description="Twilio webhooks are disabled: set TWILIO_AUTH_TOKEN so requests can be verified.")
        if not is_signed_by_twilio(token):
            abort(403, description="X-Twilio-Signature is missing or does not match this URL and body.")
        return view(*args, **kwargs)

    return checked


STREAM_TOKEN_SALT = "media-stream"
# A stream starts within seconds of the TwiML that names it; a minute covers slow call setup.
STREAM_TOKEN_MAX_AGE = 60


def _stream_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STREAM_TOKEN_SALT)


def stream_token(call_sid: str, step: str, turn: int) -> str:
    """A signed, short-lived token naming the call, step and turn a media stream may report for."""
    return _stream_serializer().dumps({"call_sid": call_sid, "step": step, "turn": turn})


def read_stream_token(token: str, max_age: int = STREAM_TOKEN_MAX_AGE) -> dict | None:
    """The token's claims, or None when it is forged, altered or expired."""
    try:
        return _stream_serializer().loads(token or "", max_age=max_age)
    except BadSignature:
        return None
