"""The supervisor's pages on the app: /supervisor, their CSRF (this blueprint only), `ivr users`."""
from supervisor.cli import users_cli
from supervisor.http import agents, bp, csrf, entries, favicon, figures, privacy, queue, signin, users  # noqa: F401 (routes)


def load(app, runtime) -> None:
    # Only this blueprint's forms are checked (see supervisor/http/__init__.py); tokens live as long as the sign-in.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # Flask ships these keys (None / False), so they are set, not setdefault-ed. Served over https
    # (PUBLIC_BASE_URL says so), the sign-in cookie never travels in clear text.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = (app.config.get("PUBLIC_BASE_URL") or "").startswith("https://")
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(users_cli)
    # Browsers ask every site for /favicon.ico: answer with the product's icon, not a 404 in the console.
    app.add_url_rule("/favicon.ico", "favicon", favicon)
