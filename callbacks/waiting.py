"""The waiting page every requester gets (webhooks/waiting.py renders it; the page reads the status API).

- waiting_path(): where it lives, /wait/<public id>?token=<status token> (the token is the key).
- seal_links() / unseal_links(): a reply kept for a repeated delivery (an SMS's, webhooks/sms.py) is stored
  with its links' tokens sealed with a key the database does not hold; the repeat gets them back unsealed.
- link_for_phone(): a phone caller's booking never showed them a token, so the SMS that confirms it
  issues one (stored hashed, as at booking) and carries the page's link.
- link_for_texter(): a texter who asks STATUS gets a link of their own, beside any link already given (the
  web button's, the chat's), which keeps working.
- later_slots() / move(): a later slot the customer may move to: only slots with room (routing/slots.py,
  through callbacks.requests.open_slots), their own booking not counted, after the window they were told;
  a full one is refused (409 `full`, `next_free`: the next slots the page offers). The new window is told.
- again(): after a cancel, the same number, skill and language booked again, as soon as possible.
- page_words(): the page's wording, from the operator's IVR file, in the customer's language.
- button_words(): every word the web button shows (the `button_*` prompts), for GET /api/callback-button/words.
- closed_now(): "Our billing team is closed right now. We open again on Monday ... at 08:00, New York time.",
  the phone's after-hours sentence, for the button and the text replies while the skill is closed.
"""
from __future__ import annotations

import itertools
import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from callbacks import idempotency, promises
from callbacks import requests as callback_requests
from callbacks.services import change_state, hash_token
from config import IvrConfig, Prompts
from refusals import RequestRefused
from routing import hours
from routing import slots as routing_slots
from routing.promise import stored_window
from storage.models import QueueEntry

LINK_HASHES = "link_hashes"  # in an entry's context: hashes of further links given by text
EXTRA_LINKS = 3
BUTTON = "button_"  # the prefix of the web button's prompts in the IVR file
MOVABLE = ("queued", "scheduled", "retry_wait")
PAGE_KEYS = ("waiting_title", "waiting_place", "waiting_window", "waiting_told_us", "waiting_scheduled",
             "waiting_calling", "waiting_connecting", "waiting_connected", "waiting_done", "waiting_cancel",
             "waiting_cancelled", "waiting_move", "waiting_move_none", "waiting_full", "waiting_too_late", "waiting_move_pick",
             "waiting_moved", "waiting_again", "waiting_failed", "waiting_live")


def waiting_path(public_id: str, token: str) -> str:
    return f"/wait/{public_id}?token={token}"


# A link's token in a reply, and the same token as stored sealed ("." is never in a token).
_LINK_TOKEN = re.compile(r"(/wait/[0-9a-f]+\?token=)([A-Za-z0-9_-]+)")
_SEALED_TOKEN = re.compile(r"(/wait/[0-9a-f]+\?token=)sealed\.([0-9a-f]*)")


def seal_links(text: str, key: str) -> str:
    """`text` (a reply) with each waiting-page link's token sealed with `key` (callbacks.idempotency.seal, one
    pad per link): what may be stored. Without `key` nobody reads a working link out of it."""
    links = itertools.count()
    return _LINK_TOKEN.sub(
        lambda m: m.group(1) + "sealed." + (idempotency.seal(f"{key}#{next(links)}", m.group(2)) or ""), text)


def unseal_links(text: str, key: str) -> str:
    """The reply seal_links() stored, its links working again (the same tokens)."""
    links = itertools.count()
    return _SEALED_TOKEN.sub(lambda m: m.group(1) + idempotency.unseal(f"{key}#{next(links)}", m.group(2)), text)


def link_for_phone(entry: QueueEntry, base: str) -> str | None:
    """A fresh status token for a phone caller's callback (none was ever shown), and the page's link."""
    if entry.channel != "phone" or not entry.public_id:
        return None
    token = secrets.token_urlsafe(24)
    entry.status_token_hash = hash_token(token)
    return base.rstrip("/") + waiting_path(entry.public_id, token)


def link_for_texter(entry: QueueEntry, base: str) -> str | None:
    """A fresh link to the entry's waiting page for the number that texted; earlier links stay valid (their
    hashes are kept, the last few, in the entry's context; callbacks.requests.find_by_token accepts them)."""
    if not entry.public_id:
        return None
    token = secrets.token_urlsafe(24)
    if entry.status_token_hash is None:
        entry.status_token_hash = hash_token(token)
    else:
        kept = list((entry.context or {}).get(LINK_HASHES, []))[-(EXTRA_LINKS - 1):]
        entry.context = {**(entry.context or {}), LINK_HASHES: [*kept, hash_token(token)]}
    return base.rstrip("/") + waiting_path(entry.public_id, token)


def zone_of(config: IvrConfig, entry: QueueEntry) -> ZoneInfo:
    told = stored_window(entry)
    if told is not None:
        return ZoneInfo(told.zone)
    return promises.listener_zone(config, entry.language, config.skills[entry.skill], entry.customer_timezone)


def later_slots(session: Session, config: IvrConfig, entry: QueueEntry, now: datetime, *,
                with_room: bool = True) -> list[datetime]:
    """Slots (aware, in the customer's zone) after the window told that still have room (`with_room`;
    their own booking is not counted against them), or all of them that are open (with_room=False)."""
    if entry.state not in MOVABLE or entry.skill not in config.skills:
        return []
    told = stored_window(entry)
    after = max(filter(None, [told.end if told else None, entry.scheduled_for, now]))
    found = callback_requests.open_slots(config, entry.skill, zone_of(config, entry), now,
                                         session=session if with_room else None, exclude=entry.id)
    return [slot for slot in found if slot >= after]


