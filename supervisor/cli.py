"""`ivr users create|list|set-password`: the first admin is made here, the rest on the Users page."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from storage.db import transaction
from supervisor import auth
from web.runtime import runtime


@click.group("users", help="Supervisor and admin accounts for the queue pages.")
def users_cli():
    pass


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(auth.ROLES), default="supervisor", show_default=True)
@click.option("--timezone", "zone", default="UTC", show_default=True, help="IANA zone the user reads times in.")
@click.password_option(help="Asked for (twice) when not given; at least 10 characters.")
@with_appcontext
def create(username: str, role: str, zone: str, password: str):
    """Add a user (the first admin is made this way)."""
    try:
        with transaction(runtime().sessions) as db:
            user = auth.create_user(db, username, password, role=role, now=runtime().clock.now(), timezone=zone)
            click.echo(f"Created {user.role} {user.username} (times shown in {user.timezone}).")
    except auth.UserError as exc:
        raise click.ClickException(str(exc))


@users_cli.command("list")
@with_appcontext
def list_users():
    """Name, role, time zone and whether active, one user a line."""
    with runtime().sessions() as db:
        for user in auth.list_users(db):
            state = "active" if user.active else "disabled"
            click.echo(f"{user.username}\t{user.role}\t{user.timezone}\t{state}")


@users_cli.command("set-password")
@click.argument("username")
@click.password_option(help="Asked for (twice) when not given.")
@with_appcontext
def set_password(username: str, password: str):
    """Give a user a new password; their other sign-ins end."""
    try:
        with transaction(runtime().sessions) as db:
            auth.set_password(db, username, password)
    except auth.UserError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Password of {username} changed; their other sign-ins have ended.")
