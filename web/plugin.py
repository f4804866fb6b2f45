"""The shared web parts on the app: error rendering, bounded bodies, security headers, rate limits."""
from web import errors
from web.limits import init_limits
from web.sessions import CookieSessions


def load(app, runtime) -> None:
    errors.install(app)  # refusals rendered once, bodies bounded, security headers
    app.session_interface = CookieSessions()  # the session cookie's signer made once
    init_limits(app, runtime.engine)  # the one rate limiter (the callback channels' and sign-in's quotas)
