"""Callback requests by text message: what a texter's words ask for (CALL ME / BEL MIJ).

Understood (case and spacing do not matter):
    CALL ME                      as soon as possible (at opening time when closed)
    CALL ME 14:30 | AT 2:30PM    today at that time, in the language's zone ([company] zones), else the skill's
    CALL ME TOMORROW 9:00        tomorrow (MORGEN) at that time
    CALL ME about my invoice     other words choose the team, as in the IVR
    BEL MIJ / BEL MIJ MORGEN OM 9:00   the same in Dutch, answered in Dutch
Anything else gets `help_text`, in every language. Typed shorthand ("2:30PM", "14.15") is read here;
spoken times go through understanding.times.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from callbacks import promises
from callbacks import requests as callback_requests
from refusals import REASONS, RequestRefused
from config import IvrConfig
from config import Prompts

KEYWORD = re.compile(r"^\s*(CALL\s*ME|BEL\s*MIJ)\b(.*)$", re.IGNORECASE | re.DOTALL)
CLOCK = re.compile(r"\b(\d{1,2})(?:[:.hH](\d{2}))?\s*(AM|PM)?\b", re.IGNORECASE)
TOMORROW = {"TOMORROW", "MORGEN"}
FILLER = {"AT", "OM", "TODAY", "VANDAAG", "PLEASE", "AUB", "ALSTUBLIEFT", "GRAAG", "ABOUT", "OVER", "FOR", "VOOR"}


@dataclass(frozen=True)
class TextRequest:
    language: str
    at: time | None
    tomorrow: bool
    reason: str | None


def help_text(config: IvrConfig) -> str:
    """The reply to a text that asks for nothing we know: how to ask, in every language of the IVR file
    (we cannot tell the texter's language), `text_help` in config/ivr.toml."""
    return " ".join(Prompts(config, language).text("text_help") for language in config.languages)


def parse_text(body: str) -> TextRequest | None:
    """What a text asks for, or None if it is not a callback request."""
    match = KEYWORD.match(body or "")
    if not match:
        return None
    language = "nl-NL" if match.group(1).upper().startswith("BEL") else "en-US"
    rest = match.group(2)
    at = None
    clock = next((m for m in CLOCK.finditer(rest) if m.group(2) or m.group(3) or
                  re.search(r"\b(AT|OM)\s*$", rest[:m.start()], re.IGNORECASE)), None)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2) or 0)
        meridiem = (clock.group(3) or "").upper()
        if meridiem == "PM" and hour < 12:
            hour += 12
        if meridiem == "AM" and hour == 12:
            hour = 0
        if hour > 23 or minute > 59:
            raise RequestRefused("that is not a time of day", field="/preferred_time", code="format")
        at = time(hour, minute)
        rest = rest[:clock.start()] + " " + rest[clock.end():]
    words = re.findall(r"[^\W\d_]+", rest)
    tomorrow = any(w.upper() in TOMORROW for w in words)
    reason = " ".join(w for w in words if w.upper() not in TOMORROW | FILLER) or None
    if tomorrow and at is None:
        raise RequestRefused("say what time tomorrow, e.g. TOMORROW 9:00", field="/preferred_time", code="format")
    return TextRequest(language, at, tomorrow, reason)


def request_body(wanted: TextRequest, from_number: str, config: IvrConfig, now: datetime) -> dict:
    """The public request (as POST /api/callbacks takes it) that a text stands for."""
    skill = callback_requests.pick_skill(config, None, wanted.reason, wanted.language)
    body: dict = {"phone": from_number, "skill": skill, "language": wanted.language}
    if wanted.reason:
        body["reason"] = wanted.reason[:500]
    if wanted.at is not None:
        zone = config.zone_for(wanted.language, config.skills[skill])  # a texter's times are in their language's zone
        day = now.astimezone(zone).date() + timedelta(days=1 if wanted.tomorrow else 0)
        body.update(when="scheduled", timezone=zone.key,
                    preferred_time=datetime.combine(day, wanted.at).strftime("%Y-%m-%dT%H:%M"))
    return body


def refusal(config, language: str, refused: RequestRefused) -> str:
    p = Prompts(config, language)
    code = refused.code.removeprefix("number_")
    if code not in REASONS:  # the request's shape (missing, wrong_type): no reason a texter can act on
        return str(refused)
    if refused.field == "/phone":
        return p.text("callback_number_invalid", reason=p.reason(code))
    if isinstance(refused, callback_requests.TimeFull) and refused.free:  # full: the first free time after it
        return p.text("text_time_full", when=promises.moment_words(p, refused.free[0], refused.zone, refused.now))
    if refused.field == "/preferred_time":
        return p.text("callback_time_invalid", reason=p.reason(code))
    return str(refused)
