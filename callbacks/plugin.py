"""The dispatcher on the app's Runtime, and its scheduler when DISPATCHER=on (python app.py starts it
too: app.main). Tests drive the dispatcher directly. Nothing here touches Flask."""
import os

from callbacks.scheduler import build_dispatcher, start_service


def load(app, runtime) -> None:
    runtime.extras["dispatcher"] = build_dispatcher(runtime)
    if os.environ.get("DISPATCHER", "off").lower() in ("on", "1", "true", "yes"):
        start_service(runtime)
