"""Flask's signed-cookie sessions, with the cookie's signer made once per key instead of at every request
(Flask's own interface builds it anew each time, for every route, whether the route reads a session or not)."""
from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class CookieSessions(SecureCookieSessionInterface):
    def __init__(self):
        self._signer: tuple | None = None  # (the keys it was made with, the serializer)

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        made = self._signer
        if made is None or made[0] != keys:
            made = self._signer = (keys, super().get_signing_serializer(app))
        return made[1]
