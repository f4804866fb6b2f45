"""/healthz and /readyz on the app; `ivr scheduler`, the scheduler role."""
from ops.cli import scheduler_command
from ops.http import bp


def load(app, runtime) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(scheduler_command)
