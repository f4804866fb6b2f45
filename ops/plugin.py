"""/healthz and /readyz on the app."""
from ops.http import bp


def load(app, runtime) -> None:
    app.register_blueprint(bp)
