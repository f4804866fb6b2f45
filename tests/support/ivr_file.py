"""Each test's own IVR file: the shipped config/ivr.toml, changed only as the test says.

    @pytest.mark.ivr(calendar(hours=ALWAYS_OPEN))                    every skill open around the clock
    @pytest.mark.ivr(calendar(hours={"mon": "09:00-17:00"}, zone="Europe/Amsterdam", skills=["billing"]))
    @pytest.mark.ivr(calendar(closed={"2026-11-26": "Thanksgiving"}))   a holiday ([[closed]] in the file)
    @pytest.mark.ivr(skill("billing", callback_mode="customer_first"))
    @pytest.mark.ivr(lambda raw: raw["prompts"]["en-US"].update(greeting="Hi."))   any edit (a lambda or an Edit)

The `ivr_file` fixture (tests/conftest.py) applies the marker's edits, in order, to the parsed shipped file
and writes the result to the test's tmp_path; the app (`settings.ivr_config_path`) loads it. Without a
marker the app runs on the shipped file unchanged. The shipped file is never edited, so adding a question
or a skill to it breaks only the tests about that question or skill. The calendar is fixed too: the
`clock` fixture is a ManualClock at tests.conftest.OPEN_HOURS (Tuesday 24 November 2026, 10:00 in New
York) unless a test moves it.
"""
from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from config import DEFAULT_IVR_CONFIG, WEEKDAYS


class Edit:
    """A change to the parsed file. An object, not a function: pytest.mark.ivr(f) with one plain function
    would mark `f` itself instead of taking it as the marker's argument (a lambda is fine too)."""

    def __init__(self, change: Callable[[dict], None]):
        self.change = change

    def __call__(self, raw: dict) -> None:
        self.change(raw)

ALWAYS_OPEN = {day: "00:00-23:59:59" for day in WEEKDAYS}


def shipped() -> dict:
    with open(DEFAULT_IVR_CONFIG, "rb") as fh:
        return tomllib.load(fh)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, date):  # a TOML local date (the [[closed]] days)
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"no TOML for {type(v).__name__}")


def dumps(raw: dict) -> str:
    """TOML for a parsed IVR file (every table inline: plain to read back, not meant for people)."""
    return "".join(f"{json.dumps(k)} = {_value(v)}\n" for k, v in raw.items())


def write(raw: dict, path: Path) -> Path:
    path.write_text(dumps(raw), encoding="utf-8")
    assert tomllib.loads(path.read_text(encoding="utf-8")) == raw  # written as parsed
    return path


def _skills(raw: dict, names: Iterable[str] | None) -> list[dict]:
    chosen = [s for s in raw["skills"] if names is None or s["name"] in set(names)]
    if names is not None and len(chosen) != len(set(names)):
        raise KeyError(f"no such skill among {[s['name'] for s in raw['skills']]}")
    return chosen


def calendar(*, hours: dict[str, str] | None = None, zone: str | None = None,
             skills: Iterable[str] | None = None, closed: dict[str, str] | None = None) -> Edit:
    """The skills' (all, or those named) opening hours ({"mon": "08:00-18:00", ...}, days left out are
    closed) and time zone. `closed` ({"2026-11-26": "Thanksgiving"}) replaces the file's [[closed]] days
    with these holidays, for the skills named (all when none are)."""
    def edit(raw: dict) -> None:
        chosen = _skills(raw, skills)
        for s in chosen:
            if hours is not None:
                s["hours"] = dict(hours)
            if zone is not None:
                s["timezone"] = zone
        if closed is not None:
            names = [s["name"] for s in chosen]
            raw["closed"] = [{"date": day, "name": name, "skills": names} for day, name in closed.items()]
    return Edit(edit)


def skill(name: str, **fields) -> Edit:
    """One skill's fields (callback_mode, callback_offer_threshold_seconds, ...)."""
    def edit(raw: dict) -> None:
        (found,) = _skills(raw, [name])
        found.update(fields)
    return Edit(edit)
