"""`ivr devphone call`: the IVR through the Twilio emulator, from a shell."""
from telephony.cli import devphone_cli


def load(app, runtime) -> None:
    app.cli.add_command(devphone_cli)
