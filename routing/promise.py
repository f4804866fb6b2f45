"""The window a callback's customer is told: "between 10:20 and 10:35", in their zone, with the date.

Pure: no database, no clock; callers pass "now" and the estimate (routing/estimate.py).

An ASAP callback's window is built around the expected connect time:
    start = expected - LOW_SPREADS * spread      (never before now, nor before `earliest`, e.g. the opening)
    end   = expected + HIGH_SPREADS * spread
then widened to at least `min_width` (keeping the start), and rounded outwards to `step` (5 minutes),
so it reads as clock times a person can keep in mind. `spread` is the estimate's standard deviation.
A scheduled callback's window starts at its slot and lasts `slot_width`.
Kept means connected inside [start, end] (both ends included).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

LOW_SPREADS = 1.5
HIGH_SPREADS = 2.5
MIN_WIDTH_SECONDS = 600
STEP_SECONDS = 300
SLOT_WIDTH_SECONDS = 900


@dataclass(frozen=True)
class Window:
    start: datetime  # aware UTC
    end: datetime  # aware UTC
    zone: str  # IANA key of the zone the window is told in

    @property
    def width_seconds(self) -> int:
        return int((self.end - self.start).total_seconds())

    def contains(self, when: datetime | None) -> bool:
        return when is not None and self.start <= when <= self.end

    def timing(self, when: datetime | None) -> str | None:
        """'early', 'on_time' or 'late' for a connect time against the window (None: never connected)."""
        if when is None:
            return None
        if when < self.start:
            return "early"
        return "on_time" if when <= self.end else "late"


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime given to a window")
    return when.astimezone(timezone.utc)


def _floor(when: datetime, step: int) -> datetime:
    epoch = int(when.timestamp())
    return datetime.fromtimestamp(epoch - epoch % step, timezone.utc)


def _ceil(when: datetime, step: int) -> datetime:
    floored = _floor(when, step)
    return floored if floored == when else floored + timedelta(seconds=step)


def callback_window(*, now: datetime, expected_seconds: float, spread_seconds: float, zone: str,
                    earliest: datetime | None = None, min_width: int = MIN_WIDTH_SECONDS,
                    step: int = STEP_SECONDS) -> Window:
    """The window for an ASAP callback expected `expected_seconds` after `now` (or after `earliest`,
    e.g. the next opening, when that is later), with the estimate's standard deviation `spread_seconds`."""
    now = _utc(now)
    base = max(now, _utc(earliest)) if earliest is not None else now
    expected = base + timedelta(seconds=max(0.0, expected_seconds))
    spread = max(0.0, spread_seconds)
    start = max(base, expected - timedelta(seconds=LOW_SPREADS * spread))
    end = expected + timedelta(seconds=HIGH_SPREADS * spread)
    if (end - start).total_seconds() < min_width:
        end = start + timedelta(seconds=min_width)
    # Rounded outwards, but a window never opens before the minute we are in (or before `earliest`).
    start = max(_floor(start, step), _floor(base, 60))
    return Window(start=start, end=_ceil(end, step), zone=zone)


def slot_window(slot: datetime, zone: str, width: int = SLOT_WIDTH_SECONDS) -> Window:
    """The window for a callback booked for a chosen slot: from the slot, `width` seconds long."""
    slot = _utc(slot)
    return Window(start=slot, end=slot + timedelta(seconds=width), zone=zone)


def stored_window(entry) -> Window | None:
    """The window stored on a queue entry (promised_from/promised_by/promised_zone), if it has one."""
    if entry.promised_from is None or entry.promised_by is None:
        return None
    return Window(start=entry.promised_from, end=entry.promised_by, zone=entry.promised_zone or "UTC")


def store_window(entry, window: Window, told_at: datetime) -> None:
    """Record on the entry the window its customer has just been told."""
    entry.promised_from = window.start
    entry.promised_by = window.end
    entry.promised_zone = window.zone
    entry.promised_at = _utc(told_at)
