"""Export and erase what is held about a phone number, and the scheduled retention pass. Plain
SQLAlchemy, no Flask; privacy/cli.py and the supervisor's admin action call these."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Text, cast, delete, or_, select, update

from phone_numbers import normalise
from storage.models import (CLOSED_STATES, Call, CallTurn, PrivacyRequest, QueueEntry, QueueEvent, ReceivedText,
                            SpeechResult)

ERASED_EVENT = "erased"


class OpenCallback(Exception):
    """The number has a callback still open: cancel it first (erasing it would leave a promise undiallable)."""


def phone_key(value: str, allowed_countries) -> str:
    """What to look for: E.164 when it reads as a number; else as given (a holder's From can be sip:...
    or client:...). ValueError when nothing was given."""
    if not (value or "").strip():
        raise ValueError("give the number (or the caller's address) to look for")
    try:
        return normalise(value, allowed_countries)
    except Exception:  # noqa: BLE001 - not a diallable number: looked for exactly as written
        return value.strip()


def _entries(s, phone: str):
    """The entries a request about `phone` covers: those calling it back (or holding from it), and those asked
    for in a call from it to be made to another number (the call is the entry's `call_sid`)."""
    calls_from = select(Call.call_sid).where(Call.from_number == phone)
    return list(s.scalars(select(QueueEntry).where(or_(QueueEntry.phone_number == phone,
                                                       QueueEntry.call_sid.in_(calls_from)))
                          .order_by(QueueEntry.id)))


def _calls(s, phone: str, entries):
    """The calls from or to `phone`, and the calls in which those entries were asked for (a call from another
    number holds `phone` too: it was keyed or said as the number to call back)."""
    booked_in = [e.call_sid for e in entries if e.call_sid]
    return list(s.scalars(select(Call).where(or_(Call.from_number == phone, Call.to_number == phone,
                                                 Call.call_sid.in_(booked_in)))
                          .order_by(Call.started_at)))


def _held(s, phone: str):
    entries = _entries(s, phone)
    return entries, _calls(s, phone, entries)


def _row(obj) -> dict:
    out = {}
    for column in obj.__table__.columns:
        value = getattr(obj, column.key)
        out[column.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def export(s, phone: str) -> dict:
    """Everything held about `phone`, as JSON-ready data: its callbacks and holds, those asked for from it to
    be made to another number, and the calls of both."""
    entries, calls = _held(s, phone)
    sids = [c.call_sid for c in calls]
    return {
        "phone": phone,
        "callbacks_and_holds": [dict(_row(e), events=[_row(ev) for ev in e.events]) for e in entries],
        "calls": [_row(c) for c in calls],
        "speech_results": [_row(r) for r in s.scalars(select(SpeechResult).where(SpeechResult.call_sid.in_(sids)))],
        "call_turns": [_row(t) for t in s.scalars(select(CallTurn).where(CallTurn.call_sid.in_(sids)))],
    }


def export_recorded(s, phone: str, now: datetime, actor: str) -> dict:
    """export(), and a privacy_requests row saying who exported how much and when (not the number)."""
    held = export(s, phone)
    _record(s, "export", now, actor, len(held["callbacks_and_holds"]), len(held["calls"]))
    return held


def _record(s, action: str, now: datetime, actor: str, entries: int, calls: int) -> None:
    s.add(PrivacyRequest(at=now, action=action, actor=actor, entries=entries, calls=calls))


def erase(s, phone: str, now: datetime, actor: str) -> dict:
    """Remove what is personal about `phone`; each entry keeps its state, times and skill (the
    aggregates) and gets an "erased" event saying who erased it and when, and the erasure itself is
    recorded in privacy_requests (even for a number that only ever called). What export() finds is erased,
    each callback request whole: asked for from `phone` to be made to another number, or to `phone` from
    another, the entry loses both numbers and the call it was asked for in loses its own. Returns counts."""
    entries, calls = _held(s, phone)
    if any(e.is_open for e in entries):
        raise OpenCallback(phone)
    for entry in entries:
        _blank_entry(entry)
        for event in entry.events:
            event.reason, event.detail = None, {}
        s.add(QueueEvent(entry_id=entry.id, at=now, event=ERASED_EVENT, state=entry.state,
                         previous_state=entry.state, actor=actor, detail={}))
    sids = [c.call_sid for c in calls]
    for call in calls:
        call.from_number = call.to_number = call.transcript = None
        call.scratch = {}
    if sids:
        s.execute(update(SpeechResult).where(SpeechResult.call_sid.in_(sids)).values(transcript=None, digit=None))
        s.execute(delete(CallTurn).where(CallTurn.call_sid.in_(sids)))
    _record(s, "erase", now, actor, len(entries), len(calls))
    return {"entries": len(entries), "calls": len(calls)}


def _blank_entry(entry: QueueEntry) -> None:
    entry.phone_number = entry.caller_name = entry.reason = entry.transcript = None
    entry.customer_timezone = entry.promised_zone = None
    entry.context = {}


def apply_retention(s, now: datetime, retention) -> dict:
    """The scheduled pass: what has been closed longer than its kind's retention loses it."""
    closed = QueueEntry.state.in_(CLOSED_STATES)

    def before(kind: str) -> datetime:
        return now - timedelta(days=retention.days(kind))

    done = {}
    done["entry_transcripts"] = s.execute(update(QueueEntry).where(
        closed, QueueEntry.closed_at < before("transcript"), QueueEntry.transcript.is_not(None))
        .values(transcript=None)).rowcount
    # Context without a reason too: a phone caller's entry keeps the number they called from there.
    done["entry_context"] = s.execute(update(QueueEntry).where(
        closed, QueueEntry.closed_at < before("context"),
        or_(QueueEntry.reason.is_not(None), cast(QueueEntry.context, Text) != "{}"))
        .values(reason=None, context={})).rowcount
    done["entry_numbers"] = s.execute(update(QueueEntry).where(
        closed, QueueEntry.closed_at < before("number"), QueueEntry.phone_number.is_not(None))
        .values(phone_number=None, caller_name=None, customer_timezone=None, promised_zone=None)).rowcount
    ended_calls = select(Call.call_sid).where(Call.ended_at < before("transcript"))
    done["speech_results"] = s.execute(update(SpeechResult).where(
        SpeechResult.call_sid.in_(ended_calls), SpeechResult.transcript.is_not(None))
        .values(transcript=None)).rowcount
    done["call_turns"] = s.execute(delete(CallTurn).where(CallTurn.call_sid.in_(ended_calls))).rowcount
    s.execute(update(Call).where(Call.ended_at < before("transcript")).values(transcript=None, scratch={}))
    done["call_numbers"] = s.execute(update(Call).where(
        Call.ended_at < before("number"), Call.from_number.is_not(None))
        .values(from_number=None, to_number=None)).rowcount
    # A text's reply is kept only so a repeated delivery gets the same answer: gone with the context.
    done["texts"] = s.execute(delete(ReceivedText).where(ReceivedText.received_at < before("context"))).rowcount
    old_events = select(QueueEntry.id).where(closed, QueueEntry.closed_at < before("audit"))
    done["audit"] = s.execute(update(QueueEvent).where(
        QueueEvent.entry_id.in_(old_events), QueueEvent.reason.is_not(None))
        .values(reason=None, detail={})).rowcount
    return done
