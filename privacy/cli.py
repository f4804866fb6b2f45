"""`ivr privacy export --phone ...` (JSON on stdout), `ivr privacy erase --phone ...`,
`ivr privacy retain` (the retention pass `ivr scheduler` runs every hour)."""
import json

import click
from flask import current_app
from flask.cli import AppGroup

from privacy.policy import Retention
from privacy.records import OpenCallback, apply_retention, erase, export, phone_key
from storage.db import transaction

privacy_cli = AppGroup("privacy", help="Export or erase what is held about a phone number; apply retention.")


def _phone(value: str) -> str:
    try:
        return phone_key(value, current_app.extensions["ivr"].settings.allowed_countries)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@privacy_cli.command("export")
@click.option("--phone", required=True)
def export_command(phone):
    rt = current_app.extensions["ivr"]
    with rt.sessions() as s:
        click.echo(json.dumps(export(s, _phone(phone)), indent=2, ensure_ascii=False))


@privacy_cli.command("erase")
@click.option("--phone", required=True)
@click.option("--actor", default="cli", help="Who asked (kept in the erasure's audit event).")
def erase_command(phone, actor):
    rt = current_app.extensions["ivr"]
    try:
        with transaction(rt.sessions) as s:
            counts = erase(s, _phone(phone), rt.clock.now(), actor)
    except OpenCallback:
        raise click.ClickException("this number has an open callback: cancel it first, then erase") from None
    click.echo(f"erased: {counts['entries']} queue entries, {counts['calls']} calls")


@privacy_cli.command("retain")
def retain_command():
    rt = current_app.extensions["ivr"]
    with transaction(rt.sessions) as s:
        click.echo(json.dumps(apply_retention(s, rt.clock.now(), Retention.from_env())))