def move(session: Session, config: IvrConfig, public_id: str, token: str, local: str, now: datetime) -> QueueEntry:
    """The customer moves their callback to a later slot offered on the page (local time in their zone)."""
    entry = callback_requests.find_by_token(session, public_id, token)
    if entry.state not in MOVABLE:
        raise RequestRefused(f"a callback that is {entry.state} cannot be moved", field=None, code="not_movable",
                             status=409)
    try:
        wanted = datetime.fromisoformat(local or "")
    except ValueError:
        raise RequestRefused(f"{local!r} is not a date and time", field="/slot", code="format") from None
    zone = zone_of(config, entry)
    wanted = wanted.replace(tzinfo=zone) if wanted.tzinfo is None else wanted
    slot = next((s for s in later_slots(session, config, entry, now, with_room=False) if s == wanted), None)
    if slot is None:
        raise RequestRefused("that time is not offered (closed, or not later than your window); pick one "
                             "of the slots shown", field="/slot", code="slot_unavailable", status=409)
    # Counted holding the skill (a booking at the same moment may take its last place), their own booking
    # not counted. Full: 409 `full`, naming the next slots the page offers after it.
    if not routing_slots.has_room(session, config, entry.skill, slot, now, exclude=entry.id):
        free = [s for s in later_slots(session, config, entry, now) if s > slot][:callback_requests.NEXT_FREE_NAMED]
        # The page's slots reach a few open days, not the 8 the booking refusal looks at: say which.
        raise callback_requests.TimeFull(free, zone, now, field="/slot", message=None if free else (
            "that time is fully booked, and none of the later slots offered has room"))
    previous = entry.scheduled_for
    entry.scheduled_for = slot
    entry.next_attempt_at = slot
    change_state(session, entry, "scheduled", now=now, event="rescheduled", actor="customer",
                 reason="moved by the customer", channel="waiting-page", scheduled_for=slot.isoformat(),
                 previous_scheduled_for=previous.isoformat() if previous else None)
    promises.promise_callback(session, config, entry, now, zone=zone.key, chosen_slot=True)
    return entry


def again(session: Session, config: IvrConfig, public_id: str, token: str, *, now: datetime,
          allowed_countries: tuple[str, ...]) -> callback_requests.Outcome:
    """After a cancel: book the same number, skill and language again, as soon as possible."""
    entry = callback_requests.find_by_token(session, public_id, token)
    if entry.state != "cancelled":
        raise RequestRefused("this callback is not cancelled; it is still the one we will call", field=None,
                             code="not_cancelled", status=409)
    body = {"phone": entry.phone_number, "skill": entry.skill, "language": entry.language, "when": "asap"}
    if entry.customer_timezone:
        body["timezone"] = entry.customer_timezone
    caller = callback_requests.Caller(channel=entry.channel, actor="customer")
    return callback_requests.request_callback(session, config, body, now=now, allowed_countries=allowed_countries,
                                              caller=caller)


def told_us(entry: QueueEntry) -> str | None:
    """What the customer told us: the reason they typed, or what they said on the phone."""
    return entry.reason or entry.transcript


def page_words(config: IvrConfig, language: str) -> dict[str, str]:
    """The page's wording as the operator wrote it ({position}, {window}, {time} are filled in on the page)."""
    p = Prompts(config, language)
    return {key: p.table[key].replace("{company}", config.company_name) for key in PAGE_KEYS}


def button_words(config: IvrConfig, language: str) -> dict[str, str]:
    """The web button's wording as the operator wrote it, keyed without the `button_` prefix."""
    table = Prompts(config, language).table
    return {key[len(BUTTON):]: value.replace("{company}", config.company_name)
            for key, value in table.items() if key.startswith(BUTTON) and isinstance(value, str)}


def closed_now(config: IvrConfig, skill_name: str, language: str, zone: ZoneInfo, now: datetime) -> str | None:
    """While the skill is closed: that it is, and when it opens (day, date, time and zone, in `zone`), in the
    words the phone says them; None while it is open (or when it never opens)."""
    skill = config.skills[skill_name]
    opening = None if hours.is_open(skill, now) else hours.next_opening(skill, now)
    if opening is None:
        return None
    p = Prompts(config, language)
    return p.text("after_hours", skill=skill.label_in(p.language),
                  opening=promises.moment_words(p, opening, zone, now))


def closed_for(config: IvrConfig, entry: QueueEntry, language: str | None = None, *, now: datetime) -> str | None:
    """closed_now() for a callback still to be made, in its customer's zone (the window's) and language."""
    if entry.state not in MOVABLE or entry.skill not in config.skills:
        return None
    return closed_now(config, entry.skill, language or entry.language, zone_of(config, entry), now)


def slot_view(config: IvrConfig, entry: QueueEntry, slots: list[datetime], now: datetime) -> list[dict]:
    """Slots as the page offers them: the value to send back, and the words (day, date, time, zone)."""
    p = Prompts(config, entry.language)
    return [{"value": slot.strftime("%Y-%m-%dT%H:%M"), "label": promises.moment_words(p, slot, slot.tzinfo, now)}
            for slot in slots]
