"""What the queue page shows: every skill's line as it stands now (read-only, no Flask).

Per skill, in this order:
  connecting  - callbacks being dialled (agent or customer leg)
  in line     - holders and due callbacks in line order (routing.queue.line), with position and
                estimated time to connect (routing.estimate, the same estimate callers hear; none when
                no staffed agent can meet it: closed, nobody on, or past closing)
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
from routing import estimate, queue
from storage.models import Agent, QueueEntry, QueueEvent

FAILED_DAYS = 7
# With all skills on one page, each skill shows this many rows in line and later; its own page shows all.
ROWS_PER_SECTION = 40
# Waiting this much longer than we told the person is trouble worth a colour.
OVER_PROMISE_SECONDS = 60
# Never shown, not even under "details": the customer's own key to their status link.
SECRET_CONTEXT = {"status_token", "link_hashes"}  # link_hashes: callbacks.waiting.link_for_texter
# The customer's own context, shown in people's words (the template says them); every other key is the
# dispatcher's or the IVR's bookkeeping (leg, claimed_at, mode, queue_sid...), shown only under "details".
PEOPLE_CONTEXT = {"ivr_path", "ivr_heard", "chat_transcript", "sms_text", "page_url", "customer_reference",
                  "caller_number"}


@dataclass(frozen=True)
class Answer:
    """One answer along the caller's way through the IVR: the question, what they keyed or said, what it meant."""
    asked: str | None  # the question's prompt key (menu, wait_offer...); the template names it
    keys: str | None = None
    said: str | None = None
    confidence: float | None = None
    meaning: str | None = None  # as the IVR recorded it: a skill, yes, no, asap, a number...
    meaning_skill: str | None = None  # the skill's label when the meaning names a skill
    meaning_time: datetime | None = None  # when the meaning is a time


@dataclass
class CustomerContext:
    """What the customer said, keyed, typed or where they came from, plus the system's own details."""
    path: list[Answer] = field(default_factory=list)
    chat: str | None = None
    texted: str | None = None
    page_url: str | None = None
    page_is_link: bool = False
    reference: str | None = None
    called_from: str | None = None
    details: list[tuple[str, object]] = field(default_factory=list)  # (key, value); times as datetimes

    @property
    def said_anything(self) -> bool:
        return bool(self.path or self.chat or self.texted or self.page_url or self.reference or self.called_from)

    @property
    def headline(self) -> Answer | None:
        """The answer that says most about why they called: the first spoken one, else the first."""
        return next((a for a in self.path if a.said), self.path[0] if self.path else None)


def customer_context(entry: QueueEntry, config: IvrConfig) -> CustomerContext:
    context = entry.context if isinstance(entry.context, dict) else {}
    found = CustomerContext()
    path = context.get("ivr_path") or context.get("ivr_heard") or []
    found.path = [a for a in (_answer(step, config) for step in path if isinstance(step, dict)) if a]
    if not found.path and entry.transcript:
        found.path = [Answer(asked=None, said=entry.transcript, confidence=entry.confidence)]
    found.chat = _text(context.get("chat_transcript"))
    found.texted = _text(context.get("sms_text"))
    url = _text(context.get("page_url"))
    if url:
        found.page_url, found.page_is_link = url, url.startswith(("https://", "http://"))
    found.reference = _text(context.get("customer_reference"))
    caller = _text(context.get("caller_number"))
    if caller and caller != entry.phone_number:
        found.called_from = caller
    for key, value in context.items():
        if key in PEOPLE_CONTEXT or key in SECRET_CONTEXT or value in (None, "", [], {}):
            continue
        found.details.append((key, _time(value) or value))
    return found


def trail_details(detail: dict | None) -> list[tuple[str, object]]:
    """An audit-trail event's detail for the page: names in words, times as datetimes (shown in the reader's zone)."""
    return [(key.replace("_", " "), _time(value) or value) for key, value in (detail or {}).items()
            if value not in (None, "", [], {})]


