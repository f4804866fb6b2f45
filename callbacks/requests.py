"""Callbacks asked for outside a phone call: the web button, chat bots, SMS and API clients.

Every channel goes through request_callback(): validate -> pick the skill (the IVR's own intent
classifier for free text) -> normalise the number -> check the time in the skill's hours ->
book_callback (same line, ordered by request time, one open callback per number and skill) ->
position and estimated wait. The status link's token is shown once and stored hashed; status()
and cancel() find the callback by its public id and that token.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks import promises, schemas
from phone_numbers import NumberRefused, normalise
from refusals import RequestRefused
from callbacks.services import CallbackRequest, book_callback, change_state, find_open_callback, hash_token
from config import IvrConfig, Prompts
from routing import hours, queue
from routing import slots as routing_slots
from routing.predictor import HORIZON
from routing.promise import Window, stored_window
from storage.models import QueueEntry
from understanding import Understanding

PUBLIC_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Caller:
    """Where the request came from, for the audit trail and the context the agent sees."""

    channel: str
    integration: str | None = None  # chat bot name, "twilio-sms", ...
    actor: str = "customer"


@dataclass
class Outcome:
    entry: QueueEntry
    created: bool
    status_token: str | None
    position: int | None
    estimated_wait_seconds: int | None
    window: Window | None = None


def request_schema(config: IvrConfig) -> dict:
    return schemas.callback_request_schema(config.skills, config.languages)


def pick_skill(config: IvrConfig, skill: str | None, reason: str | None, language: str) -> str:
    """The named skill, or the one the reason asks for (same classifier as the IVR), else the fallback."""
    if skill:
        return skill
    if reason:
        guess = Understanding.for_config(config).skill(reason, language)
        if guess.skill:
            return guess.skill
    return config.fallback_skill.name


def zone_named(name: str, field: str = "/timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise RequestRefused(f"{name!r} is not an IANA time zone (e.g. Europe/Amsterdam, America/New_York)",
                             field=field, code="unknown_timezone") from None


def scheduled_time(config: IvrConfig, skill_name: str, local: str, zone_name: str, now: datetime) -> datetime:
    """The UTC instant of a local wall-clock time in `zone_name`, if the skill takes callbacks then."""
    zone = zone_named(zone_name)
    try:
        naive = datetime.fromisoformat(local)
    except ValueError:
        raise RequestRefused(f"{local!r} is not a date and time", field="/preferred_time", code="format") from None
    skill = config.skills[skill_name]
    rules = hours.BookingRules(horizon=timedelta(days=config.booking_horizon_days))
    try:
        when = hours.local_to_utc(naive.date(), naive.time(), zone)
        return hours.check_callback_time(skill, when, now, rules)
    except hours.TimeRefused as refused:
        message = str(refused)
        if refused.reason == "closed":
            opening = hours.next_opening(skill, when)
            if opening is not None:
                message += f"; the next opening is {opening.astimezone(zone).strftime('%Y-%m-%d %H:%M')} {zone.key}"
        raise RequestRefused(message, field="/preferred_time",
                             code=refused.reason) from None


NEXT_FREE_NAMED = 3  # how many free times a refusal of a full time names


class TimeFull(RequestRefused):
    """A chosen time that is fully booked (routing/slots.py): 409, naming the next free times. `free`: those
    times (UTC), `zone`: the customer's zone they are named in, `now`: when refused (for words of the day)."""

    status = 409

    def __init__(self, free: list[datetime], zone: ZoneInfo, now: datetime, *, field: str = "/preferred_time",
                 message: str | None = None):
        local = [when.astimezone(zone) for when in free]
        if message is None and local:
            named = ", ".join(when.strftime("%Y-%m-%d %H:%M") for when in local)
            message = f"that time is fully booked; the next free times are {named} {zone.key}"
        elif message is None:
            message = f"that time is fully booked, and no later time in the next {HORIZON.days} days has room"
        super().__init__(message, field=field, code="full")
        self.free, self.zone, self.now = free, zone, now
        self.extra = {"next_free": [when.strftime("%Y-%m-%dT%H:%M") for when in local], "timezone": zone.key}

    def reworded(self, message: str, field: str) -> "TimeFull":
        """The same refusal (code, next_free, timezone) said in other words, for another form's field."""
        return TimeFull(self.free, self.zone, self.now, field=field, message=message)


def check_room(session: Session, config: IvrConfig, skill: str, when: datetime, zone: ZoneInfo,
               now: datetime, *, exclude: int | None = None, field: str = "/preferred_time") -> None:
    """Refuse a chosen time that is full (TimeFull, with the next free times in `zone`, naming `field`). Holds
    the skill's start times until the booking commits (routing.slots.has_room). `exclude`: the id of the
    callback being moved there, which does not count against its own new time."""
    if not routing_slots.has_room(session, config, skill, when, now, exclude=exclude):
        raise TimeFull(routing_slots.free_starts(session, config, skill, when, now, count=NEXT_FREE_NAMED,
                                                 exclude=exclude), zone, now, field=field)


