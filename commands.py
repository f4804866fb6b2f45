"""The `ivr` command, installed by scripts/install (`pip install -e .`): every command of the app from any
directory, e.g. `ivr users create ada --role admin`, `ivr agents add ...`, `ivr speech download-model nl-NL`.

Only the project's own commands, loaded when used: `ivr --help` imports none of them and builds no app
(the app is made on first use of a command that needs it, through Flask's ScriptInfo). In the checkout
the same groups also run as `flask --app app ...`; `ivr serve` starts the server as `python app.py` does.
"""
from __future__ import annotations

import importlib
from typing import NamedTuple

import click


class Lazy(NamedTuple):
    """A command imported only when it is run: where it lives, and the one-line help `ivr --help` shows
    without importing it."""

    target: str  # module:attribute
    help: str

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)


COMMANDS = {
    "agents": Lazy("agents.cli:agents_cli", "Manage agents: who they are, their skills and their state."),
    "devphone": Lazy("telephony.cli:devphone_cli", "Call this app's IVR through the built-in Twilio emulator."),
    "privacy": Lazy("privacy.cli:privacy_cli", "Export or erase what is held about a number; apply the retention policy."),
    "scheduler": Lazy("ops.cli:scheduler_command", "Run only the dispatcher's scheduler (the scheduler role of a production set-up)."),
    "serve": Lazy("commands:serve", "Run the IVR server (dispatcher included), as ./scripts/serve does."),
    "speech": Lazy("speech.cli:speech_cli", "Offline speech recognition: download a model, recognise a WAV."),
    "understand": Lazy("ivr.cli:understand_cli", "What the IVR understands from typed words (classify, evaluate)."),
    "users": Lazy("supervisor.cli:users_cli", "Supervisor and admin accounts for the queue pages."),
}


def _create_app():
    from app import create_app

    return create_app()


@click.command("serve", help=COMMANDS["serve"].help)
def serve():
    from app import main

    main()


class Commands(click.Group):
    """The project's command groups, imported only when one is run (or its own --help is asked for)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return COMMANDS[name].load()

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name].help) for name in self.list_commands(ctx)])

    def make_context(self, info_name, args, parent=None, **extra):
        if "obj" not in extra:
            from flask.cli import ScriptInfo

            # What flask.cli.with_appcontext and AppGroup commands read to build the app, on first use.
            extra["obj"] = ScriptInfo(create_app=_create_app, set_debug_flag=False, load_dotenv_defaults=False)
        return super().make_context(info_name, args, parent=parent, **extra)


cli = Commands(name="ivr", help="The callback IVR's commands: users, agents, speech models, the server.")

if __name__ == "__main__":
    cli()
