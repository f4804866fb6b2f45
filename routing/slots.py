"""Callback start times and their capacity from staffing: the one place that says whether a chosen time
can still be kept. Every booking path asks it: the web button's slot list and a move on the waiting page
(full times are not offered), a time keyed or said on the phone and a `preferred_time` from the API,
chat or SMS (a full time is refused with the next free ones), and callbacks booked overnight "as soon as
you open" (spread over the first free times after the opening, each with its own time to tell).

A scheduled callback falls due at its start minute, and is on time only if an agent is free for it then,
so a start time holds as many callbacks as agents can be free at it, and each keeps its agent for a
handle time:

    capacity(t) = the agents with the skill on at t, each as the share of their work this skill's line
                  takes (a multi-skill agent counts as their share), rounded down, at least 1 while
                  anyone is on, never more than the agents on; 0 while the skill is closed.
                  Agents, shares and handle as routing/estimate.py reads them (staffing now, and at later
                  openings those expected then).
    busy(p)     = callbacks of the skill due in (p - handle, p] (scheduled, retry_wait): still on the
                  agent they took at p
    room(t)     = min over p in {t} and the due times in (t, t + handle) of capacity(p) - busy(p):
                  a callback at t keeps an agent from t to t + handle, so it must fit at every point of it
Live holders and callbacks already in line are not counted against a time: they come first, so a time
starting soon may still be served late; re-estimates (callbacks/dispatch/slips.py) tell those customers.

A callback being moved (the waiting page's move, a supervisor's reschedule) is not counted against its own
new time: `exclude` names it, so a customer is never told their own booking fills the time they want.

Booking is check-then-write: two bookings at once could both see the last place free and both take it.
So the checks that come before a booking (`has_room`, `spread_slot`) first `hold` the skill: they upsert its
row in `slot_locks`, which on PostgreSQL locks that row and on SQLite takes the database's write lock
(storage/db.py), until the transaction ends. A second booking of the skill waits there, then counts the
first. Lists of times offered (`offerable`, `free_starts`) only read.

    room_at(supply, handle, hours, due, start)                  -> int               pure
    hold(session, skill)                                        -> None              until the transaction ends
    has_room(session, config, skill, start, now, exclude=None)  -> bool              one time (holds the skill)
    offerable(session, config, skill, starts, now, exclude=None)-> [datetime]        the starts with room
    free_starts(session, config, skill, earliest, now, count=1, exclude=None) -> [datetime]  the next free times
    spread_slot(session, config, skill, earliest, now)          -> datetime | None   the first of them (holds)
"""
from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from config import IvrConfig, Skill
from routing import estimate
from routing.predictor import HORIZON, Handle, Hours, Supply
from routing.promise import SLOT_WIDTH_SECONDS
from storage.models import CALLBACK, QueueEntry

# The next free times are looked for on this grid (14:05, 14:10, ...): fine enough that a full minute's
# callers are not pushed a whole slot on, coarse enough to read out.
FREE_STEP_SECONDS = 300


def capacity(supply: list[Supply], hours: Hours, at: datetime) -> int:
    """How many callbacks can start at `at`: the agents who can be free then (pure)."""
    if not hours.open_at(at):
        return 0
    on = [s for s in supply if s.on_at(at)]
    if not on:
        return 0
    return min(len(on), max(1, int(math.floor(sum(s.share for s in on) + 1e-9))))


def room_at(supply: list[Supply], handle: Handle, hours: Hours, due: list[datetime], start: datetime) -> int:
    """How many more callbacks can start at `start` on time (pure). `due`: the skill's booked due times,
    sorted, covering at least (start - handle, start + handle)."""
    keep = timedelta(seconds=max(handle.mean, 1.0))
    points = [start, *due[bisect_right(due, start):bisect_left(due, start + keep)]]
    room = None
    for p in points:
        busy = bisect_right(due, p) - bisect_right(due, p - keep)
        left = capacity(supply, hours, p) - busy
        room = left if room is None else min(room, left)
    return max(0, room or 0)


def _due_times(session: Session, skill: str, start: datetime, end: datetime,
               exclude: int | None = None) -> list[datetime]:
    """The due times booked in [start, end), sorted: one query for a walk over many times. `exclude`: the
    id of a callback not to count (the one being moved)."""
    query = select(QueueEntry.next_attempt_at).where(
        QueueEntry.skill == skill, QueueEntry.kind == CALLBACK, QueueEntry.state.in_(("scheduled", "retry_wait")),
        QueueEntry.next_attempt_at >= start, QueueEntry.next_attempt_at < end)
    if exclude is not None:
        query = query.where(QueueEntry.id != exclude)
    return sorted(session.scalars(query))


# One statement for both databases (as storage/counters.py's): PostgreSQL locks the skill's row (a second
# upsert of it waits for this transaction to end); on SQLite it is a write, so this transaction takes the
# database's write lock here (storage/db.py) and keeps it to its commit.
# `taken` is set, not counted up: a counter would grow with every booking for ever (int4 on PostgreSQL).
_HOLD = text("INSERT INTO slot_locks (skill, taken) VALUES (:skill, 1) "
             "ON CONFLICT (skill) DO UPDATE SET taken = 1")


