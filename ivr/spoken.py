"""A spoken answer and its question's time-out, racing.

A question listens to the caller (its audio forked to /media) while its `<Gather>` waits for keys.
Two things can end it: the stream, with a recognised answer, and the Gather's time-out (Twilio
requests the step's action with no digits). They used to race. A caller who began to speak just
before the time-out had the question decided as "nothing" ("Sorry, I did not hear anything") while
their words were still being recognised; the stream then found the call moved on and dropped them,
and its late move to `listen` could leave the caller 20 s in silence before the same "sorry" again.

One row now decides who wins: the speech result's unique (call, step, turn) key.
- When the caller starts to speak, the stream inserts a SPEAKING mark (`mark_speaking`) before it
  moves the call to `listen`. If a row is there already, the question was decided: no move.
- When the time-out comes with no digits, the flow claims the turn with a TIMED_OUT row
  (`result(..., claim=True)`). If a mark is there, the caller is mid-answer and the call waits for it
  (the `listen` document) instead. Whichever insert commits first wins; the other meets the key (the
  flow's transaction is then run again by webhooks.voice.run_flow, and sees the mark).
- The stream's answer replaces its mark (`store`), as does its end without words, so the flow's next
  request decides at once. A mark older than LISTEN_SECONDS counts as nothing (the stream died).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.models import SpeechResult

LISTEN_SECONDS = 20  # how long the call waits, silent, for a recognised answer once the caller spoke
SPEAKING = "speaking"  # ended_by of a mark: the caller began to answer, the result follows
TIMED_OUT = "timeout"  # ended_by of the flow's claim: the question timed out before anyone spoke


def _row(session: Session, call_sid: str, step: str, turn: int) -> SpeechResult | None:
    return session.scalar(select(SpeechResult).where(
        SpeechResult.call_sid == call_sid, SpeechResult.step == step, SpeechResult.turn == turn))


def result(session: Session, call_sid: str, step: str, turn: int, now: datetime, *,
           claim: bool) -> SpeechResult | str | None:
    """What was said for this turn: its SpeechResult, SPEAKING while the caller is still saying it, or
    None (nothing). With `claim` (a listening question that timed out) nothing is claimed for the turn,
    so a stream that starts hearing the caller from now on no longer moves the call."""
    row = _row(session, call_sid, step, turn)
    if row is not None and row.ended_by == SPEAKING:
        return SPEAKING if now - row.created_at < timedelta(seconds=LISTEN_SECONDS) else None
    if row is None and claim:
        session.add(SpeechResult(call_sid=call_sid, step=step, turn=turn, ended_by=TIMED_OUT, created_at=now))
    return row


def mark_speaking(sessions: sessionmaker, call_sid: str, step: str, turn: int, now: datetime) -> bool:
    """The caller began to answer: True when the mark is in (the question still waits for the answer)."""
    try:
        with transaction(sessions) as session:
            session.add(SpeechResult(call_sid=call_sid, step=step, turn=turn, ended_by=SPEAKING, created_at=now))
        return True
    except IntegrityError:  # decided already (timed out, or answered), or the call is gone
        return False


def store(sessions: sessionmaker, call_sid: str, step: str, turn: int, outcome, now: datetime) -> bool:
    """The stream's outcome for the turn, in place of its mark. False when the turn was decided already."""
    fields = dict(transcript=outcome.transcript or None, confidence=outcome.confidence if outcome.transcript else None,
                  digit=outcome.digit, engine=outcome.engine, ended_by=outcome.reason, created_at=now)
    try:
        # One INSERT (or the mark's UPDATE): the foreign key refuses a call that went away meanwhile,
        # the unique key a second result for the same turn.
        with transaction(sessions) as session:
            row = _row(session, call_sid, step, turn)
            if row is None:
                session.add(SpeechResult(call_sid=call_sid, step=step, turn=turn, **fields))
            elif row.ended_by == SPEAKING:
                for name, value in fields.items():
                    setattr(row, name, value)
            else:
                return False
        return True
    except IntegrityError:
        return False
