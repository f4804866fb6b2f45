"""What we tell people about their wait and their callback, the same in every channel.

- announce(): a wait told to someone (on the phone, on a page, in a reply) is recorded as a
  "wait_announced" event, every time, so the wait error covers every announcement.
- promise_callback(): a callback's window ("between 10:20 and 10:35 today, Tuesday 2 March, New York
  time"), computed from the estimate (routing/estimate.py) or the chosen slot, stored on the entry
  (promised_from/promised_by/promised_zone) and recorded as a "window_told" event.
- window_words()/moment_words()/wait_words(): the wording, from the operator's IVR file, in the
  listener's zone (listener_zone()), with the day, the date and the zone named.
A wait is only told when Estimate.announceable; otherwise we say when we will call back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from callbacks.services import record
from config import IvrConfig, Prompts, Skill
from routing import queue
from routing.estimate import estimate, opening_spans
from routing.predictor import Estimate
from routing.promise import MIN_WIDTH_SECONDS, Window, callback_window, slot_window, store_window


@dataclass(frozen=True)
class Promise:
    estimate: Estimate
    window: Window | None
    position: int | None


def listener_zone(config: IvrConfig, language: str, skill: Skill, customer_zone: str | None = None) -> ZoneInfo:
    """The zone a person reads or hears times in: their own when they gave one, else their language's,
    else the skill's."""
    if customer_zone:
        return ZoneInfo(customer_zone)
    return config.zone_for(language, skill)


def zone_label(zone: str) -> str:
    """'America/New_York' -> 'New York', as said and shown next to a time."""
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def day_words(p: Prompts, when: datetime, zone: ZoneInfo, now: datetime) -> str:
    local = when.astimezone(zone)
    delta = (local.date() - now.astimezone(zone).date()).days
    key = {0: "day_today", 1: "day_tomorrow"}.get(delta, "day_other")
    return p.fragment(key, weekday=p.fragment("weekday_names").split(",")[local.weekday()], date=local.day,
                      month=p.fragment("month_names").split(",")[local.month - 1])


def moment_words(p: Prompts, when: datetime, zone: ZoneInfo, now: datetime) -> str:
    """'today, Tuesday 2 March at 08:00, New York time'."""
    return p.fragment("moment", day=day_words(p, when, zone, now), time=when.astimezone(zone).strftime("%H:%M"),
                      zone=zone_label(zone.key))


def window_words(p: Prompts, window: Window, now: datetime) -> str:
    """'between 10:20 and 10:35 today, Tuesday 2 March, New York time'."""
    zone = ZoneInfo(window.zone)
    return p.fragment("window", start=window.start.astimezone(zone).strftime("%H:%M"),
                      end=window.end.astimezone(zone).strftime("%H:%M"), day=day_words(p, window.start, zone, now),
                      zone=zone_label(window.zone))


def wait_words(p: Prompts, seconds: int) -> str:
    """'about 4 minutes' / 'less than a minute' (the word 'about' belongs to the minutes, never doubled)."""
    return p.wait(seconds)


def announce(session: Session, entry, est: Estimate, now: datetime, *, position: int | None = None,
             channel: str | None = None) -> None:
    """Record a wait told to the entry's person (only announceable estimates are ever told). The first one
    is also kept on the entry (announced_wait_seconds)."""
    if not est.announceable:
        return
    if entry.announced_wait_seconds is None:
        entry.announced_wait_seconds = est.seconds
    detail = {"seconds": est.seconds, "status": est.status}
    if est.model_seconds is not None:
        detail["model_seconds"] = est.model_seconds  # the model's own wait, for routing.estimate.calibration
    if position is not None:
        detail["position"] = position
    if channel:
        detail["channel"] = channel
    record(session, entry, "wait_announced", now=now, **detail)


def estimate_for(session: Session, config: IvrConfig, entry, now: datetime, shared: dict | None = None) -> Estimate:
    return estimate(session, entry.skill, now, config=config, entry=entry, shared=shared)


