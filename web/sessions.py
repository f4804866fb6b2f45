"""Flask's signed-cookie sessions, with less work where there is no session: the cookie's signer made once per
key instead of at every request (Flask's own interface builds it anew each time, for every route, whether the
route reads a session or not); a request without any cookie (Twilio's webhooks, API clients) starts an empty
session without parsing the Cookie header; and a response whose session is empty and was never touched is
left as it is without reading the cookie settings (Flask would set nothing on it either)."""
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

    def open_session(self, app, request):
        if "HTTP_COOKIE" not in request.environ and self.get_signing_serializer(app) is not None:
            return self.session_class()  # what Flask opens for a request without the session cookie
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)
