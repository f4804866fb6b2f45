"""Callback times said or typed: "tomorrow at three", "in an hour", "Monday morning", "morgen om half vier".

Pure functions (no Flask, no database). Reasons a time cannot be used: past, closed, horizon,
dst_gap, format, day_only (a day without a time of day: ask for the time, never pick one), and
contradictory ("morning at nine p m", "today ... tomorrow": ask again). A local time in the spring-forward gap is refused (dst_gap) and one that happens
twice means its first occurrence (the rule in clock.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping
from zoneinfo import ZoneInfo

from clock import TimeRefused, local_to_utc, open_during, span_on
from understanding.numbers import number_tokens
from understanding.words import ASAP_PHRASES, NUMBER_WORDS, TENS_WORDS, base_language, words

# --- callback times -------------------------------------------------------------

@dataclass(frozen=True)
class CallbackTime:
    """A requested callback time: `when` (aware, UTC) or a `reason` it cannot be used."""

    when: datetime | None
    reason: str | None = None
    # With reason "day_only": the day said, without a time of day (the caller is asked for the time).
    day: date | None = None

    @property
    def ok(self) -> bool:
        return self.when is not None


WEEKDAYS = {
    "en": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
    "nl": ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"],
}
# Parts of the day as local windows; a time inside the window that is open is chosen.
DAY_PARTS = {"morning": (time(8), time(12)), "afternoon": (time(12), time(17)),
             "evening": (time(17), time(21)), "noon": (time(12), time(12, 30))}
DAY_PART_WORDS = {
    "en": {"morning": "morning", "afternoon": "afternoon", "evening": "evening", "tonight": "evening", "night": "evening",
           "noon": "noon", "midday": "noon", "lunchtime": "noon"},
    "nl": {"ochtend": "morning", "ochtends": "morning", "morgenochtend": "morning", "voormiddag": "morning",
           "middag": "afternoon", "middags": "afternoon", "namiddag": "afternoon", "avond": "evening",
           "avonds": "evening", "vanavond": "evening", "morgenavond": "evening", "morgenmiddag": "afternoon"},
}
TIME_WORDS = {
    "en": ["today", "tomorrow", "day after tomorrow", "next", "this", "on", "at", "in", "a", "an", "half",
           "quarter", "past", "to", "hour", "hours", "minute", "minutes", "oclock", "am", "pm", "and",
           "now", "later"],
    "nl": ["vandaag", "morgen", "overmorgen", "volgende", "deze", "op", "om", "over", "een", "half", "kwart",
           "voor", "uur", "minuten", "minuut", "kwartier", "s", "nu", "straks", "en"],
}


def time_vocabulary(lang: str) -> list[str]:
    """Every word the callback-time parser understands (for speech grammars)."""
    lang = base_language(lang)
    asap = {w for phrase in ASAP_PHRASES.get(lang, []) for w in phrase.split()}
    minutes = {w for w, n in TENS_WORDS.get(lang, {}).items() if n < 60}
    return sorted(set(TIME_WORDS.get(lang, [])) | set(WEEKDAYS.get(lang, [])) | set(DAY_PART_WORDS.get(lang, {}))
                  | set(NUMBER_WORDS.get(lang, {})) | minutes | asap)


def _split_compounds(ws: list[str], lang: str) -> list[str]:
    """Dutch writes "maandagochtend", "vrijdagmiddag": split into day and part."""
    if lang != "nl":
        return ws
    out = []
    for w in ws:
        m = re.fullmatch(r"(%s)(ochtend|morgen|middag|namiddag|avond)" % "|".join(WEEKDAYS["nl"]), w)
        out.extend([m[1], m[2] if m[2] != "morgen" else "ochtend"] if m else [w])
    return out


def _relative(ws: list[object], lang: str) -> timedelta | None:
    """'in an hour', 'in half an hour', 'in 20 minutes' / 'over een uur', 'over een kwartier'."""
    lead = "in" if lang == "en" else "over"
    for i, w in enumerate(ws):
        if w != lead:
            continue
        rest = ws[i + 1:i + 5]
        amount: float | None = None
        if rest[:3] in (["half", "an", "hour"], [1, "half", "uur"]) or rest[:2] == ["half", "uur"]:
            return timedelta(minutes=30)
        if rest[:2] in (["a", "quarter"], [1, "kwartier"]) or rest[:1] == ["kwartier"]:
            return timedelta(minutes=15)
        if rest and rest[0] in ("a", "an", "een"):
            amount, unit = 1, rest[1] if len(rest) > 1 else None
        elif rest and isinstance(rest[0], int):
            amount, unit = rest[0], rest[1] if len(rest) > 1 else None
        else:
            continue
        if unit in ("hour", "hours", "uur"):
            extra = 30 if rest[2:5] == ["and", "a", "half"] or rest[2:4] == ["en", "half"] else 0
            return timedelta(hours=amount, minutes=extra)
        if unit in ("minute", "minutes", "minuten", "minuut"):
            return timedelta(minutes=amount)
        if unit in ("kwartier",):
            return timedelta(minutes=15 * amount)
    return None


def _day(ws: list[object], lang: str, today: date) -> tuple[date | None, str | None]:
    """The day asked for (or None) and a day part implied by the same word."""
    joined = " ".join(str(w) for w in ws)
    if lang == "en":
        if "day after tomorrow" in joined:
            return today + timedelta(days=2), None
        if "tomorrow" in ws:
            return today + timedelta(days=1), None
        if "today" in ws:
            return today, None
        if "tonight" in ws:
            return today, "evening"
    else:
        if "overmorgen" in ws:
            return today + timedelta(days=2), None
        for w, part in (("morgenochtend", "morning"), ("morgenmiddag", "afternoon"), ("morgenavond", "evening")):
            if w in ws:
                return today + timedelta(days=1), part
        # "morgen" is tomorrow unless it follows "s" ('s morgens = in the morning)
        for i, w in enumerate(ws):
            if w in ("morgen",) and not (i and ws[i - 1] == "s"):
                return today + timedelta(days=1), None
        if "vandaag" in ws:
            return today, None
        if "vanavond" in ws:
            return today, "evening"
    for index, name in enumerate(WEEKDAYS[lang]):
        if name in ws or name + "s" in ws:
            ahead = (index - today.weekday()) % 7 or 7  # "Monday" said on a Monday means next week
            return today + timedelta(days=ahead), None
    return None, None


def _days_said(ws: list[object], lang: str, today: date) -> set[date]:
    """Every day the words name, each on its own ("today ... tomorrow" names two)."""
    days = set()
    for i in range(len(ws)):
        if lang == "nl" and ws[i] == "morgen" and i and ws[i - 1] == "s":
            continue  # 's morgen: in the morning
        day, _ = _day(ws[i:i + 3] if ws[i:i + 3] == ["day", "after", "tomorrow"] else ws[i:i + 1], lang, today)
        if day is not None:
            days.add(day)
    if "day after tomorrow" in " ".join(str(w) for w in ws):
        days.discard(today + timedelta(days=1))  # its "tomorrow" is not a day of its own
    return days


def _contradictory(ws: list[object], lang: str, today: date, clock, part: str | None) -> bool:
    """Words that cannot all be meant: two different days, or a clock time outside the part of day
    said with it ("morning at nine p m", "three a m in the afternoon", "morning at fifteen")."""
    if len(_days_said(ws, lang, today)) > 1:
        return True
    if part is None:
        return False
    hour, _, meridiem = clock if clock is not None else (None, None, "pm" if "pm" in ws else "am" if "am" in ws else None)
    if part == "morning":
        return meridiem == "pm" or hour is not None and 13 <= hour <= 23
    if part in ("afternoon", "evening"):
        return meridiem == "am"
    return False


def _day_part(ws: list[object], lang: str) -> str | None:
    table = DAY_PART_WORDS[lang]
    for i, w in enumerate(ws):
        if lang == "nl" and w == "morgens" and i and ws[i - 1] == "s":
            return "morning"
        if w in table and not (lang == "nl" and w in ("morgenochtend", "morgenmiddag", "morgenavond")):
            return table[w]
    return None


def _clock(ws: list[object], lang: str) -> tuple[int, int, str | None] | None:
    """(hour, minute, 'am'|'pm'|None) from the words, or None if no clock time was said."""
    meridiem = "pm" if "pm" in ws else "am" if "am" in ws else None

    def num(i: int) -> int | None:
        return ws[i] if 0 <= i < len(ws) and isinstance(ws[i], int) else None

    for i, w in enumerate(ws):
        if isinstance(w, tuple):
            return w[0], w[1], meridiem
    for i, w in enumerate(ws):
        if lang == "en":
            if w == "half" and ws[i + 1:i + 2] == ["past"] and num(i + 2) is not None:
                return num(i + 2), 30, meridiem
            if w == "quarter" and ws[i + 1:i + 2] in (["past"], ["to"]) and num(i + 2) is not None:
                return (num(i + 2), 15, meridiem) if ws[i + 1] == "past" else (num(i + 2) - 1, 45, meridiem)
            if isinstance(w, int) and ws[i + 1:i + 2] in (["past"], ["to"]) and num(i + 2) is not None and w < 60:
                return (num(i + 2), w, meridiem) if ws[i + 1] == "past" else (num(i + 2) - 1, 60 - w, meridiem)
        else:
            if w == "half" and num(i + 1) is not None:  # half vier = 3:30
                return num(i + 1) - 1, 30, meridiem
            if w == "kwart" and ws[i + 1:i + 2] in (["over"], ["voor"]) and num(i + 2) is not None:
                return (num(i + 2), 15, meridiem) if ws[i + 1] == "over" else (num(i + 2) - 1, 45, meridiem)
            if isinstance(w, int) and ws[i + 1:i + 2] in (["over"], ["voor"]) and num(i + 2) is not None and w < 30:
                return (num(i + 2), w, meridiem) if ws[i + 1] == "over" else (num(i + 2) - 1, 60 - w, meridiem)
    for i, w in enumerate(ws):
        alone = len(ws) == 1 or (i == 0 and (isinstance(ws[1], int) or ws[1] in ("oh", "am", "pm")))
        if isinstance(w, int) and w <= 24 and (alone or (i and ws[i - 1] in ("at", "om", "around", "rond")) or
                                                 ws[i + 1:i + 2] in (["oclock"], ["uur"], ["am"], ["pm"]) or
                                                 _clock_context(ws, i, lang)):
            nxt = num(i + 1)
            if nxt is not None and ws[i + 1:i + 2] != ["uur"]:
                return w, nxt, meridiem  # "three thirty", "three oh five" handled via 0 below
            if ws[i + 1:i + 3] and ws[i + 1] == "oh" and num(i + 2) is not None:
                return w, num(i + 2), meridiem
            if ws[i + 1:i + 2] == ["uur"] and num(i + 2) is not None:  # drie uur dertig
                return w, num(i + 2), meridiem
            return w, 0, meridiem
    return None


def _clock_context(ws: list[object], i: int, lang: str) -> bool:
    """Whether the number at ws[i] is a clock time by the part of the day right after it: "nine in the
    morning", "ten this evening" (before, "nine in the morning" was the morning's first bookable minute)."""
    rest = ws[i + 1:i + 4]
    if lang != "en":
        return False
    if rest[:2] == ["in", "the"] and rest[2:3] and rest[2] in DAY_PART_WORDS["en"]:
        return True
    return rest[:1] == ["this"] and bool(rest[1:2]) and rest[1] in DAY_PART_WORDS["en"]


