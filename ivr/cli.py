"""`flask ivr classify "TEXT"`: the decision the IVR would take from these words."""
from __future__ import annotations

import json
from datetime import datetime

import click


@click.group("ivr")
def ivr_cli():
    """Inspect the IVR's understanding of callers."""


@ivr_cli.command("classify")
@click.argument("text")
@click.option("--step", default="menu", show_default=True, help="IVR step: menu, confirm, callback_number, callback_time.")
@click.option("--lang", default=None, help="Caller's language (default: the IVR's default).")
@click.option("--skill", default=None, help="Skill whose time zone and hours apply (time steps).")
@click.option("--now", default=None, help="Pretend it is this ISO time (with offset), for time steps.")
def classify(text: str, step: str, lang: str | None, skill: str | None, now: str | None):
    """Print one JSON decision for TEXT, as `flask speech recognize` does for audio."""
    from config import load_ivr_config
    from ivr.decision import context_from_config, decide

    config = load_ivr_config()
    lang = lang or config.default_language
    when = datetime.fromisoformat(now) if now else None
    if when is not None and when.tzinfo is None:
        raise click.BadParameter("give a UTC offset, e.g. 2026-11-18T10:00:00-05:00", param_hint="--now")
    result = decide(step, text, lang, context_from_config(config, skill, lang), now=when)
    result["engine"] = "text"
    click.echo(json.dumps(result, ensure_ascii=False))
