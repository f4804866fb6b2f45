"""A skill's line: live holders and callbacks in one order.

Order: higher priority first, then original arrival time, then id (a stable tie-break).
"In line now" means holding or queued, or a scheduled/retrying callback whose time has come (opening
hours are not part of it: the estimate, routing/estimate.py, says when a closed line will be served).
The wait estimate every channel tells is routing/estimate.py's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from storage.models import Agent, QueueEntry


def line_order():
    return (QueueEntry.priority.desc(), QueueEntry.arrived_at.asc(), QueueEntry.id.asc())


def in_line_now(now: datetime):
    return or_(
        QueueEntry.state.in_(("holding", "queued")),
        and_(QueueEntry.state.in_(("scheduled", "retry_wait")), QueueEntry.next_attempt_at <= now),
    )


def is_in_line(entry: QueueEntry, now: datetime) -> bool:
    """in_line_now() for one loaded entry (the same rule, in Python)."""
    return entry.state in ("holding", "queued") or (
        entry.state in ("scheduled", "retry_wait") and entry.next_attempt_at is not None
        and entry.next_attempt_at <= now)


def line(session: Session, skill: str, now: datetime, limit: int | None = None) -> list[QueueEntry]:
    """The entries standing in `skill`'s line now, next first."""
    query = select(QueueEntry).where(QueueEntry.skill == skill, in_line_now(now)).order_by(*line_order())
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def ahead_of(entry: QueueEntry):
    """The entries before `entry` in line order (whether in line now or not: combine with in_line_now)."""
    return or_(
        QueueEntry.priority > entry.priority,
        and_(QueueEntry.priority == entry.priority, QueueEntry.arrived_at < entry.arrived_at),
        and_(
            QueueEntry.priority == entry.priority,
            QueueEntry.arrived_at == entry.arrived_at,
            QueueEntry.id < entry.id,
        ),
    )


def position(session: Session, entry: QueueEntry, now: datetime) -> int:
    """1-based place of `entry` among those in line now (entries ahead of it, plus one)."""
    count = session.scalar(
        select(func.count()).select_from(QueueEntry).where(
            QueueEntry.skill == entry.skill, in_line_now(now), QueueEntry.id != entry.id, ahead_of(entry)
        )
    )
    return int(count or 0) + 1


@dataclass(frozen=True)
class Staffing:
    staffed: int
    free: int


def staffing(session: Session, skill: str) -> Staffing:
    agents = session.scalars(select(Agent).where(Agent.state != "offline")).all()
    with_skill = [a for a in agents if skill in (a.skills or {})]
    return Staffing(staffed=len(with_skill), free=sum(1 for a in with_skill if a.state == "available"))
