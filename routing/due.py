"""Which entries of a skill's line may be served now, and when the next one falls due.

The dispatcher's picking rule, beside the line order it follows (routing/queue.py):
- open: live holders without an agent, queued callbacks, scheduled callbacks whose slot is within
  the early window, and retries whose time has come;
- closed: live holders, scheduled callbacks whose own (in-hours) slot is within the early window, and
  queued callbacks whose told window has begun (promised before closing, so agents still at work
  serve them in line order, before holders who arrived later; the others wait for the opening).
Due entries are served in line order but for one exception (serve_key): scheduled callbacks within
the early window go first, earliest slot first, so a free agent dials a slot on time whoever came before.
One small indexed query per kind of due entry (each LIMITed), merged: cheap however many callbacks
wait for later (bench/dispatcher_bench.py).
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Skill
from routing import hours
from storage.models import CALLBACK, QueueEntry


def order_key(entry: QueueEntry) -> tuple:
    """routing.queue.line_order() for loaded entries: priority (desc), arrival, id."""
    return (-entry.priority, entry.arrived_at, entry.id)


def serve_key(entry: QueueEntry, now: datetime, early_seconds: int) -> tuple:
    """The order free agents take due entries in: scheduled callbacks from `early_seconds` before their slot
    on (and after it, when late), earliest slot first; then everyone else in line order (order_key). A
    slot was promised to the minute, a holder or ASAP callback only a wait or a window."""
    if entry.state == "scheduled" and entry.next_attempt_at is not None and (
            entry.next_attempt_at - timedelta(seconds=early_seconds) <= now):
        return (0, entry.next_attempt_at, -entry.priority, entry.id)
    return (1, *order_key(entry))


def window_begun(by: datetime):
    """Queued callbacks whose told window begins by `by`: a closed skill's agents still serve them (promised
    for today), and only them of its queued callbacks (the others wait for the opening)."""
    return (QueueEntry.state == "queued") & (QueueEntry.promised_from <= by)


def served_while_closed(now: datetime):
    """Of a closed skill's line now (routing.queue.in_line_now), what its agents still serve before it opens
    (due_entries' closed rule): live holders and queued callbacks whose told window has begun. Retries and
    callbacks told a window at the opening wait for it; a slot at the opening falls due only then. The
    estimate counts a closed skill's work for a multi-skill agent by it (routing.estimate.line_counts), with
    one difference: the dispatcher takes a window from its early window (a minute) before it begins, the
    estimate from its beginning."""
    return (QueueEntry.state == "holding") | window_begun(now)


def due_entries(s: Session, skill: Skill, now: datetime, limit: int, early_seconds: int) -> list[QueueEntry]:
    """Up to `limit` entries of `skill` that may be served now, in serving order (serve_key)."""
    early = now + timedelta(seconds=early_seconds)
    open_now = hours.is_open(skill, now)
    unoffered_holder = (QueueEntry.state == "holding") & QueueEntry.agent_id.is_(None)
    scheduled = (QueueEntry.state == "scheduled") & (QueueEntry.next_attempt_at <= early)
    retry = (QueueEntry.state == "retry_wait") & (QueueEntry.next_attempt_at <= now)
    if open_now:
        # (clause, timed): timed clauses are picked by their (state, next_attempt_at) range.
        clauses = [(unoffered_holder, False), (QueueEntry.state == "queued", False), (scheduled, True), (retry, True)]
        slotted = scheduled
    else:
        promised = window_begun(early)
        slotted = scheduled & (QueueEntry.next_attempt_at > now)
        clauses = [(unoffered_holder, True), (slotted, True), (promised, True)]
    found: list[QueueEntry] = []
    for clause, timed in clauses:
        where = (QueueEntry.skill == skill.name) & clause
        if timed:
            # Let the range pick the few that are due, then sort those (an expression in ORDER BY keeps
            # the planner off the line-order index, which would walk every callback booked for later).
            # Scheduled slots: earliest first, as serve_key takes them.
            order = ((QueueEntry.next_attempt_at,) if clause is slotted
                     else (QueueEntry.priority * -1, QueueEntry.arrived_at))
            query = select(QueueEntry).where(where).order_by(*order, QueueEntry.id)
            rows = s.scalars(query.limit(limit if open_now else limit * 4))
        else:
            rows = _in_line_order(s, where, limit)
        found.extend(e for e in rows if open_now or e.kind != CALLBACK or e.state == "queued"
                     or hours.is_open(skill, e.next_attempt_at))
    found.sort(key=lambda e: serve_key(e, now, early_seconds))
    return found[:limit]


def _in_line_order(s: Session, where, limit: int) -> list[QueueEntry]:
    """The first `limit` rows matching `where` by priority (desc), arrival, id, one priority level
    at a time: each step walks the (skill, state, priority, arrived_at, id) index in order, so
    the cost does not grow with the length of the line (one index cannot serve DESC then ASC)."""
    rows: list[QueueEntry] = []
    ceiling = None
    while len(rows) < limit:
        level = where if ceiling is None else where & (QueueEntry.priority < ceiling)
        top = s.scalar(select(func.max(QueueEntry.priority)).where(level))
        if top is None:
            break
        rows.extend(s.scalars(select(QueueEntry).where(level, QueueEntry.priority == top)
                              .order_by(QueueEntry.arrived_at, QueueEntry.id).limit(limit - len(rows))))
        ceiling = top
    return rows


def coming_due(s: Session, skill: Skill, now: datetime, early_seconds: int, ahead_seconds: int) -> list[datetime]:
    """When the scheduled callbacks of `skill` fall due (their slot minus the early window) after now and
    within `ahead_seconds`, earliest first: the dispatcher keeps free agents for them (reserve())."""
    early = now + timedelta(seconds=early_seconds)
    slots = s.scalars(select(QueueEntry.next_attempt_at).where(
        QueueEntry.skill == skill.name, QueueEntry.state == "scheduled", QueueEntry.next_attempt_at > early,
        QueueEntry.next_attempt_at <= early + timedelta(seconds=ahead_seconds)).order_by(QueueEntry.next_attempt_at))
    return [at - timedelta(seconds=early_seconds) for at in slots]


def reserve(due_times: list[datetime], now: datetime, staffed: int, handle_seconds: float, base_seconds: int) -> int:
    """How many free agents to keep now for scheduled callbacks falling due at `due_times` (sorted).

    The j-th slot needs j agents free when it falls due. With every agent busy, agents free up at about
    staffed / handle a second, so j of them free up within (j + 2 * sqrt(j)) * handle / staffed with
    good odds (the mean plus two standard deviations of a Poisson count): the j-th slot starts keeping
    agents that long before it falls due, and never later than `base_seconds` before."""
    keep = 0
    per = handle_seconds / staffed if staffed > 0 else 0.0
    for j, at in enumerate(due_times, start=1):
        lead = max(float(base_seconds), (j + 2 * math.sqrt(j)) * per)
        if (at - now).total_seconds() <= lead:
            keep = j
    return keep


def next_due(s: Session, now: datetime, early_seconds: int) -> datetime | None:
    """The next moment a timed entry becomes due: a scheduled slot (minus the early window) or a retry."""
    early = timedelta(seconds=early_seconds)
    times = []
    scheduled = s.scalar(select(QueueEntry.next_attempt_at).where(
        QueueEntry.state == "scheduled", QueueEntry.next_attempt_at > now + early
    ).order_by(QueueEntry.next_attempt_at).limit(1))
    if scheduled:
        times.append(scheduled - early)
    retry = s.scalar(select(QueueEntry.next_attempt_at).where(
        QueueEntry.state == "retry_wait", QueueEntry.next_attempt_at > now
    ).order_by(QueueEntry.next_attempt_at).limit(1))
    if retry:
        times.append(retry)
    return min(times) if times else None
