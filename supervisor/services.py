"""What a supervisor can do to an entry in line, as domain functions (no Flask).

Every action:
- takes the entry's public id and the `version` the supervisor's page showed; if the entry has
  changed since (another supervisor, the dispatcher, the caller), it raises StaleEntry and changes
  nothing. Two writers that both read the same version are caught too: the ORM's version column
  turns the second UPDATE into a StaleDataError, which `steering()` also turns into StaleEntry.
- changes the entry only through callbacks.services.change_state()/record(), with actor=<username>,
  so the audit trail says who did what, when and why.

Run each action inside one transaction (storage.db.transaction) wrapped in `steering()`.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from callbacks import requests as callback_requests
from callbacks import services as callbacks
from callbacks.exceptions import StaleEntry, TransitionRefused
from config import IvrConfig
from refusals import Refusal
from routing import hours
from storage.models import CALLBACK, OPEN_STATES, QueueEntry, QueueEvent

log = logging.getLogger("ivr.supervisor")

MIN_PRIORITY, MAX_PRIORITY = -9, 99
MAX_NOTE = 1000
MAX_REASON = 300
# Callbacks that wait in line (or for their time) and may be steered freely.
STEERABLE = ("queued", "scheduled", "retry_wait", "failed")


class SteeringRefused(Refusal):
    """The input of an action is unusable (empty reason, unknown skill, bad time); the message says why."""

    status = 400


@contextmanager
def steering() -> Iterator[None]:
    """Turn a lost race at flush/commit time (ORM version check) into StaleEntry."""
    try:
        yield
    except StaleDataError:
        raise StaleEntry("Someone else changed this entry at the same moment. The page now shows the latest "
                         "state; check it and try again if it is still needed.") from None


def load(session: Session, public_id: str, version: int | None) -> QueueEntry:
    """The entry, provided it is still at the version the supervisor saw."""
    entry = callbacks.get_entry(session, public_id)
    if version is None:
        raise SteeringRefused("the page did not say which version of the entry it showed; reload the page")
    if entry.version != version:
        last = session.scalar(select(QueueEvent).where(QueueEvent.entry_id == entry.id)
                              .order_by(QueueEvent.id.desc()).limit(1))
        who = f" ({describe_event(last)})" if last is not None else ""
        raise StaleEntry(f"This entry changed since your page showed it{who}. The page now shows the latest "
                         "state; check it and try again if it is still needed.")
    # Every action writes the row (even a note), so its UPDATE ... WHERE version = <shown> is the
    # compare-and-swap that catches a second supervisor who read the same version.
    flag_modified(entry, "updated_at")
    return entry


def describe_event(event: QueueEvent) -> str:
    what = event.event.replace("_", " ")
    return f"{what} by {event.actor} at {event.at.strftime('%H:%M:%S')} UTC"


def _closed(entry: QueueEntry, action: str) -> TransitionRefused:
    return TransitionRefused(f"cannot {action}: this {entry.kind} is already {entry.state}")


def head_priority(session: Session, skill: str, exclude_id: int | None = None) -> int:
    """One more than the highest priority among open entries of `skill`: the head of the line."""
    query = select(func.max(QueueEntry.priority)).where(QueueEntry.skill == skill,
                                                        QueueEntry.state.in_(OPEN_STATES))
    if exclude_id is not None:
        query = query.where(QueueEntry.id != exclude_id)
    top = session.scalar(query)
    return max(int(top or 0) + 1, 1)


def call_now(session: Session, public_id: str, version: int | None, *, actor: str, now: datetime,
             config: IvrConfig | None = None) -> QueueEntry:
    """Due now, at the head of the line: the next free agent with the skill gets it. Refused, saying
    why, while the skill is closed (nobody could take it)."""
    entry = load(session, public_id, version)
    if entry.state not in STEERABLE and entry.state != "holding":
        if entry.state in ("dialing_agent", "dialing_customer"):
            raise TransitionRefused("this callback is being dialled right now")
        raise _closed(entry, "call now")
    skill = config.skills.get(entry.skill) if config is not None else None
    if skill is not None and not hours.is_open(skill, now):
        opening = hours.next_opening(skill, now)
        when = opening.astimezone(skill.timezone).strftime("%a %d %b %H:%M %Z") if opening else "no set time"
        raise TransitionRefused(f"the {skill.name} team is closed now, so nobody can take this call; it opens "
                                f"{when}, and the callback keeps its place until then")
    previous_priority = entry.priority
    entry.priority = max(entry.priority, head_priority(session, entry.skill, exclude_id=entry.id))
    detail = {"priority_from": previous_priority, "priority_to": entry.priority}
    if entry.kind == CALLBACK:
        entry.next_attempt_at = now
        if entry.state == "failed":
            _reopen(session, entry)
            detail["attempts_before"] = callbacks.fresh_attempts(entry)
    if entry.state in ("scheduled", "retry_wait", "failed"):
        callbacks.change_state(session, entry, "queued", now=now, event="call_now", actor=actor,
                               reason="supervisor: call now", **detail)
    else:
        callbacks.record(session, entry, "call_now", now=now, actor=actor, reason="supervisor: call now", **detail)
    return entry


def reschedule(session: Session, public_id: str, version: int | None, *, when: datetime, actor: str,
               now: datetime, config: IvrConfig, reason: str | None = None, zone: str | None = None) -> QueueEntry:
    """A callback at another (aware) time; refused in the past, outside the skill's hours or beyond the horizon,
    and refused when the time is fully booked (callbacks.requests.TimeFull, 409 `full`, the next free times
    in `zone`, else the customer's): the same count every booking asks (routing/slots.py), the callback's
    own booking not counted. There is no override: a supervisor picks a free time, or calls it now. The
    window the customer was told does not move (a new one is told only when the customer hears it)."""
    entry = load(session, public_id, version)
    if entry.kind != CALLBACK:
        raise TransitionRefused("a live caller on hold cannot be rescheduled; they are on the line now")
    if entry.state not in STEERABLE:
        raise _closed(entry, "reschedule") if not entry.is_open else \
            TransitionRefused("this callback is being dialled right now")
    skill = config.skills.get(entry.skill)
    if skill is None:
        raise SteeringRefused(f"the skill {entry.skill!r} is no longer configured; move the callback first")
    rules = hours.BookingRules(horizon=timedelta(days=config.booking_horizon_days), lead_time=timedelta(0))
    try:
        when = hours.check_callback_time(skill, when, now, rules)
    except hours.TimeRefused as refused:
        raise SteeringRefused(f"cannot reschedule to that time: {refused}") from None
    try:
        callback_requests.check_room(session, config, skill.name, when, skill.timezone, now, exclude=entry.id,
                                     field="/when")
    except callback_requests.TimeFull as full:
        # The next free times in the zone the supervisor picked (a time with room never needs it).
        named_in = callback_requests.zone_named(zone or entry.customer_timezone or skill.timezone.key)
        raise callback_requests.TimeFull(full.free, named_in, now, field="/when") from None
    previous = entry.scheduled_for
    entry.scheduled_for = when
    entry.next_attempt_at = when
    if entry.state == "failed":
        _reopen(session, entry)
        callbacks.fresh_attempts(entry)
    callbacks.change_state(session, entry, "scheduled", now=now, event="rescheduled", actor=actor,
                           reason=_text(reason, MAX_REASON) or "supervisor: rescheduled",
                           scheduled_for=when.isoformat(),
                           previous_scheduled_for=previous.isoformat() if previous else None)
    return entry


def _required(text: str | None, limit: int, why: str) -> str:
    """`text` cleaned and cut to `limit`, refused with `why` when nothing is left."""
    cleaned = _text(text, limit)
    if not cleaned:
        raise SteeringRefused(why)
    return cleaned


def cancel(session: Session, public_id: str, version: int | None, *, reason: str, actor: str,
           now: datetime) -> QueueEntry:
    entry = load(session, public_id, version)
    reason = _required(reason, MAX_REASON, "say why the entry is cancelled (the reason goes into its audit trail)")
    if not entry.is_open:
        raise _closed(entry, "cancel")
    callbacks.change_state(session, entry, "cancelled", now=now, event="cancelled", actor=actor, reason=reason)
    return entry


def set_priority(session: Session, public_id: str, version: int | None, *, priority: int, actor: str,
                 now: datetime) -> QueueEntry:
    entry = load(session, public_id, version)
    if not entry.is_open:
        raise _closed(entry, "change the priority")
    if isinstance(priority, bool) or not isinstance(priority, int) or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise SteeringRefused(f"priority is a whole number from {MIN_PRIORITY} to {MAX_PRIORITY}")
    previous = entry.priority
    entry.priority = priority
    callbacks.record(session, entry, "priority", now=now, actor=actor,
                     reason=f"priority {previous} -> {priority}", priority_from=previous, priority_to=priority)
    return entry


def move_skill(session: Session, public_id: str, version: int | None, *, skill: str, actor: str, now: datetime,
               config: IvrConfig) -> QueueEntry:
    """A callback to another skill's line, keeping its arrival time (its place by seniority)."""
    entry = load(session, public_id, version)
    if skill not in config.skills:
        raise SteeringRefused(f"unknown skill {skill!r}; skills: {', '.join(config.skills)}")
    if entry.kind != CALLBACK:
        raise TransitionRefused("a live caller on hold stays in the line they called (their call sits in that "
                                "line at Twilio); offer them a callback to move them")
    if entry.state not in STEERABLE:
        raise _closed(entry, "move") if not entry.is_open else \
            TransitionRefused("this callback is being dialled right now")
    if skill == entry.skill:
        raise SteeringRefused(f"the entry is already in {skill}")
    previous = entry.skill
    try:
        with session.begin_nested():
            entry.skill = skill
            if entry.open_key is not None:
                entry.open_key = callbacks.open_key(entry.phone_number, skill)
            callbacks.record(session, entry, "moved", now=now, actor=actor,
                             reason=f"moved from {previous} to {skill}", skill_from=previous, skill_to=skill)
    except IntegrityError:
        raise TransitionRefused(f"this number already has an open callback in {skill}; cancel one of them "
                                "instead") from None
    return entry


def add_note(session: Session, public_id: str, version: int | None, *, text: str, actor: str,
             now: datetime) -> QueueEntry:
    """A note for the agent and the other supervisors; it changes nothing else."""
    entry = load(session, public_id, version)
    text = _required(text, MAX_NOTE, "the note is empty")
    callbacks.record(session, entry, "note", now=now, actor=actor, reason=text)
    return entry


def retry_failed(session: Session, public_id: str, version: int | None, *, actor: str, now: datetime) -> QueueEntry:
    """A failed callback back in line (keeping its place by arrival), with a fresh set of attempts."""
    entry = load(session, public_id, version)
    if entry.state != "failed":
        raise TransitionRefused(f"only a failed callback can be retried; this one is {entry.state}")
    _reopen(session, entry)
    previous_attempts = callbacks.fresh_attempts(entry)
    entry.next_attempt_at = now
    callbacks.change_state(session, entry, "queued", now=now, event="retry", actor=actor,
                           reason="supervisor: try again", attempts_before=previous_attempts)
    return entry


def close_failed(session: Session, public_id: str, version: int | None, *, actor: str, now: datetime,
                 reason: str | None = None) -> QueueEntry:
    """A failed callback is settled: no further attempts; it leaves the failed list."""
    entry = load(session, public_id, version)
    if entry.state != "failed":
        raise TransitionRefused(f"only a failed callback can be closed; this one is {entry.state}")
    callbacks.change_state(session, entry, "cancelled", now=now, event="closed", actor=actor,
                           reason=_text(reason, MAX_REASON) or "supervisor: closed after failing")
    return entry


def _reopen(session: Session, entry: QueueEntry) -> None:
    """A failed callback coming back keeps the one-open-callback-per-number rule (open_key)."""
    if entry.kind != CALLBACK or entry.open_key is not None or not entry.phone_number:
        return
    try:
        with session.begin_nested():
            entry.open_key = callbacks.open_key(entry.phone_number, entry.skill)
            session.flush()
    except IntegrityError:
        raise TransitionRefused("this number has another open callback in this skill already; "
                                "close this one instead") from None


def _text(value: str | None, limit: int) -> str:
    return " ".join((value or "").split())[:limit]
