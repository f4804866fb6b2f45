"""The steering actions on one entry (call now, reschedule, cancel, priority, move, note, retry,
close): one handler per action, picked from ACTIONS; each runs in one transaction, checked against
the version the page showed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

from flask import g, request
from sqlalchemy.orm import Session

from callbacks import promises
from callbacks.requests import TimeFull
from clock import TimeRefused
from config import IvrConfig
from routing import hours
from routing.predictor import HORIZON
from storage.db import transaction
from storage.models import QueueEntry
from supervisor import services
from supervisor.http import answer, bp, local_filter, login_required, refuse_json, wording
from web.runtime import Runtime, runtime


@dataclass(frozen=True)
class Steer:
    """One supervisor's action on one entry, as the form asked for it."""

    db: Session
    public_id: str
    version: int | None  # the entry's version the page showed (None: not checked)
    actor: str
    now: datetime
    form: Mapping[str, str]
    config: IvrConfig


def call_now(a: Steer) -> tuple[QueueEntry, str]:
    entry = services.call_now(a.db, a.public_id, a.version, actor=a.actor, now=a.now, config=a.config)
    return entry, wording().text("supervisor_calling_now")


def reschedule(a: Steer) -> tuple[QueueEntry, str]:
    when = _parse_local(a.form.get("when", ""), a.form.get("zone") or "UTC")
    try:
        entry = services.reschedule(a.db, a.public_id, a.version, when=when, actor=a.actor, now=a.now,
                                    config=a.config, reason=a.form.get("reason"), zone=a.form.get("zone"))
    except TimeFull as full:  # 409 `full` with next_free, said in the supervisor's words
        raise full.reworded(_full_words(full, when), full.field) from None
    return entry, wording().text("supervisor_rescheduled",
                                  when=local_filter(when, entry.customer_timezone or a.form.get("zone")))


def _full_words(full: TimeFull, asked: datetime) -> str:
    """'That time is fully booked: ... The next free times: ...', in the IVR file's words, in the zone picked."""
    p = wording()
    asked_words = promises.moment_words(p, asked, full.zone, full.now)
    if not full.free:
        # Free times are looked for as far as staffing is predicted (HORIZON); later ones are not refused.
        return p.text("supervisor_time_full_none", asked=asked_words, days=HORIZON.days)
    free = "; ".join(promises.moment_words(p, when, full.zone, full.now) for when in full.free)
    return p.text("supervisor_time_full", asked=asked_words, free=free)


def cancel(a: Steer) -> tuple[QueueEntry, str]:
    entry = services.cancel(a.db, a.public_id, a.version, reason=a.form.get("reason", ""), actor=a.actor, now=a.now)
    return entry, wording().text("supervisor_cancelled")


def priority(a: Steer) -> tuple[QueueEntry, str]:
    entry = services.set_priority(a.db, a.public_id, a.version, priority=_priority(a.form), actor=a.actor, now=a.now)
    return entry, wording().text("supervisor_priority", priority=entry.priority)


def move(a: Steer) -> tuple[QueueEntry, str]:
    entry = services.move_skill(a.db, a.public_id, a.version, skill=a.form.get("skill", ""), actor=a.actor,
                                now=a.now, config=a.config)
    return entry, wording().text("supervisor_moved", skill=entry.skill)


def note(a: Steer) -> tuple[QueueEntry, str]:
    entry = services.add_note(a.db, a.public_id, a.version, text=a.form.get("text", ""), actor=a.actor, now=a.now)
    return entry, wording().text("supervisor_note_added")


def retry(a: Steer) -> tuple[QueueEntry, str]:
    entry = services.retry_failed(a.db, a.public_id, a.version, actor=a.actor, now=a.now)
    return entry, wording().text("supervisor_back_in_line")


def close(a: Steer) -> tuple[QueueEntry, str]:
    entry = services.close_failed(a.db, a.public_id, a.version, actor=a.actor, now=a.now, reason=a.form.get("reason"))
    return entry, wording().text("supervisor_closed")


ACTIONS: dict[str, Callable[[Steer], tuple[QueueEntry, str]]] = {
    "call-now": call_now, "reschedule": reschedule, "cancel": cancel, "priority": priority, "move": move,
    "note": note, "retry": retry, "close": close,
}


def _wake(rt: Runtime, entry: QueueEntry) -> None:
    rt.wake_dispatcher()  # it may be dialled now: the dispatcher need not wait for its sweep


def _hang_up(rt: Runtime, entry: QueueEntry) -> None:
    rt.hang_up_cancelled(entry.id)  # a callback being dialled: end its calls


# What follows an action once it is committed.
AFTERWARDS: dict[str, Callable[[Runtime, QueueEntry], None]] = {"call-now": _wake, "retry": _wake, "cancel": _hang_up}


@bp.post("/entries/<public_id>/<action>")
@login_required
def act(public_id: str, action: str):
    handler = ACTIONS.get(action)
    if handler is None:
        return refuse_json(404, wording().text("supervisor_unknown_action", action=repr(action)))
    rt = runtime()
    try:
        version = int(request.form.get("version", ""))
    except ValueError:
        version = None
    try:
        with services.steering(), transaction(rt.sessions) as db:
            entry, message = handler(Steer(db, public_id, version, g.user.username, rt.clock.now(), request.form,
                                           rt.ivr_config))
            new_version = entry.version
    except TimeRefused as refused:
        return answer(400, wording().text("supervisor_time_refused", reason=refused))
    if action in AFTERWARDS:
        AFTERWARDS[action](rt, entry)
    return answer(200, message, version=new_version)


def _priority(form) -> int:
    raw = form.get("priority", "")
    try:
        if raw in ("up", "down"):
            return int(form.get("current", "0")) + (1 if raw == "up" else -1)
        return int(raw)
    except ValueError:
        raise services.SteeringRefused("priority is a whole number") from None


def _parse_local(raw: str, zone_name: str) -> datetime:
    """A datetime-local field ('2026-11-25T14:30') in the chosen zone, to UTC (refusing DST gaps)."""
    try:
        local = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise services.SteeringRefused("give the new time as date and time (YYYY-MM-DD HH:MM)") from None
    if local.tzinfo is not None:
        return local.astimezone(timezone.utc)
    try:
        zone = ZoneInfo(zone_name)
    except Exception:
        raise services.SteeringRefused(f"unknown time zone {zone_name!r}") from None
    return hours.local_to_utc(local.date(), local.time(), zone)
