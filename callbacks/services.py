"""Callbacks and places in line: how they are created, how their state changes, and the audit trail.

Every state change goes through change_state(), which refuses impossible moves and writes a
QueueEvent, so the trail is complete and metrics computed from it agree with what happened.
Phone, web, chat and SMS callbacks all enter through book_callback() or convert_to_callback().
"""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callbacks.exceptions import EntryNotFound, TransitionRefused
from storage.models import CALLBACK, CLOSED_STATES, HOLDING, QueueEntry, QueueEvent

ALLOWED = {
    "holding": {"queued", "scheduled", "connected", "abandoned", "cancelled"},
    "queued": {"dialing_agent", "dialing_customer", "scheduled", "cancelled", "connected", "failed"},
    "scheduled": {"queued", "dialing_agent", "dialing_customer", "scheduled", "cancelled", "failed"},
    "retry_wait": {"queued", "scheduled", "dialing_agent", "dialing_customer", "cancelled", "failed"},
    "dialing_agent": {"dialing_customer", "connected", "queued", "retry_wait", "failed", "cancelled"},
    "dialing_customer": {"connected", "queued", "retry_wait", "failed", "cancelled"},
    "connected": {"completed"},
    "failed": {"queued", "scheduled", "cancelled"},
    "completed": set(),
    "cancelled": set(),
    "abandoned": set(),
}


def open_key(number: str | None, skill: str) -> str | None:
    return f"{number}|{skill}" if number else None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def change_state(
    session: Session,
    entry: QueueEntry,
    state: str,
    *,
    now: datetime,
    event: str | None = None,
    reason: str | None = None,
    actor: str = "system",
    **detail,
) -> QueueEvent:
    previous = entry.state
    if state not in ALLOWED.get(previous, set()):
        raise TransitionRefused(f"a {entry.kind} that is {previous} cannot become {state}")
    entry.state = state
    entry.updated_at = now
    if state in CLOSED_STATES:
        entry.closed_at = now
        entry.open_key = None
    elif previous in CLOSED_STATES:
        entry.closed_at = None
    if state == "connected":
        entry.connected_at = now
    trail = QueueEvent(
        at=now, event=event or state, state=state, previous_state=previous, reason=reason, actor=actor, detail=detail
    )
    entry.events.append(trail)
    session.flush()
    if state == "connected":
        close_other_requests(session, entry, now)
    return trail


def close_other_requests(session: Session, served: QueueEntry, now: datetime) -> int:
    """Merge across channels: the person on `served`'s number is connected now, so their other waiting
    callbacks (any channel, any skill) are closed, each with a note naming the request that served them."""
    if not served.phone_number:
        return 0
    others = session.scalars(select(QueueEntry).where(
        QueueEntry.phone_number == served.phone_number, QueueEntry.id != served.id, QueueEntry.kind == CALLBACK,
        QueueEntry.state.in_(("queued", "scheduled", "retry_wait")))).all()
    for other in others:
        change_state(session, other, "cancelled", now=now, event="merged", actor="system",
                     reason=f"served by the {served.channel} {served.kind} for {served.skill}",
                     served_by=served.public_id)
    return len(others)


def record(session: Session, entry: QueueEntry, event: str, *, now: datetime, reason: str | None = None,
           actor: str = "system", **detail) -> QueueEvent:
    """An event that does not change the state (a note, a priority change, an announced wait)."""
    entry.updated_at = now
    trail = QueueEvent(at=now, event=event, state=entry.state, previous_state=entry.state, reason=reason,
                       actor=actor, detail=detail)
    entry.events.append(trail)
    session.flush()
    return trail


def enter_line(session: Session, *, skill: str, call_sid: str, phone_number: str | None, language: str,
               arrived_at: datetime, now: datetime, transcript: str | None = None,
               confidence: float | None = None, context: dict | None = None) -> QueueEntry:
    """A caller joins `skill`'s line as a live holder (idempotent per CallSid and skill)."""
    existing = session.scalar(
        select(QueueEntry).where(QueueEntry.call_sid == call_sid, QueueEntry.skill == skill,
                                 QueueEntry.state == "holding")
    )
    if existing:
        return existing
    entry = QueueEntry(
        public_id=uuid.uuid4().hex, skill=skill, kind=HOLDING, channel="phone", state="holding", priority=0,
        arrived_at=arrived_at, call_sid=call_sid, phone_number=phone_number, language=language,
        context=dict(context or {}), transcript=transcript, confidence=confidence, attempts=0, created_at=now,
        updated_at=now,
    )
    session.add(entry)
    entry.events.append(QueueEvent(at=now, event="arrived", state="holding", actor="caller", detail={}))
    session.flush()
    return entry


