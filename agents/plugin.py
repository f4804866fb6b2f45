"""/api/agents and `ivr agents`."""
from agents.cli import agents_cli
from agents.http import agents_api


def load(app, runtime) -> None:
    app.register_blueprint(agents_api)
    app.cli.add_command(agents_cli)
