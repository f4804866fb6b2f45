"""The `ivr` command, installed by scripts/install (`pip install -e .`): every command of the app from any
directory, e.g. `ivr users create ada --role admin`, `ivr agents add ...`, `ivr speech download-model nl`.

The same commands as `flask --app app ...` run in the checkout; `ivr serve` starts the server as
`python app.py` does.
"""
from __future__ import annotations

import click
from flask.cli import FlaskGroup, routes_command, shell_command


def _create_app():
    from app import create_app

    return create_app()


@click.command("serve", help="Run the IVR server (dispatcher included), as ./scripts/serve does.")
def serve():
    from app import main

    main()


cli = FlaskGroup(name="ivr", create_app=_create_app, add_default_commands=False, add_version_option=False,
                 load_dotenv=False, help="The callback IVR's commands: users, agents, speech models, the server.")
cli.add_command(serve)
cli.add_command(routes_command)
cli.add_command(shell_command)