@dataclass
class CallbackRequest:
    skill: str
    phone_number: str  # E.164, already checked by phone_numbers.normalise
    channel: str
    language: str
    arrived_at: datetime
    scheduled_for: datetime | None = None
    customer_timezone: str | None = None
    caller_name: str | None = None
    reason: str | None = None
    context: dict = field(default_factory=dict)
    transcript: str | None = None
    confidence: float | None = None
    call_sid: str | None = None
    announced_wait_seconds: int | None = None
    actor: str = "customer"


@dataclass
class Booking:
    entry: QueueEntry
    created: bool
    # Only set when created: the secret for the status link, shown once and stored hashed.
    status_token: str | None = None


def find_open_callback(session: Session, number: str, skill: str) -> QueueEntry | None:
    return session.scalar(select(QueueEntry).where(QueueEntry.open_key == open_key(number, skill)))


def _apply_booking(entry: QueueEntry, request: CallbackRequest, now: datetime) -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    entry.kind = CALLBACK
    entry.phone_number = request.phone_number
    entry.open_key = open_key(request.phone_number, request.skill)
    entry.scheduled_for = request.scheduled_for
    entry.next_attempt_at = request.scheduled_for
    entry.customer_timezone = request.customer_timezone
    entry.announced_wait_seconds = request.announced_wait_seconds
    entry.status_token_hash = hash_token(token)
    if request.caller_name:
        entry.caller_name = request.caller_name
    if request.reason:
        entry.reason = request.reason
    if request.transcript:
        entry.transcript = request.transcript
        entry.confidence = request.confidence
    entry.context = {**(entry.context or {}), **request.context}
    return token, ("scheduled" if request.scheduled_for else "queued")


def book_callback(session: Session, request: CallbackRequest, now: datetime) -> Booking:
    """A new callback in `request.skill`'s line, or the open one this number already has there."""
    existing = find_open_callback(session, request.phone_number, request.skill)
    if existing:
        return Booking(existing, created=False)
    entry = QueueEntry(
        public_id=uuid.uuid4().hex, skill=request.skill, kind=CALLBACK, channel=request.channel, state="requested",
        priority=0, arrived_at=request.arrived_at, call_sid=request.call_sid, language=request.language, context={},
        attempts=0, created_at=now, updated_at=now,
    )
    token, state = _apply_booking(entry, request, now)
    entry.state = state
    try:
        with session.begin_nested():
            session.add(entry)
            entry.events.append(QueueEvent(at=now, event="requested", state=state, previous_state=None,
                                           actor=request.actor, detail={"channel": request.channel}))
            session.flush()
    except IntegrityError:
        # Another request for the same number and skill won the race: answer with that one.
        existing = find_open_callback(session, request.phone_number, request.skill)
        if existing is None:
            raise
        return Booking(existing, created=False)
    return Booking(entry, created=True, status_token=token)


def convert_to_callback(session: Session, entry: QueueEntry, request: CallbackRequest, now: datetime) -> Booking:
    """A holding caller becomes a callback in the same place in line (arrival time kept)."""
    if entry.kind == CALLBACK and entry.is_open:
        return Booking(entry, created=False)
    existing = find_open_callback(session, request.phone_number, entry.skill)
    if existing and existing.id != entry.id:
        if entry.state == "holding":
            change_state(session, entry, "cancelled", now=now, reason="caller already has an open callback",
                         actor="caller", existing=existing.public_id)
        return Booking(existing, created=False)
    token, state = _apply_booking(entry, request, now)
    change_state(session, entry, state, now=now, event="requested", actor=request.actor, channel=request.channel,
                 converted_from="holding")
    return Booking(entry, created=True, status_token=token)


def get_entry(session: Session, public_id: str) -> QueueEntry:
    entry = session.scalar(select(QueueEntry).where(QueueEntry.public_id == public_id))
    if entry is None:
        raise EntryNotFound(f"no callback or queue entry {public_id!r}")
    return entry


def fresh_attempts(entry: QueueEntry) -> int:
    """A failed callback given a fresh set of attempts (a supervisor's retry, call now, reschedule): the
    count starts again, and so does the one attempt soon inside the window told (dispatch/retry.py).
    Returns the attempts made before."""
    before = entry.attempts
    entry.attempts = 0
    if "retries_in_window" in (entry.context or {}):
        entry.context = {k: v for k, v in entry.context.items() if k != "retries_in_window"}
    return before