def request_callback(session: Session, config: IvrConfig, body: dict, *, now: datetime,
                     allowed_countries: tuple[str, ...], caller: Caller) -> Outcome:
    """Book the callback `body` (a decoded JSON object) asks for, or raise RequestRefused saying why."""
    schemas.validate(body, request_schema(config))
    if body.get("website"):
        raise RequestRefused("this request was refused as automated", field="/website", code="honeypot", status=400)
    language = body.get("language") or config.default_language
    skill = pick_skill(config, body.get("skill"), body.get("reason"), language)
    try:
        number = normalise(body["phone"], allowed_countries)
    except NumberRefused as refused:
        raise RequestRefused(refused.message, field="/phone", code=f"number_{refused.reason}") from None

    when = body.get("when") or ("scheduled" if body.get("preferred_time") else "asap")
    if when == "scheduled" and not body.get("preferred_time"):
        raise RequestRefused("preferred_time is required when `when` is scheduled", field="/preferred_time",
                             code="missing")
    if when == "asap" and body.get("preferred_time"):
        raise RequestRefused("preferred_time only goes with `when`: scheduled", field="/preferred_time",
                             code="not_allowed")
    if body.get("preferred_time") and not body.get("timezone"):
        raise RequestRefused("timezone is required with preferred_time (an IANA name such as Europe/Amsterdam)",
                             field="/timezone", code="missing")
    customer_zone = zone_named(body["timezone"]).key if body.get("timezone") else None

    scheduled_for = None
    if when == "scheduled":
        scheduled_for = scheduled_time(config, skill, body["preferred_time"], body["timezone"], now)
        if find_open_callback(session, number, skill) is None:  # one already open is answered as it is
            try:
                check_room(session, config, skill, scheduled_for, zone_named(body["timezone"]), now)
            except TimeFull:
                # Booked for this number a moment ago (another channel, waited for at the lock): that
                # callback is the answer, not "full" about their own booking.
                if find_open_callback(session, number, skill) is None:
                    raise
    elif not hours.is_open(config.skills[skill], now):
        # Closed now: "as soon as possible" means at the next opening, as for callers after hours.
        opening = hours.next_opening(config.skills[skill], now)
        if opening is None:
            raise RequestRefused(f"the {skill} team takes no callbacks at the moment", field="/skill", code="closed")
        # Spread over the first slots after the opening that have room, not all at its first minute.
        scheduled_for = routing_slots.spread_slot(session, config, skill, opening, now) or opening

    context = {key: value for key, value in (body.get("context") or {}).items() if value}
    if caller.integration:
        context["integration"] = caller.integration
    zone = promises.listener_zone(config, language, config.skills[skill], customer_zone).key
    booking = book_callback(session, CallbackRequest(
        skill=skill, phone_number=number, channel=caller.channel, language=language, arrived_at=now,
        scheduled_for=scheduled_for, customer_timezone=zone,
        caller_name=(body.get("name") or "").strip() or None, reason=(body.get("reason") or "").strip() or None,
        context=context, actor=caller.actor,
    ), now)
    entry = booking.entry
    if not booking.created:
        position, wait = place_in_line(session, config, entry, now)
        return Outcome(entry, False, None, position, wait, stored_window(entry))
    told = promises.promise_callback(session, config, entry, now, zone=zone, chosen_slot=when == "scheduled")
    wait = told.estimate.seconds if told.estimate.announceable and told.position is not None else None
    return Outcome(entry, True, booking.status_token, told.position, wait, told.window)


def place_in_line(session: Session, config: IvrConfig, entry: QueueEntry, now: datetime) -> tuple[int | None, int | None]:
    """Position and estimated wait while the entry stands in line now; (None, None) before its time or after.
    The wait is None when no staffed agent can meet it (closed, nobody on, past closing): then the window
    says when we will call."""
    if not queue.is_in_line(entry, now):
        return None, None
    est = promises.estimate_for(session, config, entry, now)
    return queue.position(session, entry, now), (est.seconds if est.announceable else None)


def find_by_public_id(session: Session, public_id: str) -> QueueEntry:
    """The callback with this public id (one an Idempotency-Key answered with); 404 once it is gone."""
    entry = session.scalar(select(QueueEntry).where(QueueEntry.public_id == public_id))
    if entry is None:
        raise RequestRefused("the callback this key booked is gone", code="not_found", status=404)
    return entry


