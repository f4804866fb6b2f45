"""The call flow's commands (`ivr flow ...`); its endpoints are webhooks/'s."""
from ivr.cli import ivr_cli


def load(app, runtime) -> None:
    app.cli.add_command(ivr_cli)
