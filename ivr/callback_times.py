"""Moves of the callback-time questions that need no booking logic of their own: picking a day,
and reading back a doubtful spoken time (or "as soon as possible") before it is booked.

A time heard with low confidence is never booked as heard: `confirm_time` keeps it on the call and
asks "callback_time_confirm"; yes books it, no asks when again (the caller corrects it). Keys are
never doubtful, so keyed answers do not pass here.
"""
from __future__ import annotations

from datetime import datetime

from ivr import asking, booking, callback_number
from ivr.answers import Meaning
from callbacks import promises

ASAP = "asap"


def book_asap(flow, call, meaning: Meaning):
    return booking.book(flow, call, scheduled_for=None)


def ask_day(flow, call, meaning: Meaning):
    return asking.ask(flow, call, "callback_pick_day")


def ask_time(flow, call, meaning: Meaning):
    """A day was picked (a key, or a day said alone): ask for the time on it."""
    call.scratch = {**call.scratch, "day_offset": meaning.value}
    return asking.ask(flow, call, "callback_pick_time")


def confirm_time(flow, call, meaning: Meaning):
    pending = ASAP if meaning.value == ASAP else meaning.value.isoformat()
    call.scratch = {**call.scratch, "pending_time": pending}
    return asking.ask(flow, call, "callback_time_confirm")


def book_confirmed_time(flow, call, meaning: Meaning):
    pending = call.scratch.get("pending_time")
    if pending == ASAP:
        return booking.book(flow, call, scheduled_for=None)
    return callback_number.book_at(flow, call, Meaning("time", datetime.fromisoformat(pending)))


def book_offered_time(flow, call, meaning: Meaning):
    """Yes to the first free time offered for a full one: booked, if it is still free (else the next is offered)."""
    return callback_number.book_at(flow, call, Meaning("time", datetime.fromisoformat(call.scratch["offered_time"])))


def correct_time(flow, call, meaning: Meaning):
    """"No" at the read-back: ask when again, from the start (as soon as possible, or a later time)."""
    call.scratch = {k: v for k, v in call.scratch.items() if k not in ("pending_time", "day_offset")}
    return asking.ask(flow, call, "callback_when")


def read_back(flow, call, prompts) -> str:
    """The question of "callback_time_confirm": the doubtful time, or "as soon as possible", said back."""
    pending = call.scratch.get("pending_time")
    if pending == ASAP:
        return prompts.text("callback_asap_confirm")
    # Day, date, time and zone, in the zone this caller hears times in (the same words as the booking's).
    when = promises.moment_words(prompts, datetime.fromisoformat(pending), flow.zone(call), flow.clock.now())
    return prompts.text("callback_time_confirm", when=when)


def offer_words(flow, call, prompts) -> str:
    """The question of "callback_time_full": the time asked is full, the first free one after it, both
    said in the zone this caller hears times in."""
    now, zone = flow.clock.now(), flow.zone(call)
    return prompts.text("callback_time_full",
                        asked=promises.moment_words(prompts, datetime.fromisoformat(call.scratch["asked_time"]), zone, now),
                        when=promises.moment_words(prompts, datetime.fromisoformat(call.scratch["offered_time"]), zone, now))


MOVES = {"book_asap": book_asap, "ask_day": ask_day, "ask_time": ask_time, "confirm_time": confirm_time,
         "book_confirmed_time": book_confirmed_time, "correct_time": correct_time,
         "book_offered_time": book_offered_time}
QUESTIONS = {"callback_time_confirm": read_back, "callback_time_full": offer_words}
