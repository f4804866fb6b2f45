"""Twilio Messaging webhook: a texter sends CALL ME / BEL MIJ and is called back on that number.

Understood (case and spacing do not matter):
    CALL ME                      as soon as possible (at opening time when closed)
    CALL ME 14:30 | AT 2:30PM    today at that time, in the skill's time zone
    CALL ME TOMORROW 9:00        tomorrow (MORGEN) at that time
    CALL ME about my invoice     other words choose the team, as in the IVR
    BEL MIJ / BEL MIJ MORGEN OM 9:00   the same in Dutch, answered in Dutch
Anything else is answered with the help text in both languages. Point the number's "A message
comes in" webhook at POST /webhooks/sms (signed by Twilio, checked like the voice webhooks).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import Blueprint, Response, request
from twilio.twiml.messaging_response import MessagingResponse

from callbacks import requests as callback_requests
from callbacks.schemas import RequestRefused
from ivr.prompts import Prompts
from storage.db import transaction
from webhooks.limits import TOO_MANY_FOR_NUMBER, limiter, number_in_form, per_number
from webhooks.runtime import runtime
from webhooks.security import twilio_signed

sms = Blueprint("sms_webhooks", __name__, url_prefix="/webhooks")

KEYWORD = re.compile(r"^\s*(CALL\s*ME|BEL\s*MIJ)\b(.*)$", re.IGNORECASE | re.DOTALL)
CLOCK = re.compile(r"\b(\d{1,2})(?:[:.hH](\d{2}))?\s*(AM|PM)?\b", re.IGNORECASE)
TOMORROW = {"TOMORROW", "MORGEN"}
FILLER = {"AT", "OM", "TODAY", "VANDAAG", "PLEASE", "AUB", "ALSTUBLIEFT", "GRAAG", "ABOUT", "OVER", "FOR", "VOOR"}
HELP = ("To get a call back, text CALL ME (or CALL ME 14:30, or CALL ME TOMORROW 9:00). "
        "Wilt u teruggebeld worden? Sms BEL MIJ (of BEL MIJ 14:30, of BEL MIJ MORGEN 9:00).")


@dataclass(frozen=True)
class TextRequest:
    language: str
    at: time | None
    tomorrow: bool
    reason: str | None


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


def reply(text: str) -> Response:
    response = MessagingResponse()
    response.message(text)
    return Response(str(response), mimetype="text/xml")


def refusal(config, language: str, refused: RequestRefused) -> str:
    p = Prompts(config, language)
    code = refused.code.removeprefix("number_")
    if refused.field == "/phone":
        return p.text("callback_number_invalid", reason=p.reason(code))
    if refused.field == "/preferred_time":
        return p.text("callback_time_invalid", reason=p.reason(code))
    return str(refused)


# No per-IP limit: every text arrives from Twilio's addresses. Counted per texter instead.
@sms.post("/sms")
@twilio_signed
@limiter.limit(per_number, key_func=number_in_form, error_message=TOO_MANY_FOR_NUMBER)
def incoming_sms():
    rt = runtime()
    config = rt.ivr_config
    language = config.default_language
    try:
        wanted = parse_text(request.form.get("Body", ""))
        if wanted is None:
            return reply(HELP)
        language = wanted.language
        skill = callback_requests.pick_skill(config, None, wanted.reason, language)
        body: dict = {"phone": request.form.get("From", ""), "skill": skill, "language": language}
        if wanted.reason:
            body["reason"] = wanted.reason[:500]
        now = rt.clock.now()
        if wanted.at is not None:
            zone = config.skills[skill].timezone
            day = now.astimezone(zone).date() + timedelta(days=1 if wanted.tomorrow else 0)
            body.update(when="scheduled", timezone=zone.key,
                        preferred_time=datetime.combine(day, wanted.at).strftime("%Y-%m-%dT%H:%M"))
        with transaction(rt.sessions) as session:
            outcome = callback_requests.request_callback(
                session, config, body, now=now, allowed_countries=rt.settings.allowed_countries,
                caller=callback_requests.Caller(channel="sms", integration="twilio-sms"))
            text = callback_requests.confirmation(config, outcome, now)
    except RequestRefused as refused:
        # Twilio only delivers a reply to a 2xx answer: refusals are told to the texter, not as an HTTP error.
        return reply(refusal(config, language, refused))
    return reply(text)