def find_by_token(session: Session, public_id: str, token: str) -> QueueEntry:
    """The callback behind a status link. A wrong token looks exactly like an unknown id."""
    entry = None
    if PUBLIC_ID.fullmatch(public_id or ""):  # anything else cannot be ours (and NUL upsets PostgreSQL)
        entry = session.scalar(select(QueueEntry).where(QueueEntry.public_id == public_id))
    given = hash_token(token) if token else ""
    # The link given at booking, or one given later by text (callbacks.waiting.link_for_texter).
    known = [entry.status_token_hash, *(entry.context or {}).get("link_hashes", [])] if entry is not None else []
    if not given or not any(known_hash and hmac.compare_digest(known_hash, given) for known_hash in known):
        raise RequestRefused("no callback matches this link; it may have been mistyped", field=None,
                             code="not_found", status=404)
    return entry


def cancel(session: Session, public_id: str, token: str, *, now: datetime) -> QueueEntry:
    """The customer cancels. Cancelling twice is harmless; a finished callback cannot be cancelled (409)."""
    entry = find_by_token(session, public_id, token)
    if entry.state == "cancelled":
        return entry
    change_state(session, entry, "cancelled", now=now, reason="cancelled by the customer", actor="customer",
                 channel="status-link")
    return entry


def open_slots(config: IvrConfig, skill_name: str, zone: ZoneInfo, now: datetime, *, days: int = 3,
               step_minutes: int = 30, session: Session | None = None, exclude: int | None = None) -> list[datetime]:
    """Bookable times (aware, in `zone`) on the skill's next `days` open days, every `step_minutes`,
    starting after the booking lead time: what the web button offers as time slots. With a `session`,
    slots that staffing cannot serve or that are full are left out (routing/slots.py), not counting the
    callback `exclude` (the one being moved)."""
    skill = config.skills[skill_name]
    rules = hours.BookingRules(horizon=timedelta(days=config.booking_horizon_days))
    step = timedelta(minutes=step_minutes)
    earliest = now + rules.lead_time
    # Round up to the next whole step so slots read 14:00, 14:30...
    start = earliest.replace(second=0, microsecond=0)
    start += timedelta(minutes=(-start.minute) % step_minutes)
    found: list[datetime] = []
    seen_days: list = []
    when = start
    while when <= now + rules.horizon:
        if hours.is_open(skill, when):
            day = when.astimezone(zone).date()
            if day not in seen_days:
                if len(seen_days) == days:
                    break
                seen_days.append(day)
            found.append(when.astimezone(zone))
        when += step
    if session is not None:
        free = set(routing_slots.offerable(session, config, skill_name, found, now, exclude=exclude))
        found = [when for when in found if when in free]
    return found


def confirmation(config: IvrConfig, outcome: Outcome, now: datetime) -> str:
    """One sentence saying what was booked, in the customer's language, for a bot or a text message: the
    same window, date and zone the phone, the button and the status page tell (from the IVR file)."""
    entry = outcome.entry
    p = Prompts(config, entry.language)
    last4 = (entry.phone_number or "")[-4:]
    window = outcome.window or stored_window(entry)
    if window is None:
        return p.text("text_existing", last4=last4)
    told = promises.window_words(p, window, now)
    if not outcome.created:  # found again: the window it was told, never a bare "we will call you"
        return p.text("text_existing_window", last4=last4, window=told)
    if outcome.position is not None:
        return p.text("text_booked_asap", last4=last4, window=told, position=outcome.position)
    return p.text("text_booked_later", last4=last4, window=told)


def ensure_window(session: Session, config: IvrConfig, entry: QueueEntry, now: datetime) -> Window | None:
    """The window stored on a callback, or one worked out, stored and recorded now for a callback booked
    without one (so every callback confirmed has its window)."""
    window = stored_window(entry)
    if window is None and entry.skill in config.skills:
        zone = entry.customer_timezone or promises.listener_zone(config, entry.language, config.skills[entry.skill]).key
        window = promises.promise_callback(session, config, entry, now, zone=zone,
                                           chosen_slot=entry.state == "scheduled").window
    return window


def asap_preview(session: Session, config: IvrConfig, skill: str, language: str, zone: ZoneInfo,
                 now: datetime) -> dict:
    """What "as soon as possible" means now, before booking: whether a wait can be met today, and the
    window a callback booked now would be told (in `zone`, in the visitor's language)."""
    est = promises.estimate(session, skill, now, config=config, callback=True)
    window = promises.within_hours(config, skill, est.window(now, zone.key), now)
    return {"asap_now": est.announceable,
            "asap_window": promises.window_words(Prompts(config, language), window, now) if window else None}


def window_view(config: IvrConfig, entry: QueueEntry, now: datetime) -> dict | None:
    """The window told, for the API, the button and the status page: UTC ends, local ends in the zone it
    was told in, and the words (the same the phone and the texts use)."""
    window = stored_window(entry)
    if window is None:
        return None
    zone = ZoneInfo(window.zone)
    return {"from": window.start, "by": window.end, "timezone": window.zone,
            "from_local": window.start.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "by_local": window.end.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
            "text": promises.window_words(Prompts(config, entry.language), window, now)}
