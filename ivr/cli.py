"""`ivr understand classify "TEXT"` and `ivr understand evaluate FILE.tsv`: what the IVR understands from
typed words (in the checkout also `flask --app app understand ...`)."""
from __future__ import annotations

import json
from datetime import datetime

import click

from clock import Clock


@click.group("understand")
def understand_cli():
    """What the IVR understands from typed words: classify one answer, evaluate a labelled file."""


def _step_names() -> list[str]:
    from ivr.steps import STEPS

    return list(STEPS)


def _understanding_and_language(lang: str | None):
    from config import ConfigError, load_ivr_config
    from understanding import Understanding

    try:
        config = load_ivr_config()
        understanding = Understanding.for_config(config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    lang = lang or config.default_language
    if lang not in config.languages:
        raise click.BadParameter(f"{lang} is not one of the IVR's languages ({', '.join(config.languages)})",
                                 param_hint="--lang")
    return config, understanding, lang


@understand_cli.command("classify")
@click.argument("text")
@click.option("--step", type=click.Choice(_step_names()), default="menu", show_default=True,
              help="The IVR question the words answer, by its step name.")
@click.option("--lang", default=None, help="Caller's language (default: the IVR's default).")
@click.option("--skill", default=None, help="Skill whose time zone and hours apply (time steps).")
@click.option("--now", default=None, help="Pretend it is this ISO time (with offset), for time steps.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON decision (as `ivr speech recognize` does).")
def classify(text: str, step: str, lang: str | None, skill: str | None, now: str | None, as_json: bool):
    """What TEXT means at an IVR step. At the menu: the top three skills with their scores."""
    from ivr.steps import listen_kind
    from understanding.decision import context_from_config, decide

    config, _, lang = _understanding_and_language(lang)
    when = datetime.fromisoformat(now) if now else None
    if when is not None and when.tzinfo is None:
        raise click.BadParameter("give a UTC offset, e.g. 2026-11-18T10:00:00-05:00", param_hint="--now")
    try:
        context = context_from_config(config, skill, lang)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--skill") from None
    result = decide(listen_kind(step), text, lang, context, now=when or Clock().now(), step=step)
    result["engine"] = "text"
    if as_json or result["kind"] != "menu":
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for name, score in result["ranked"]:
        click.echo(f"{score:.2f}  {name}")
    if result["skill"] is None:
        click.echo(f"-> none of these (confidence {result['confidence']:.2f}): the caller goes to "
                   f"{config.fallback_skill.name}")
    elif result["needs_confirmation"]:
        click.echo(f"-> {result['skill']}, doubtful (confidence {result['confidence']:.2f}): "
                   f"the IVR asks the caller to confirm")
    else:
        click.echo(f"-> {result['skill']} (confidence {result['confidence']:.2f})")


@understand_cli.command("evaluate")
@click.argument("tsv", type=click.Path(exists=True, dir_okay=False))
@click.option("--lang", default=None, help="Language of the phrases (default: the IVR's default).")
@click.option("--misses/--no-misses", default=True, show_default=True, help="List the phrases routed wrongly.")
def evaluate(tsv: str, lang: str | None, misses: bool):
    """Accuracy, confusion matrix and misses on TSV (text<TAB>skill per line, # comments)."""
    from understanding.evaluation import LabelledFileError, evaluate as score, format_report, read_labelled

    config, understanding, lang = _understanding_and_language(lang)
    try:
        with open(tsv, encoding="utf-8") as fh:
            pairs = read_labelled(fh, list(config.skills))
    except (LabelledFileError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{tsv}: {exc}") from None
    if not pairs:
        raise click.ClickException(f"{tsv}: no labelled phrases (text<TAB>skill per line)")
    result = score(understanding, pairs, lang, config.fallback_skill.name)
    click.echo(f"{len(pairs)} phrases in {lang}; a guess of none counts as {config.fallback_skill.name}")
    click.echo(format_report(result, show_misses=misses))