# A waiting callback is never expected sooner than this from now (an agent's ring, the whisper and the
# customer's ring take about that long).
SLIP_GUARD_SECONDS = 120


def due_at(entry, now: datetime) -> datetime:
    """The earliest the dispatcher will dial this callback: its slot or retry time, else now."""
    if entry.state in ("scheduled", "retry_wait") and entry.next_attempt_at is not None:
        return max(now, entry.next_attempt_at)
    return now


def expected_connect(est: Estimate, entry, now: datetime) -> datetime | None:
    """When this waiting callback should be connected (None: nobody is expected to serve it): the
    estimate's time, never before its own due time, never sooner than SLIP_GUARD_SECONDS from now."""
    if est.expected_at is not None:
        expected = est.expected_at
    elif est.seconds is not None:
        expected = now + timedelta(seconds=est.seconds)
    else:
        return None
    return max(expected, due_at(entry, now), now + timedelta(seconds=SLIP_GUARD_SECONDS))


def window_around(est: Estimate, entry, expected: datetime, now: datetime, zone: str) -> Window:
    """The window to tell a waiting callback expected at `expected` (expected_connect()), never opening
    before its own due time: the one rule for a retry's window and a slipped callback's new one."""
    earliest = due_at(entry, now)
    return callback_window(now=now, expected_seconds=(expected - earliest).total_seconds(),
                           spread_seconds=est.spread_seconds, zone=zone, earliest=earliest)


def within_hours(config: IvrConfig, skill: str, window: Window | None, now: datetime) -> Window | None:
    """A window told never runs past closing: it ends at closing when at least MIN_WIDTH_SECONDS of it are
    left before then; otherwise (at closing) it is the next opening's window."""
    if window is None or skill not in config.skills:
        return window
    spans = opening_spans(config.skills[skill], now).spans
    for index, (start, end) in enumerate(spans):
        if not start <= window.start < end or window.end <= end:
            continue
        if (end - window.start).total_seconds() >= MIN_WIDTH_SECONDS:
            return Window(window.start, end, window.zone)
        later = [s for s, _ in spans[index + 1:] if s >= end]
        return slot_window(later[0], window.zone, MIN_WIDTH_SECONDS) if later else window
    return window


def later_window(session: Session, config: IvrConfig, skill: str, entry, zone: str, now: datetime) -> Window:
    """When a callback booked now would come, for someone nobody can take today (or at all now)."""
    est = (estimate_for(session, config, entry, now) if entry is not None
           else estimate(session, skill, now, config=config, callback=True))
    return within_hours(config, skill, est.window(now, zone), now)


def promise_callback(session: Session, config: IvrConfig, entry, now: datetime, *, zone: str,
                     chosen_slot: bool = False) -> Promise:
    """Work out, store and record the window told for a callback that was just booked (or told anew).
    `chosen_slot`: the customer picked `entry.scheduled_for`; the window starts there."""
    est = estimate_for(session, config, entry, now)
    if chosen_slot and entry.scheduled_for is not None:
        window = slot_window(entry.scheduled_for, zone)
    else:
        window = within_hours(config, entry.skill, est.window(now, zone), now)
        if entry.scheduled_for is not None and (window is None or window.start < entry.scheduled_for):
            # Booked for a later slot (e.g. spread after the opening): its window starts at that slot.
            window = slot_window(entry.scheduled_for, zone)
    position = queue.position(session, entry, now) if queue.is_in_line(entry, now) else None
    if window is not None:
        store_window(entry, window, now)
        record(session, entry, "window_told", now=now, start=window.start.isoformat(), end=window.end.isoformat(),
               zone=window.zone, status=est.status, kind="slot" if chosen_slot else "asap")
    if not chosen_slot:
        announce(session, entry, est, now, position=position)
    return Promise(est, window, position)
