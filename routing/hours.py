"""Business hours of a skill, in its own IANA time zone, and the rules for picking a callback time.

The DST rule (gap refused as dst_gap, a doubled hour means its first occurrence) lives in clock.py.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from clock import TimeRefused, local_to_utc, open_during, span_on  # noqa: F401 - the rules live in clock
from config import IvrConfig, Skill


class DemoHours:
    """The dev phone's "open every team for this demo" switch: while it is on, every skill wired to it
    is open at any hour (the IVR routes to agents, the dispatcher dials, bookings are accepted).

    One per app, made by the dev phone (devphone/wiring.py) and wired into the app's skills by
    `wire` in create_app, only while the dev phone is on: a production app's skills carry none, so
    nothing can open them outside their hours."""

    def __init__(self) -> None:
        self._on = threading.Event()

    @property
    def on(self) -> bool:
        return self._on.is_set()

    def set(self, on: bool) -> None:
        if on:
            self._on.set()
        else:
            self._on.clear()

    def wire(self, config: IvrConfig) -> IvrConfig:
        """`config` with every skill's opening hours subject to this switch."""
        return replace(config, skills={name: replace(skill, demo_hours=self) for name, skill in config.skills.items()})


def open_for_demo(skill: Skill) -> bool:
    """Whether the dev phone's switch has opened this skill around the clock."""
    return isinstance(skill.demo_hours, DemoHours) and skill.demo_hours.on


def is_open(skill: Skill, when: datetime) -> bool:
    """Whether the skill takes calls at `when`: its hours in its own time zone, or the dev phone's switch."""
    if open_for_demo(skill):
        return True
    return open_during(skill.hours, when.astimezone(skill.timezone))


def next_opening(skill: Skill, after: datetime) -> datetime | None:
    """The first instant at or after `after` at which the skill is open (UTC), or None if it never opens."""
    if is_open(skill, after):
        return after
    local = after.astimezone(skill.timezone)
    for days in range(0, 15):
        day = local.date() + timedelta(days=days)
        span = span_on(skill.hours, day)
        if not span:
            continue
        try:
            opening = local_to_utc(day, span[0], skill.timezone)
        except TimeRefused:
            # An opening inside a DST gap: the first valid minute after it.
            opening = datetime.combine(day, span[0]).replace(tzinfo=skill.timezone).astimezone(timezone.utc)
        if opening >= after:
            return opening
    return None


@dataclass(frozen=True)
class BookingRules:
    horizon: timedelta
    # A callback needs a little time to be set up; "now" plus this is the earliest bookable time.
    lead_time: timedelta = timedelta(minutes=5)


def check_callback_time(skill: Skill, when: datetime, now: datetime, rules: BookingRules) -> datetime:
    """Accept a requested callback time (aware) or raise TimeRefused saying why."""
    if when.tzinfo is None:
        raise TimeRefused("format", "the time needs a time zone")
    when = when.astimezone(timezone.utc)
    if when < now:
        raise TimeRefused("past", "that time has already passed")
    if when > now + rules.horizon:
        raise TimeRefused("horizon", f"callbacks can be booked at most {rules.horizon.days} days ahead")
    if not is_open(skill, when):
        raise TimeRefused("closed", f"the {skill.name} team is closed at that time")
    return when


def describe_local(when: datetime, zone: ZoneInfo, now: datetime, language: str) -> str:
    """A spoken description of a time, e.g. 'tomorrow at 14:30' / 'morgen om 14:30'."""
    local = when.astimezone(zone)
    today = now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    delta = (local.date() - today).days
    words = {
        "en-US": ("today at {t}", "tomorrow at {t}", "on {d} at {t}"),
        "nl-NL": ("vandaag om {t}", "morgen om {t}", "op {d} om {t}"),
    }.get(language, ("today at {t}", "tomorrow at {t}", "on {d} at {t}"))
    if delta == 0:
        return words[0].format(t=clock)
    if delta == 1:
        return words[1].format(t=clock)
    day_names = {
        "nl-NL": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    }.get(language, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
    return words[2].format(d=f"{day_names[local.weekday()]} {local.day}", t=clock)