def _candidates(hour: int, minute: int, meridiem: str | None, part: str | None) -> list[time]:
    """Clock readings of what was said, most likely first (1-6 means afternoon, 7-11 morning)."""
    if not (0 <= hour <= 24 and 0 <= minute < 60):
        return []
    hour %= 24
    if hour > 12 or hour == 0:
        return [time(hour, minute)]
    am, pm = time(hour % 12, minute), time(hour % 12 + 12, minute)
    if meridiem == "am":
        return [am]
    if meridiem == "pm" or part in ("afternoon", "evening"):
        return [pm]
    if part == "morning":
        return [am]
    if hour == 12:
        return [time(12, minute)]
    return [pm, am] if hour <= 6 else [am, pm]


def _to_utc(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """None for a time in the spring-forward gap (routing.hours states the DST rule)."""
    try:
        return local_to_utc(day, at, zone)
    except TimeRefused:
        return None


def parse_callback_time(text: str, lang: str, now: datetime, zone: ZoneInfo,
                        hours: Mapping[int, tuple[time, time]],
                        horizon: timedelta = timedelta(days=14), day_offset: int = 0,
                        hours_zone: ZoneInfo | None = None) -> CallbackTime:
    """Resolve "tomorrow at three", "in an hour", "Monday morning", "morgen om half vier"...

    `now` is aware; `zone` is where the caller's words are read (the zone they hear times in);
    `hours` ({weekday: (open, close)}, Monday = 0) are the skill's, local to `hours_zone` (the skill's
    zone; `zone` when not given). The result is in UTC, or carries the reason it cannot be booked. A time said
    without a day is on the day `day_offset` days from today (the day the caller picked before).
    A day alone ("tomorrow", "Friday") is not a time: reason "day_only", with the day.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    lang = base_language(lang)
    if lang not in WEEKDAYS:
        return CallbackTime(None, "format")
    # Whisper writes "10.30" for half past ten; words() would split it (it keeps "10:30" whole).
    text = re.sub(r"\b(\d{1,2})\.(\d\d)\b", r"\1:\2", text or "")
    ws = number_tokens(_split_compounds(words(text), lang), lang)

    hours_zone = hours_zone or zone
    delta = _relative(ws, lang)
    if delta is not None:
        return _check(now + delta, now, hours_zone, hours, horizon)

    local_now = now.astimezone(zone)
    day, implied_part = _day(ws, lang, local_now.date())
    part = _day_part(ws, lang) or implied_part
    clock = _clock(ws, lang)
    if day is None and clock is None and part is None:
        return CallbackTime(None, "format")
    if _contradictory(ws, lang, local_now.date(), clock, part):
        return CallbackTime(None, "contradictory")
    if clock is None and part is None:
        # A day alone: the caller has not said when on it. Refuse a day we cannot call on at all.
        if hours_zone != zone:
            first = _first_open_minute(day, time(0), time(23, 59), now, zone, hours_zone, hours, horizon)
            return first if not first.ok else CallbackTime(None, "day_only", day=day)
        span = span_on(hours, day)
        if not span or (day == local_now.date() and local_now.time() >= span[1]):
            return CallbackTime(None, "closed" if not span else "past")
        return CallbackTime(None, "day_only", day=day)
    day = day or local_now.date() + timedelta(days=day_offset)

    if clock is not None:
        options = _candidates(*clock, part)
        if not options:
            return CallbackTime(None, "format")
        results = [_resolve(day, t, now, zone, hours_zone, hours, horizon) for t in options]
        # Prefer the reading we can actually book; otherwise report the likeliest one's reason.
        return next((r for r in results if r.ok), results[0])

    # A day and/or part of day without a clock time: the first bookable minute in it.
    start, end = DAY_PARTS[part] if part else (time(0), time(23, 59))
    if hours_zone != zone:
        return _first_open_minute(day, start, end, now, zone, hours_zone, hours, horizon)
    span = span_on(hours, day)
    if not span:
        return CallbackTime(None, "closed")
    earliest_local = max(start, span[0])
    latest_local = min(end, span[1])
    if earliest_local >= latest_local:
        return CallbackTime(None, "closed")
    candidate = _to_utc(day, earliest_local, zone)
    if candidate is None:
        return CallbackTime(None, "dst_gap")
    if candidate <= now:
        # Later the same day: round up to the next quarter hour from now.
        soon = (local_now + timedelta(minutes=15 - local_now.minute % 15)).replace(second=0, microsecond=0)
        if day == local_now.date() and soon.time() < latest_local and soon.date() == day:
            candidate = soon.astimezone(timezone.utc)
        else:
            return CallbackTime(None, "past")
    return _check(candidate, now, zone, hours, horizon)


def _first_open_minute(day: date, start: time, end: time, now: datetime, zone: ZoneInfo, hours_zone: ZoneInfo,
                       hours: Mapping[int, tuple[time, time]], horizon: timedelta) -> CallbackTime:
    """The first minute of a part of the caller's day (read in `zone`) when the team is open in its own
    zone (`hours_zone`): the two zones' days do not line up, so walk the part a minute at a time."""
    first = datetime.combine(day, start, zone).astimezone(timezone.utc)
    last = datetime.combine(day, end, zone).astimezone(timezone.utc)
    if last <= now:
        return CallbackTime(None, "past")
    if first <= now:  # later the same day: from the next quarter hour
        local_now = now.astimezone(zone)
        first = (local_now + timedelta(minutes=15 - local_now.minute % 15)).replace(second=0, microsecond=0)
        first = first.astimezone(timezone.utc)
    at = first
    while at < last:
        if open_during(hours, at.astimezone(hours_zone)):
            return _check(at, now, hours_zone, hours, horizon)
        at += timedelta(minutes=1)
    return CallbackTime(None, "closed")


def _resolve(day: date, at: time, now: datetime, zone: ZoneInfo, hours_zone: ZoneInfo,
             hours: Mapping[int, tuple[time, time]], horizon: timedelta) -> CallbackTime:
    when = _to_utc(day, at, zone)
    if when is None:
        return CallbackTime(None, "dst_gap")
    return _check(when, now, hours_zone, hours, horizon)


def _check(when: datetime, now: datetime, zone: ZoneInfo,
           hours: Mapping[int, tuple[time, time]], horizon: timedelta) -> CallbackTime:
    when = when.astimezone(timezone.utc)
    if when <= now:
        return CallbackTime(None, "past")
    if when > now + horizon:
        return CallbackTime(None, "horizon")
    if not open_during(hours, when.astimezone(zone)):
        return CallbackTime(None, "closed")
    return CallbackTime(when, None)

