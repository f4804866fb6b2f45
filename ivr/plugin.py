"""The call flow's commands (`ivr understand ...`); its endpoints are webhooks/'s."""
from ivr.cli import understand_cli


def load(app, runtime) -> None:
    app.cli.add_command(understand_cli)
