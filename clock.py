"""The one source of 'now' (production uses the wall clock; tests drive a ManualClock), and the
rules for turning a local wall-clock time into UTC.

DST rule, stated once: a local time that does not exist (the spring-forward gap) is refused with
reason "dst_gap"; a local time that happens twice (the autumn fold) means its first occurrence.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping
from zoneinfo import ZoneInfo

from refusals import ReasonedRefusal


class Clock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock(Clock):
    """A clock that only moves when told to, so tests never sleep for real minutes."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0, **kwargs) -> datetime:
        self._now += timedelta(seconds=seconds, **kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(timezone.utc)


class TimeRefused(ReasonedRefusal):
    """A callback time that cannot be accepted. `reason` is a stable code (past, closed, horizon, dst_gap, format)."""


def local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in `zone`, refusing times that the clocks skip."""
    local = datetime.combine(day, at).replace(tzinfo=zone, fold=0)
    back = local.astimezone(timezone.utc).astimezone(zone)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise TimeRefused("dst_gap", f"{day.isoformat()} {at.strftime('%H:%M')} does not exist in {zone.key} (clocks change)")
    return local.astimezone(timezone.utc)


def open_during(hours: Mapping[int, tuple[time, time]], local: datetime) -> bool:
    """Whether a local time falls inside weekly hours ({weekday: (open, close)}, Monday = 0)."""
    span = hours.get(local.weekday())
    return bool(span) and span[0] <= local.time() < span[1]
