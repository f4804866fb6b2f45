"""Booking a callback from the phone: the number first (the caller's own, confirmed, or one they key
or say), then when (as soon as possible, at the opening, or a time they pick), then the booking, in
the same place in line, and the window told."""
from __future__ import annotations

from datetime import datetime

from twilio.twiml.voice_response import VoiceResponse

from callbacks import promises
from callbacks import services as callbacks
from ivr import after_hours, asking
from phone_numbers import NumberRefused, last_digits, normalise
from storage.models import Call


def start_callback(flow, call: Call, mode: str) -> VoiceResponse:
    """The caller wants a callback (`mode`: "asap" or "opening"): confirm their number, or ask for one."""
    call.scratch = {**call.scratch, "callback_mode": mode, "wants_callback": False}
    call.retries = 0
    try:
        caller = normalise(call.from_number or "", flow.settings.allowed_countries)
    except NumberRefused:
        return asking.ask(flow, call, "callback_number_enter")
    call.scratch = {**call.scratch, "caller_number": caller}
    return asking.ask(flow, call, "callback_number_confirm")


def after_number(flow, call: Call) -> VoiceResponse:
    """The number is settled: book (already booked, or at the opening), or ask when."""
    call.retries = 0
    if callbacks.find_open_callback(flow.session, call.scratch["callback_number"], call.skill):
        # Already booked for this number and skill: say so now rather than ask when.
        return book(flow, call, scheduled_for=None)
    if call.scratch.get("callback_mode") == "opening" and call.scratch.get("opening"):
        return book(flow, call, scheduled_for=after_hours.opening_slot(flow, call))
    if call.scratch.get("callback_mode") == "opening":  # open, but nobody can reach them today: in line
        return book(flow, call, scheduled_for=None)
    return asking.ask(flow, call, "callback_when")


def book(flow, call: Call, scheduled_for: datetime | None) -> VoiceResponse:
    """Store the callback (same place in line) and tell the caller what was agreed."""
    p = flow.prompts(call)
    now = flow.clock.now()
    number = call.scratch["callback_number"]
    request = callbacks.CallbackRequest(
        skill=call.skill, phone_number=number, channel="phone", language=call.language,
        arrived_at=call.started_at, scheduled_for=scheduled_for, customer_timezone=flow.zone(call).key,
        transcript=call.transcript, confidence=call.confidence, call_sid=call.call_sid, actor="caller",
        context=flow.entry_context(call),
    )
    entry = flow.entry(call)
    if entry is not None and entry.state == "holding":
        booking = callbacks.convert_to_callback(flow.session, entry, request, now)
    else:
        booking = callbacks.book_callback(flow.session, request, now)
    response = VoiceResponse()
    call.step = "done"
    call.entry_id = booking.entry.id
    if not booking.created:
        text = p.text("callback_existing", last_digits=last_digits(booking.entry.phone_number))
    else:
        chosen = scheduled_for is not None and call.scratch.get("callback_mode") != "opening"
        told = promises.promise_callback(flow.session, flow.config, booking.entry, now,
                                         zone=flow.zone(call).key, chosen_slot=chosen)
        key = "callback_agreed_asap" if scheduled_for is None else "callback_agreed_scheduled"
        text = p.text(key, window=promises.window_words(p, told.window, now), last_digits=last_digits(number))
    response.say(text, voice=p.voice, language=p.language)
    response.hangup()
    return response
