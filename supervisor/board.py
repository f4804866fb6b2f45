"""What the queue page shows: every skill's line as it stands now (read-only, no Flask).

Per skill, in this order:
  connecting  - callbacks being dialled (agent or customer leg)
  in line     - holders and due callbacks in line order (routing.queue.line), with position and
                estimated time to connect (routing.queue.wait_for_position, the same estimate callers hear)
  later       - scheduled callbacks and retries whose time has not come, by next attempt
  failed      - callbacks that failed (attempts used up, voicemail...) in the last FAILED_DAYS days and
                that nobody has retried or closed yet
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from config import IvrConfig
from routing import queue
from storage.models import Agent, QueueEntry, QueueEvent

FAILED_DAYS = 7
# With all skills on one page, each skill shows this many rows in line and later; its own page shows all.
ROWS_PER_SECTION = 40
# Waiting this much longer than we told the person is trouble worth a colour.
OVER_PROMISE_SECONDS = 60
# Context keys that are plumbing, not something a supervisor reads.
HIDDEN_CONTEXT = {"queue_sid", "status_token", "called_number"}


@dataclass
class Row:
    entry: QueueEntry
    section: str  # connecting | line | later | failed
    position: int | None = None
    eta_seconds: int | None = None
    waited_seconds: int = 0
    agent_name: str | None = None
    notes: list[QueueEvent] = field(default_factory=list)
    last_event: QueueEvent | None = None
    context_items: list[tuple[str, str]] = field(default_factory=list)
    now: datetime | None = None

    @property
    def over_promise(self) -> bool:
        announced = self.entry.announced_wait_seconds
        return (self.section == "line" and announced is not None
                and self.waited_seconds > announced + OVER_PROMISE_SECONDS)

    @property
    def overdue(self) -> bool:
        """A callback whose agreed time has passed by more than the grace and that is still not connecting."""
        e = self.entry
        return (self.section == "line" and e.kind == "callback" and e.scheduled_for is not None
                and self.waited_seconds > 0 and e.next_attempt_at is not None and
                (self.now - e.next_attempt_at).total_seconds() > OVER_PROMISE_SECONDS)


@dataclass
class SkillBoard:
    name: str
    timezone: str
    rows: list[Row]
    staffed: int
    free: int
    eta_new_seconds: int

    def section(self, name: str) -> list[Row]:
        return [r for r in self.rows if r.section == name]

    def shown(self, limit: int | None) -> tuple[list[Row], int]:
        """The rows to draw: all connecting and failed rows, the first `limit` in line and later (None: all)."""
        if limit is None:
            return self.rows, 0
        rows, hidden, count = [], 0, {"line": 0, "later": 0}
        for row in self.rows:
            if row.section in count:
                count[row.section] += 1
                if count[row.section] > limit:
                    hidden += 1
                    continue
            rows.append(row)
        return rows, hidden

    @property
    def in_line(self) -> int:
        return len(self.section("line"))

    @property
    def longest_wait_seconds(self) -> int:
        return max((r.waited_seconds for r in self.section("line")), default=0)

    @property
    def unstaffed(self) -> bool:
        """People wait and no agent with the skill is signed in: nobody will ever reach them."""
        return self.in_line > 0 and self.staffed == 0

    @property
    def trouble(self) -> int:
        return sum(1 for r in self.rows if r.section == "failed" or r.over_promise or r.overdue)


def context_items(entry: QueueEntry) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if entry.transcript:
        label = "IVR said" if entry.channel == "phone" else "Transcript"
        items.append((label, entry.transcript))
    for key, value in (entry.context or {}).items():
        if key in HIDDEN_CONTEXT or value in (None, "", [], {}):
            continue
        if isinstance(value, list):
            # a chat transcript: [{"from": "customer", "text": "..."}, ...] or plain strings
            lines = [f"{m.get('from', m.get('role', ''))}: {m.get('text', m.get('message', ''))}".strip(": ")
                     if isinstance(m, dict) else str(m) for m in value]
            value = "\n".join(lines)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        items.append((key.replace("_", " ").capitalize(), str(value)))
    return items


def build(session: Session, config: IvrConfig, now: datetime, skill: str | None = None) -> list[SkillBoard]:
    failed_since = now - timedelta(days=FAILED_DAYS)
    query = select(QueueEntry).where(or_(
        QueueEntry.state.in_(("holding", "queued", "scheduled", "retry_wait", "dialing_agent", "dialing_customer")),
        and_(QueueEntry.state == "failed", QueueEntry.closed_at >= failed_since),
    ))
    if skill:
        query = query.where(QueueEntry.skill == skill)
    entries = list(session.scalars(query.order_by(*queue.line_order())))
    ids = [e.id for e in entries]
    notes: dict[int, list[QueueEvent]] = {}
    last: dict[int, QueueEvent] = {}
    if ids:
        for event in session.scalars(select(QueueEvent).where(QueueEvent.entry_id.in_(ids))
                                     .order_by(QueueEvent.id)):
            last[event.entry_id] = event
            if event.event == "note":
                notes.setdefault(event.entry_id, []).append(event)
    agents = {a.id: a for a in session.scalars(select(Agent))}
    agent_by_entry = {a.entry_id: a.name for a in agents.values() if a.entry_id}

    skills = [s for s in config.skills if not skill or s == skill]
    skills += sorted({e.skill for e in entries} - set(skills))
    boards = []
    for name in skills:
        staff = queue.staffing(session, name)
        aht = queue.average_handle_seconds(session, name, config.assumed_handle_seconds)
        rows: list[Row] = []
        position = 0
        for entry in (e for e in entries if e.skill == name):
            if entry.state in ("dialing_agent", "dialing_customer"):
                section = "connecting"
            elif queue.is_in_line(entry, now):
                section = "line"
            elif entry.state == "failed":
                section = "failed"
            else:
                section = "later"
            row = Row(entry=entry, section=section, now=now,
                      waited_seconds=max(0, int((now - _waiting_since(entry)).total_seconds())),
                      agent_name=agent_by_entry.get(entry.id) or (agents[entry.agent_id].name
                                                                  if entry.agent_id in agents else None),
                      notes=notes.get(entry.id, []), last_event=last.get(entry.id),
                      context_items=context_items(entry))
            if section == "line":
                position += 1
                row.position = position
                row.eta_seconds = queue.wait_for_position(position, staff, aht)
            elif section == "later" and entry.next_attempt_at is not None:
                row.eta_seconds = int((entry.next_attempt_at - now).total_seconds())
            rows.append(row)
        rows.sort(key=_row_order)
        tz = config.skills[name].timezone.key if name in config.skills else "UTC"
        boards.append(SkillBoard(name=name, timezone=tz, rows=rows, staffed=staff.staffed, free=staff.free,
                                 eta_new_seconds=queue.wait_for_position(position + 1, staff, aht)))
    return boards


def _row_order(row: Row) -> tuple[int, float]:
    e = row.entry
    if row.section == "connecting":
        return 0, e.arrived_at.timestamp()
    if row.section == "line":
        return 1, float(row.position or 0)
    if row.section == "later":
        return 2, (e.next_attempt_at or e.arrived_at).timestamp()
    return 3, -(e.closed_at or e.updated_at).timestamp()


def _waiting_since(entry: QueueEntry) -> datetime:
    """A scheduled callback waits from its agreed time, everyone else from their arrival."""
    if entry.kind == "callback" and entry.scheduled_for is not None and entry.scheduled_for > entry.arrived_at:
        return entry.scheduled_for
    return entry.arrived_at


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except Exception:
        return ZoneInfo("UTC")
