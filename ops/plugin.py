"""/healthz, /readyz and /metrics on the app, every request timed; `ivr scheduler`, the scheduler role."""
import os

from ops.cli import scheduler_command
from ops.http import bp, observe, start_timer
from ops.logs import use_json_logs
from ops.metrics import Metrics
from webhooks.media import streams


def load(app, runtime) -> None:
    runtime.extras["metrics"] = Metrics(runtime, lambda: streams.count)
    app.before_request(start_timer)
    app.after_request(observe)
    app.register_blueprint(bp)
    app.cli.add_command(scheduler_command)
    if os.environ.get("LOG_FORMAT", "").lower() == "json":
        use_json_logs()
