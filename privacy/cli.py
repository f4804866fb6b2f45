"""`ivr privacy export --phone ...` (JSON on stdout), `ivr privacy erase --phone ...`,
`ivr privacy retain` (the retention pass `ivr scheduler` runs every hour)."""
import json

import click
from flask import current_app
from flask.cli import AppGroup

from privacy.policy import Retention
from privacy.records import OpenCallback, apply_retention, erase, export_recorded, phone_key
from storage.db import transaction

privacy_cli = AppGroup("privacy", help="Export or erase what is held about a phone number; apply retention.")


def _phone(value: str) -> str:
    try:
        return phone_key(value, current_app.extensions["ivr"].settings.allowed_countries)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@privacy_cli.command("export", help="Print, as JSON, everything held about a number (the export is recorded).")
@click.option("--phone", required=True, help="The number (any form that reads as E.164) or the caller's address.")
@click.option("--actor", default="cli", help="Who asked (kept in the export's record).")
def export_command(phone, actor):
    rt = current_app.extensions["ivr"]
    with transaction(rt.sessions) as s:
        held = export_recorded(s, _phone(phone), rt.clock.now(), actor)
    click.echo(json.dumps(held, indent=2, ensure_ascii=False))


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
