"""X-Twilio-Signature checking for every request Twilio sends us.

The signature covers the URL exactly as Twilio requested it, so it is checked against a URL we
chose, never one a request names: PUBLIC_BASE_URL when set; else the request's own URL, but only
for a host listed in TWILIO_WEBHOOK_HOSTS (behind a proxy, its X-Forwarded-Host counts only with
TRUSTED_PROXY_HOPS, see app.py); else, for development on one machine, only the address the app
serves (http://HOST:PORT, http://127.0.0.1:PORT or http://localhost:PORT) from a peer on that
machine, which is how the dev phone reaches it. Anything else is refused with what to set. JSON bodies are signed through `?bodySHA256=` in the URL instead of
the params.
"""
from __future__ import annotations

import base64
import functools
import hmac
import ipaddress
from functools import wraps
from hashlib import sha1
from urllib.parse import urlsplit, urlunsplit

from flask import abort, current_app, request
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from twilio.request_validator import RequestValidator
from werkzeug.sansio.utils import get_current_url

from webhooks import twilio_params

FORM = "application/x-www-form-urlencoded"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
ANY_ADDRESS = ("", "0.0.0.0", "::", "[::]")


def _served_here(settings) -> bool:
    """The request names the address this process serves (HOST:PORT, or loopback) and comes from this
    machine: how the dev phone (devphone/) and a local emulator reach the app without a tunnel."""
    names = set(LOOPBACK_NAMES)
    own = settings.host.strip("[]")
    if settings.host not in ANY_ADDRESS:
        names.add(f"[{own}]" if ":" in own else own)
    try:
        peer = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    from_here = peer.is_loopback or (settings.host not in ANY_ADDRESS and str(peer) == own)
    return request.scheme == "http" and request.host.lower() in {f"{n}:{settings.port}" for n in names} and from_here


def _accepted_host() -> bool:
    """Whether a signature may be checked against this request's own URL (no PUBLIC_BASE_URL)."""
    host = request.host.lower()
    settings = current_app.extensions["ivr"].settings
    if settings.twilio_webhook_hosts:
        return host in settings.twilio_webhook_hosts or host.split(":", 1)[0] in settings.twilio_webhook_hosts
    return _served_here(settings)


def public_url() -> str:
    """The URL Twilio used for this request; 403 when it names a host we do not serve Twilio on."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        if not _accepted_host():
            abort(403, description=f"Twilio webhooks are not accepted for {request.host_url.rstrip('/')}: set "
                  "PUBLIC_BASE_URL to the URL Twilio reaches this app at (or list this host in "
                  "TWILIO_WEBHOOK_HOSTS). Without either, only the address this app serves "
                  "(http://127.0.0.1:PORT, http://localhost:PORT) is accepted, from this machine.")
        return request.url
    parts = _split_base(base)
    path, query = _path_and_query(request.root_path, request.path, request.query_string)
    return urlunsplit((parts.scheme, parts.netloc, parts.path + path, query, ""))


@functools.lru_cache(maxsize=16)
def _split_base(base: str):
    return urlsplit(base.rstrip("/"))


@functools.lru_cache(maxsize=1024)
def _path_and_query(root_path: str, path: str, query_string: bytes) -> tuple[str, str]:
    """The path and query of the request's URL as werkzeug's `request.url` gives them (the IRI form), kept for
    the few URLs Twilio calls again and again (a call's greeting, its status, a step and turn)."""
    url = urlsplit(get_current_url("http", "localhost", root_path, path, query_string))
    return url.path, url.query


def public_base() -> str:
    """The base URL callers, browsers and Twilio reach this app at (no trailing slash)."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def is_signed_by_twilio(auth_token: str) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not signature.isascii():
        return False
    url = public_url()
    if "bodySHA256" in request.args:
        # The body is signed through its hash in the URL (JSON webhooks).
        body = request.get_data(cache=True).decode("utf-8", errors="replace")
        try:
            return RequestValidator(auth_token).validate(url, body, signature)
        except ValueError:  # e.g. a port that is not a number
            return False
    if request.mimetype != FORM and request.get_data(cache=True):
        return False  # a body Twilio would have signed through ?bodySHA256= (or not sent at all)
    return form_signed(auth_token, url, request.form, signature)


def form_signed(auth_token: str, url: str, params, signature: str) -> bool:
    """Twilio's check of a form webhook (twilio's RequestValidator.validate): HMAC-SHA1 of the URL followed
    by each parameter's name and values, sorted; the URL is taken with its port and without it (Twilio
    signs either). The same result, at half the cost: the parameters are joined once and the URL as
    given is tried first, so the usual request computes one HMAC, compared in constant time."""
    joined = "".join(name + value for name, values in sorted(params.lists()) for value in sorted(set(values)))
    key = auth_token.encode("utf-8")
    for candidate in _signed_urls(url):
        digest = hmac.new(key, (candidate + joined).encode("utf-8"), sha1).digest()
        if hmac.compare_digest(base64.b64encode(digest), signature.encode("ascii")):
            return True
    return False


def _signed_urls(url: str):
    """The forms of `url` Twilio may have signed, as twilio's validator builds them: without the port and
    with it (443 or 80 when none is given), the one `url` already is first."""
    yield url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number
        return
    host = parts.netloc.rsplit(":", 1)[0] if port else parts.netloc
    forms = (parts._replace(netloc=host).geturl(),
             parts._replace(netloc=f"{host}:{port or (443 if parts.scheme == 'https' else 80)}").geturl())
    yield from (form for form in forms if form != url)


def twilio_signed(view):
    """Refuse (403, nothing done) any request not signed with our Twilio auth token."""

    @wraps(view)
    def checked(*args, **kwargs):
        token = current_app.config.get("TWILIO_AUTH_TOKEN")
        if not token:
            abort(503, description="Twilio webhooks are disabled: set TWILIO_AUTH_TOKEN so requests can be verified.")
        if not is_signed_by_twilio(token):
            abort(403, description="X-Twilio-Signature is missing or does not match this URL and body.")
        twilio_params.check_addresses()
        return view(*args, **kwargs)

    checked.twilio_signed = True  # lets tests find every route Twilio calls
    return checked


STREAM_TOKEN_SALT = "media-stream"
# A stream starts within seconds of the TwiML that names it; a minute covers slow call setup.
STREAM_TOKEN_MAX_AGE = 60


class _ClockSigner(TimestampSigner):
    """Stamps and ages tokens on the app's injected clock (clock.py), the one "now" of the app."""

    def get_timestamp(self) -> int:
        return int(current_app.extensions["ivr"].clock.now().timestamp())


def _stream_serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STREAM_TOKEN_SALT, signer=_ClockSigner)


def stream_token(call_sid: str, step: str, turn: int) -> str:
    """A signed, short-lived token naming the call, step and turn a media stream may report for."""
    return _stream_serializer().dumps({"call_sid": call_sid, "step": step, "turn": turn})


def read_stream_token(token: str, max_age: int = STREAM_TOKEN_MAX_AGE) -> dict | None:
    """The token's claims, or None when it is forged, altered or expired."""
    try:
        return _stream_serializer().loads(token or "", max_age=max_age)
    except BadSignature:
        return None