def _answer(step: dict, config: IvrConfig) -> Answer | None:
    keys = _text(step.get("keys") or step.get("digits"))
    said = _text(step.get("said") or step.get("transcript"))
    if not keys and not said:
        return None  # a question with no answer is not worth a line
    confidence = step.get("confidence")
    meaning = _text(step.get("meaning"))
    skill = config.skills.get(meaning) if meaning else None
    return Answer(asked=_text(step.get("asked") or step.get("step")), keys=keys, said=said,
                  confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
                  meaning=meaning, meaning_skill=skill.label_in(config.default_language) if skill else None,
                  meaning_time=_time(meaning))


def _text(value) -> str | None:
    if value in (None, "", [], {}):
        return None
    if isinstance(value, list):  # an older chat transcript: [{"from": "customer", "text": "..."}, ...]
        value = "\n".join(f"{m.get('from') or m.get('role') or 'customer'}: {m.get('text') or m.get('message') or ''}"
                          if isinstance(m, dict) else str(m) for m in value)
    return str(value).strip() or None


def _time(value) -> datetime | None:
    """An ISO time with its offset (the IVR's and the dispatcher's way of storing one), else None."""
    if not isinstance(value, str) or len(value) < 16 or value[4:5] != "-" or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


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
    context: CustomerContext = field(default_factory=CustomerContext)
    now: datetime | None = None

    @property
    def agreed_time(self) -> datetime | None:
        """For a scheduled callback: the time agreed with the customer, which its wait counts from."""
        e = self.entry
        if e.kind == "callback" and e.scheduled_for is not None and e.scheduled_for > e.arrived_at:
            return e.scheduled_for
        return None

    @property
    def waiting_since(self) -> datetime:
        return _waiting_since(self.entry)

    @property
    def due_in_seconds(self) -> int | None:
        """For a row whose time has not come: how long until it joins the line (whole minutes past an hour)."""
        if self.section != "later" or self.entry.next_attempt_at is None:
            return None
        seconds = max(0, int((self.entry.next_attempt_at - self.now).total_seconds()))
        return -(-seconds // 60) * 60 if seconds >= 3600 else seconds

    @property
    def over_promise(self) -> bool:
        """Past what the person was told: a callback's window has ended (a holder who converted is judged
        by the window told then, not by the wait told while holding); a holder's wait is exceeded."""
        e = self.entry
        if e.kind == "callback" and e.promised_by is not None:
            return self.section in ("line", "later", "connecting") and self.now > e.promised_by
        announced = e.announced_wait_seconds
        return (self.section == "line" and e.kind != "callback" and announced is not None
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
    eta_new_seconds: int | None  # None: no staffed agent can meet a wait (see status, resume_at)
    status: str = "wait"  # routing.predictor's: now, wait, after_closing, closed, unstaffed
    resume_at: datetime | None = None  # when we would call back instead
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
        in_line = sum(1 for e in entries if e.skill == name and queue.is_in_line(e, now)
                      and e.state not in ("dialing_agent", "dialing_customer"))
        new, places = (estimate.line_estimates(session, config.skills[name], now, config=config, in_line=in_line)
                       if name in config.skills else (None, []))
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
                      context=customer_context(entry, config))
            if section == "line":
                position += 1
                row.position = position
                told = places[position - 1] if position <= len(places) else None
                row.eta_seconds = told.seconds if told is not None and told.announceable else None
            elif section == "later" and entry.next_attempt_at is not None:
                row.eta_seconds = int((entry.next_attempt_at - now).total_seconds())
            rows.append(row)
        rows.sort(key=_row_order)
        tz = config.skills[name].timezone.key if name in config.skills else "UTC"
        boards.append(SkillBoard(name=name, timezone=tz, rows=rows, staffed=staff.staffed, free=staff.free,
                                 eta_new_seconds=new.seconds if new is not None and new.announceable else None,
                                 status=new.status if new is not None else "unstaffed",
                                 resume_at=new.resume_at if new is not None else None))
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
    """A scheduled callback waits from its agreed time (so, before it, not at all), everyone else from
    their arrival."""
    if entry.kind == "callback" and entry.scheduled_for is not None and entry.scheduled_for > entry.arrived_at:
        return entry.scheduled_for
    return entry.arrived_at


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except Exception:
        return ZoneInfo("UTC")
