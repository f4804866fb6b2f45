"""`ivr privacy export|erase|retain`."""
from privacy.cli import privacy_cli


def load(app, runtime) -> None:
    app.cli.add_command(privacy_cli)
