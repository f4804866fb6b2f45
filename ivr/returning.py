"""A caller who rings while a callback to their number is still waiting: they hear it first (its window,
in the zone it was told in) and keep it or cancel it, before anything else.

- keep ("1" / "yes"): the callback stays as it is; goodbye.
- cancel ("2" / "no"): it is cancelled (audit trail: by the caller, by phone), then the menu, so they can
  be helped now. A caller who holds instead and is answered has their callback closed with a note by
  the merge across channels (callbacks.services.close_other_requests).
- "0" or "agent": a person (the callback's team); the merge closes the callback once they are answered.
Only callbacks waiting for their turn are offered (one being dialled right now is left alone).
"""
from __future__ import annotations

from sqlalchemy import bindparam, or_, select

from callbacks import promises
from callbacks.requests import ensure_window
from callbacks.services import change_state
from ivr import asking
from ivr.answers import Meaning
from phone_numbers import NumberRefused, e164_reading, normalise
from storage.db import select_rows
from storage.models import CALLBACK, QueueEntry

WAITING = ("queued", "scheduled", "retry_wait")


def open_callback(flow, call) -> QueueEntry | None:
    """The caller's number's waiting callback (the earliest booked), if any."""
    entry_id = waiting_callback_id(flow.session, call.from_number, flow.settings.allowed_countries,
                                   flow.config.skills)
    return None if entry_id is None else flow.session.get(QueueEntry, entry_id)


def waiting_callback_id(db, from_number: str | None, allowed_countries: tuple[str, ...], skills) -> int | None:
    """The id of the waiting callback (the earliest booked) for `from_number` as normalise() reads it, if
    any; `db` an ORM session, a Core connection or `storage.db.one_write`'s. Callbacks are stored under normalised numbers, so
    the caller's number is looked up by its E.164 reading (one parse) and normalised only on a hit:
    a number normalise() refuses finds none, as before."""
    number = e164_reading(from_number)
    if number is None:
        return None
    entry_id = next((entry_id for entry_id, skill in select_rows(db, _OPEN_CALLBACKS, {"number": number})
                     if skill in skills), None)
    if entry_id is None:
        return None
    try:
        normalise(from_number or "", allowed_countries)
    except NumberRefused:
        return None
    return entry_id


# Built once: every incoming call asks it (ivr/call_records.py). A number has few waiting callbacks (its
# quotas bound them); those of a team no longer in the IVR file are skipped in Python. No IN list: an
# expanding parameter is rendered again at every execution, plain ones are compiled once.
_OPEN_CALLBACKS = select(QueueEntry.id, QueueEntry.skill).where(
    QueueEntry.phone_number == bindparam("number"), QueueEntry.kind == CALLBACK,
    or_(*(QueueEntry.state == state for state in WAITING))).order_by(QueueEntry.arrived_at, QueueEntry.id)


def greet(flow, call, lead: list[str]):
    """The first question for a caller with a waiting callback (None: they have none; the menu comes)."""
    entry = open_callback(flow, call)
    if entry is None:
        return None
    call.skill = entry.skill
    call.scratch = {**call.scratch, "open_callback": entry.public_id}
    return asking.ask(flow, call, "open_callback", lead=lead)


def _entry(flow, call) -> QueueEntry | None:
    public_id = call.scratch.get("open_callback")
    return flow.session.scalar(select(QueueEntry).where(QueueEntry.public_id == public_id)) if public_id else None


def _window_words(flow, call, p) -> str:
    entry = _entry(flow, call)
    now = flow.clock.now()
    return promises.window_words(p, ensure_window(flow.session, flow.config, entry, now), now)


def question(flow, call, p) -> str:
    return p.text("open_callback", window=_window_words(flow, call, p))


def keep(flow, call, meaning: Meaning):
    p = flow.prompts(call)
    return asking.goodbye(flow, call, lead=[p.text("callback_kept", window=_window_words(flow, call, p))])


def cancel(flow, call, meaning: Meaning):
    entry = _entry(flow, call)
    if entry is not None and entry.state in WAITING:
        change_state(flow.session, entry, "cancelled", now=flow.clock.now(), reason="cancelled by the caller",
                     actor="caller", channel="phone", call_sid=call.call_sid)
    call.skill = None
    return asking.ask(flow, call, "menu", lead=[flow.prompts(call).text("callback_cancelled")])


MOVES = {"keep_callback": keep, "cancel_callback": cancel}
QUESTIONS = {"open_callback": question}
