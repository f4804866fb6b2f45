"""Callback slots and their capacity from staffing: full slots are not offered, and callbacks that
would all fall due at one moment (those booked overnight for "as soon as you open") are spread over
the first slots after it, each with its own slot to tell.

    capacity(slot)  = floor(sum of the shares of the agents on at the slot's start * slot seconds / handle)
                      (0 when the skill is closed then; agents, shares and handle as routing/estimate.py
                      reads them: staffing now, and at later openings those expected then)
    booked(slot)    = callbacks of the skill due in the slot (scheduled, retry_wait)
    room(slot)      = capacity - booked
Live holders and callbacks already in line are not counted against a slot: they come first, so a slot
starting soon may still be served late; re-estimates (callbacks/dispatch/slips.py) tell those customers.

    slots(session, config, skill, starts, now)           -> [Slot]            capacity and bookings
    offerable(session, config, skill, starts, now)       -> [datetime]        starts with room
    spread_slot(session, config, skill, earliest, now)   -> datetime | None   first start with room
"""
from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import IvrConfig, Skill
from routing import estimate
from routing.predictor import HORIZON, Handle, Hours, Supply
from routing.promise import SLOT_WIDTH_SECONDS
from storage.models import CALLBACK, QueueEntry


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    capacity: int
    booked: int

    @property
    def room(self) -> int:
        return max(0, self.capacity - self.booked)


def capacity(supply: list[Supply], handle: Handle, hours: Hours, start: datetime, seconds: int) -> int:
    """How many callbacks the agents on at `start` can take in a slot of `seconds` (pure)."""
    if not hours.open_at(start) or handle.mean <= 0:
        return 0
    staffed = sum(s.share for s in supply if s.on_at(start))
    return int(math.floor(staffed * seconds / handle.mean + 1e-9))


def _due_in(skill: str, start: datetime, end: datetime):
    return (QueueEntry.skill == skill, QueueEntry.kind == CALLBACK, QueueEntry.state.in_(("scheduled", "retry_wait")),
            QueueEntry.next_attempt_at >= start, QueueEntry.next_attempt_at < end)


def booked(session: Session, skill: str, start: datetime, end: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(QueueEntry).where(*_due_in(skill, start, end))) or 0)


def _due_times(session: Session, skill: str, start: datetime, end: datetime) -> list[datetime]:
    """The due times booked in [start, end), sorted: one query for a walk over many slots."""
    return sorted(session.scalars(select(QueueEntry.next_attempt_at).where(*_due_in(skill, start, end))))


def _inputs(session: Session, config: IvrConfig, skill: Skill, now: datetime):
    hours = estimate.opening_spans(skill, now)
    supply = estimate.agent_supply(session, skill, now, hours, estimate.line_counts(session, now))
    return hours, supply, estimate.handle_time(session, skill.name, config.assumed_handle_seconds)


def slots(session: Session, config: IvrConfig, skill: Skill | str, starts: list[datetime], now: datetime, *,
          width: int = SLOT_WIDTH_SECONDS) -> list[Slot]:
    skill = config.skills[skill] if isinstance(skill, str) else skill
    hours, supply, handle = _inputs(session, config, skill, now)
    step = timedelta(seconds=width)
    return [Slot(start, start + step, capacity(supply, handle, hours, start, width),
                 booked(session, skill.name, start, start + step)) for start in starts]


def offerable(session: Session, config: IvrConfig, skill: Skill | str, starts: list[datetime], now: datetime, *,
              width: int = SLOT_WIDTH_SECONDS) -> list[datetime]:
    """The starts whose slot still has room: full slots are not offered. With no agent that has the skill
    at all, staffing is unknown (agents not entered yet): every start is kept."""
    skill = config.skills[skill] if isinstance(skill, str) else skill
    if not _inputs(session, config, skill, now)[1]:
        return list(starts)
    return [slot.start for slot in slots(session, config, skill, starts, now, width=width) if slot.room > 0]


def spread_slot(session: Session, config: IvrConfig, skill: Skill | str, earliest: datetime, now: datetime, *,
                width: int = SLOT_WIDTH_SECONDS) -> datetime | None:
    """The first slot from `earliest` (e.g. the next opening) that has room, walking `width` at a time
    through opening hours: callbacks booked overnight fill the first slots after the opening in turn
    instead of all falling due in its first minute. None: no room within the predictor's horizon."""
    skill = config.skills[skill] if isinstance(skill, str) else skill
    hours, supply, handle = _inputs(session, config, skill, now)
    step = timedelta(seconds=width)
    due: list[datetime] | None = None  # read once, on the first slot with any capacity
    for span_start, span_end in hours.spans:
        start = max(span_start, earliest)
        while start + step <= span_end and start < now + HORIZON:  # a slot never runs past closing
            room = capacity(supply, handle, hours, start, width)
            if room > 0:
                if due is None:
                    due = _due_times(session, skill.name, start, now + HORIZON + step)
                if room > bisect_left(due, start + step) - bisect_left(due, start):
                    return start
            start += step
    return None