def hold(session: Session, skill: str) -> None:
    """Hold the skill's start times until `session`'s transaction ends: call before the check that decides a
    booking, so a booking made at the same moment is counted (it waits here until this one commits).
    Nothing pending in the session is flushed first, so the lock is always taken before any row of the
    entry being moved (one order for every booking: no deadlock between a move and a reschedule)."""
    with session.no_autoflush:
        session.execute(_HOLD, {"skill": skill})


def _inputs(session: Session, config: IvrConfig, skill: Skill, now: datetime):
    hours = estimate.opening_spans(skill, now)
    supply = estimate.agent_supply(session, skill, now, hours, estimate.line_counts(session, now), config=config)
    return hours, supply, estimate.handle_time(session, skill.name, config.assumed_handle_seconds)


def _skill(config: IvrConfig, skill: Skill | str) -> Skill:
    return config.skills[skill] if isinstance(skill, str) else skill


def offerable(session: Session, config: IvrConfig, skill: Skill | str, starts: list[datetime],
              now: datetime, *, exclude: int | None = None) -> list[datetime]:
    """The starts that still have room: full times are not offered. With no agent that has the skill
    at all, staffing is unknown (agents not entered yet): every start is kept; so is a start beyond the
    predictor's horizon (HORIZON, 8 days), where staffing is not predicted. `exclude`: the id of the
    callback being moved, not counted against its new time."""
    skill = _skill(config, skill)
    hours, supply, handle = _inputs(session, config, skill, now)
    if not supply or not starts:
        return list(starts)
    keep = timedelta(seconds=max(handle.mean, 1.0))
    due = _due_times(session, skill.name, min(starts) - keep, max(starts) + keep, exclude)
    # Beyond the predictor's horizon nobody's hours or shifts are counted (room_at would read "closed",
    # so "full"): such a start is kept, as with staffing unknown; the booking's own hours check still applies.
    beyond = now + HORIZON
    return [start for start in starts if start >= beyond or room_at(supply, handle, hours, due, start) > 0]


def has_room(session: Session, config: IvrConfig, skill: Skill | str, start: datetime, now: datetime, *,
             exclude: int | None = None) -> bool:
    """Whether a callback chosen for `start` can still start on time (see offerable): the check before a
    booking, so it holds the skill first (`hold`) until the booking's transaction ends. `exclude`: the id
    of the callback being moved to `start`, not counted against it."""
    skill = _skill(config, skill)
    # Counted first without holding anyone up: a time already full is refused (and its next free times
    # walked) without the lock; one with room is counted again holding the skill, then booked.
    if not offerable(session, config, skill, [start], now, exclude=exclude):
        return False
    hold(session, skill.name)
    return bool(offerable(session, config, skill, [start], now, exclude=exclude))


def free_starts(session: Session, config: IvrConfig, skill: Skill | str, earliest: datetime, now: datetime, *,
                count: int = 1, step: int = FREE_STEP_SECONDS, exclude: int | None = None) -> list[datetime]:
    """The first `count` start times from `earliest` on that have room: `earliest` itself, then the
    `step` grid (14:05, 14:10, ...) through opening hours, never a time whose told window
    (SLOT_WIDTH_SECONDS) would run past closing. Fewer (or none) when the predictor's horizon ends first,
    or when no agent has the skill at all (nobody's time can be counted). `exclude`: as for offerable."""
    skill = _skill(config, skill)
    hours, supply, handle = _inputs(session, config, skill, now)
    if not supply:
        return []
    width, grid = timedelta(seconds=SLOT_WIDTH_SECONDS), timedelta(seconds=step)
    keep = timedelta(seconds=max(handle.mean, 1.0))
    due: list[datetime] | None = None  # read once, on the first time with any capacity
    found: list[datetime] = []
    for span_start, span_end in hours.spans:
        start = max(span_start, earliest)
        while start + width <= span_end and start < now + HORIZON and len(found) < count:
            if capacity(supply, hours, start) > 0:
                if due is None:
                    due = _due_times(session, skill.name, start - keep, now + HORIZON + width + keep, exclude)
                if room_at(supply, handle, hours, due, start) > 0:
                    found.append(start)
            # On to the next grid time (whole steps of the hour).
            seconds = int(start.timestamp())
            start = datetime.fromtimestamp(seconds - seconds % step, start.tzinfo) + grid
        if len(found) == count:
            break
    return found


def spread_slot(session: Session, config: IvrConfig, skill: Skill | str, earliest: datetime,
                now: datetime, *, booking: bool = True) -> datetime | None:
    """The first time from `earliest` (e.g. the next opening) that has room: callbacks booked overnight
    fill the first free times after the opening in turn instead of all falling due in its first minute.
    None: no room within the predictor's horizon. `booking`: the time is booked next, so it is counted again
    holding the skill (`hold`); False only words an offer, which holds nobody up."""
    skill = _skill(config, skill)
    found = free_starts(session, config, skill, earliest, now)
    if not booking or not found:
        return found[0] if found else None
    hold(session, skill.name)
    if offerable(session, config, skill, found[:1], now):
        return found[0]
    found = free_starts(session, config, skill, found[0], now)  # taken meanwhile: the next, holding the skill
    return found[0] if found else None
