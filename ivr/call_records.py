"""The call's own rows on the hottest webhooks, written with SQLAlchemy Core: the first request of every
call (its greeting and menu) and Twilio's status callbacks.

Through the ORM the first request cost five statements, and autoflush wrote the new call before the
returning-caller check read the queue, so the database's write lock was held while the TwiML was built
(on SQLite every other writer then waits). Here everything is read and rendered first, and the call and
its first turn go in just before the commit (the call already at turn 1): two INSERTs on SQLite, one
statement in autocommit on PostgreSQL (`storage.db.one_write`, `insert_together`; on SQLite the
statements, compiled once, run on the DBAPI connection without SQLAlchemy's per-execution work). A status
callback is one UPDATE. What is stored, and what the caller hears, is what `ivr.flow.CallFlow` stores
and says: the TwiML comes from `ivr.asking.ask`, and anything unusual is left to it (see `first_answer`).
"""
from __future__ import annotations

import copy

from sqlalchemy import update

from callbacks import services as callbacks
from ivr import asking, returning
from storage.db import insert_together
from storage.models import Call, CallTurn, QueueEntry

CLOSED_CALL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_CLOSED = tuple(sorted(CLOSED_CALL_STATUSES))


def first_answer(flow, connection, call_sid: str, from_number: str | None, to_number: str | None) -> str | None:
    """The greeting and menu of a new call, stored as turn 0 on `connection` (`storage.db.one_write`'s;
    `flow` only words it). None when the caller has a callback waiting
    (CallFlow.incoming asks about it). A CallSid already stored (Twilio retried the request) raises
    IntegrityError at the INSERT: the caller then runs CallFlow.incoming, which replays turn 0."""
    if returning.waiting_callback_id(connection, from_number, flow.settings.allowed_countries,
                                     flow.config.skills) is not None:
        return None
    language = flow.config.language_for_number(to_number)
    twiml = _greeting(flow, call_sid, language)
    # The columns CallFlow.incoming sets (the others stay NULL), the call already at turn 1.
    insert_together(connection,
                    (Call.__table__, {"call_sid": call_sid, "from_number": from_number, "to_number": to_number,
                                      "language": language, "step": "menu", "turn": 1, "retries": 0,
                                      "scratch": {"path": []}, "status": "in-progress",
                                      "started_at": flow.clock.now()}),
                    (CallTurn.__table__, {"call_sid": call_sid, "turn": 0, "twiml": twiml}))
    return twiml

# Stands in for the per-call stream token in a greeting rendered once (URL-safe: no XML escaping needed).
_TOKEN_SLOT = "stream-token-of-this-call"
_greetings: dict[tuple, tuple] = {}  # (config id, language, speech on, action URL) -> (config, TwiML)


class _SlotLinks:
    """The flow's links, with a slot where the call's own stream token goes."""

    def __init__(self, links):
        self._links = links

    def __getattr__(self, name: str):
        return getattr(self._links, name)

    def stream_token(self, call_sid: str, step: str, turn: int) -> str:
        return _TOKEN_SLOT


def _greeting(flow, call_sid: str, language: str) -> str:
    """The greeting inside the menu's question, as `ivr.asking.ask` words it for turn 0: rendered once per
    configuration, language and public URL; only the stream token (with speech) differs per call."""
    speech = flow.speech_in(language)
    key = (id(flow.config), language, speech, flow.links.step("menu", 1))
    cached = _greetings.get(key)
    if cached is None or cached[0] is not flow.config:
        call = Call(call_sid=call_sid, language=language, step="menu", turn=0, retries=0, scratch={"path": []})
        template = copy.copy(flow)
        template.links = _SlotLinks(flow.links)
        twiml = str(asking.ask(template, call, "menu", lead=[template.prompts(call).text("greeting")]))
        if len(_greetings) >= 64:  # configurations come and go only in tests
            _greetings.clear()
        _greetings[key] = cached = (flow.config, twiml)
    if not speech:
        return cached[1]
    return cached[1].replace(_TOKEN_SLOT, flow.links.stream_token(call_sid, "menu", 1))


def status(flow, call_sid: str, call_status: str) -> bool:
    """Twilio's status callback for an inbound call: one UPDATE of a call that is not closed yet (a late
    or repeated callback changes nothing: the first one counted). A call that ends while its caller
    holds in line abandons that place. False when no call took the update (never seen, or closed)."""
    values: dict = {"status": call_status}
    closing = call_status in CLOSED_CALL_STATUSES
    now = flow.clock.now()
    if closing:
        values["ended_at"] = now
    changed = flow.session.execute(
        update(Call.__table__).where(Call.__table__.c.call_sid == call_sid, Call.__table__.c.status.not_in(_CLOSED))
        .values(values).returning(Call.__table__.c.entry_id)).first()
    if changed is None:
        return False
    if closing and changed.entry_id is not None:
        entry = flow.session.get(QueueEntry, changed.entry_id)
        if entry is not None and entry.state == "holding":
            # The caller hung up themselves, in the queue or during the callback questions.
            callbacks.change_state(flow.session, entry, "abandoned", now=now,
                                   reason=f"call ended ({call_status}) while holding", actor="caller")
    return True
