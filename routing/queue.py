"""A skill's line: live holders and callbacks in one order, and the honest wait estimate.

Order: higher priority first, then original arrival time, then id (a stable tie-break).
"In line now" means holding or queued, or a scheduled/retrying callback whose time has come.

estimated_wait (seconds) for the entry at position p (1 = next):
    staffed   = agents with the skill who are not offline
    free      = those available now
    aht       = mean handle time (connected -> closed) of the skill's last 20 connected entries,
                or the configured assumed_handle_seconds while there are fewer than 3
    wait      = 0                                     if p <= free
              = ceil((p - free) / max(staffed, 1)) * aht   otherwise
Each staffed agent frees up about once per aht, so the caller waits for (p - free) hand-offs
spread over `staffed` agents. With nobody staffed we still answer as if one agent were on,
rather than promise nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from storage.models import Agent, QueueEntry

RECENT_HANDLES = 20


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


def position(session: Session, entry: QueueEntry, now: datetime) -> int:
    """1-based place of `entry` among those in line now (entries ahead of it, plus one)."""
    ahead = or_(
        QueueEntry.priority > entry.priority,
        and_(QueueEntry.priority == entry.priority, QueueEntry.arrived_at < entry.arrived_at),
        and_(
            QueueEntry.priority == entry.priority,
            QueueEntry.arrived_at == entry.arrived_at,
            QueueEntry.id < entry.id,
        ),
    )
    count = session.scalar(
        select(func.count()).select_from(QueueEntry).where(
            QueueEntry.skill == entry.skill, in_line_now(now), QueueEntry.id != entry.id, ahead
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


def average_handle_seconds(session: Session, skill: str, assumed: int) -> float:
    rows = session.execute(
        select(QueueEntry.connected_at, QueueEntry.closed_at)
        .where(
            QueueEntry.skill == skill,
            QueueEntry.state == "completed",
            QueueEntry.connected_at.is_not(None),
            QueueEntry.closed_at.is_not(None),
        )
        .order_by(QueueEntry.closed_at.desc())
        .limit(RECENT_HANDLES)
    ).all()
    if len(rows) < 3:
        return float(assumed)
    return sum((closed - connected).total_seconds() for connected, closed in rows) / len(rows)


def wait_for_position(pos: int, staff: Staffing, aht: float) -> int:
    if pos <= staff.free:
        return 0
    return int(math.ceil((pos - staff.free) / max(staff.staffed, 1)) * aht)


def estimated_wait(session: Session, entry: QueueEntry, now: datetime, assumed_handle_seconds: int) -> int:
    return wait_for_position(
        position(session, entry, now),
        staffing(session, entry.skill),
        average_handle_seconds(session, entry.skill, assumed_handle_seconds),
    )
