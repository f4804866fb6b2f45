"""Speech's commands (`ivr speech ...`); the /media endpoint is webhooks/'s."""
from speech.cli import speech_cli


def load(app, runtime) -> None:
    app.cli.add_command(speech_cli)
