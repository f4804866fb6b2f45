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


class Hours(dict):
    """A skill's opening hours: weekly spans {weekday: (open, close)} in its local time (Monday = 0),
    and the dates it is closed all day whatever the weekday says (`closed`: date -> the holiday's name,
    from the IVR file's [[closed]] tables)."""

    def __init__(self, weekly: Mapping[int, tuple[time, time]] = (), closed: Mapping[date, str] | None = None):
        super().__init__(weekly)
        self.closed: dict[date, str] = dict(closed or {})

    def __eq__(self, other) -> bool:
        return dict.__eq__(self, other) is True and getattr(other, "closed", self.closed) == self.closed

    __hash__ = None  # a dict: not hashable


def span_on(hours: Mapping[int, tuple[time, time]], day: date) -> tuple[time, time] | None:
    """The (open, close) span of a local day, or None when closed: no hours that weekday, or a holiday."""
    if day in getattr(hours, "closed", {}):
        return None
    return hours.get(day.weekday())


def open_during(hours: Mapping[int, tuple[time, time]], local: datetime) -> bool:
    """Whether a local time falls inside the hours (weekly spans, holidays closed)."""
    span = span_on(hours, local.date())
    return bool(span) and span[0] <= local.time() < span[1]
