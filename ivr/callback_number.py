"""Moves of the callback's number and time: the caller's own number or one they key or say (read back,
refused with its reason), and a picked time checked against the skill's hours before it is booked."""
from __future__ import annotations

from datetime import timedelta

from ivr import asking, booking, steps
from ivr.answers import Meaning
from phone_numbers import home_region, last_digits, spoken_number
from routing import hours, slots


def use_caller_number(flow, call, meaning: Meaning):
    call.scratch = {**call.scratch, "callback_number": call.scratch["caller_number"]}
    return booking.after_number(flow, call)


def ask_number(flow, call, meaning: Meaning):
    return asking.ask(flow, call, "callback_number_enter")


def read_back_number(flow, call, meaning: Meaning):
    call.scratch = {**call.scratch, "entered_number": meaning.value}
    return asking.ask(flow, call, "callback_number_readback")


def _refused(flow, call, meaning: Meaning, sorry_key: str, ask_again: str):
    """Say why the answer was refused (its reason's wording), then ask `ask_again` as a retry."""
    p = flow.prompts(call)
    sorry = p.text(sorry_key, reason=p.reason(meaning.value))
    return asking.retry(flow, call, steps.STEPS[ask_again], meaning, lead=[sorry])


def number_refused(flow, call, meaning: Meaning):
    return _refused(flow, call, meaning, "callback_number_invalid", "callback_number_enter")


def use_entered_number(flow, call, meaning: Meaning):
    call.scratch = {**call.scratch, "callback_number": call.scratch["entered_number"]}
    return booking.after_number(flow, call)


def book_at(flow, call, meaning: Meaning):
    skill = flow.config.skills[call.skill]
    rules = hours.BookingRules(horizon=timedelta(days=flow.config.booking_horizon_days))
    try:
        when = hours.check_callback_time(skill, meaning.value, flow.clock.now(), rules)
    except hours.TimeRefused as refused:
        return time_refused(flow, call, Meaning("refused", refused.reason))
    if not slots.has_room(flow.session, flow.config, skill, when, flow.clock.now()):
        return time_full(flow, call, when)
    return booking.book(flow, call, scheduled_for=when)


def time_full(flow, call, asked):
    """The time is fully booked (routing/slots.py): offer the first free time after it, or, with none
    within the horizon, say it is full and ask for another day."""
    free = slots.free_starts(flow.session, flow.config, call.skill, asked, flow.clock.now())
    if not free:
        return time_refused(flow, call, Meaning("refused", "full"))
    call.scratch = {**call.scratch, "asked_time": asked.isoformat(), "offered_time": free[0].isoformat()}
    return asking.ask(flow, call, "callback_time_full")


def time_refused(flow, call, meaning: Meaning):
    return _refused(flow, call, meaning, "callback_time_invalid", "callback_pick_day")


def confirm_words(flow, call, p) -> str:
    """The question of "callback_number_confirm": call back on the number ending in these digits?"""
    return p.text("callback_number_confirm", last_digits=last_digits(call.scratch["caller_number"]))


def read_back_words(flow, call, p) -> str:
    """The question of "callback_number_readback": the number entered, said digit by digit."""
    return p.text("callback_number_readback",
                  digits=spoken_number(call.scratch["entered_number"], home_region(call.from_number, call.to_number)))


MOVES = {"use_caller_number": use_caller_number, "ask_number": ask_number, "read_back_number": read_back_number,
         "number_refused": number_refused, "use_entered_number": use_entered_number, "book_at": book_at,
         "time_refused": time_refused}
QUESTIONS = {"callback_number_confirm": confirm_words, "callback_number_readback": read_back_words}
