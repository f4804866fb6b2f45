"""Moves of the after-hours offer (also asked when nobody staffed can take the call today).

- A request for a person ("0" or "agent") never ends the call: nobody is in, so the caller hears that
  and is offered the callback again.
- A callback booked for "when you open" is spread like the web's (routing/slots.spread_slot): the
  night's callbacks fill the first slots after the opening that have room, each told its own window.
"""
from __future__ import annotations

from datetime import datetime

from callbacks import promises
from ivr import asking
from ivr.answers import Meaning
from routing import slots
from routing.promise import slot_window


def nobody_in(flow, call, meaning: Meaning):
    """"0" or "agent" at the after-hours offer: say nobody is in, and offer the callback again."""
    return asking.ask(flow, call, "after_hours_offer", lead=[flow.prompts(call).text("nobody_in")])


def opening_slot(flow, call, *, booking: bool = True) -> datetime:
    """The slot a callback "at opening" is booked for: the first one from the opening with room
    (`booking=False` when it is only told in the offer: no hold on the skill's times)."""
    opening = datetime.fromisoformat(call.scratch["opening"])
    return slots.spread_slot(flow.session, flow.config, call.skill, opening, flow.clock.now(),
                             booking=booking) or opening


def offer_window_words(flow, call, p) -> str:
    """The window the offer tells: the one a callback booked now would be told (its spread slot's,
    when the opening's first slots are full), in this caller's zone."""
    now = flow.clock.now()
    zone = flow.zone(call).key
    window = promises.later_window(flow.session, flow.config, call.skill, flow.entry(call), zone, now)
    if call.scratch.get("opening"):
        slot = opening_slot(flow, call, booking=False)
        if window is None or window.start < slot:
            window = slot_window(slot, zone)
    return promises.window_words(p, window, now)


def offer_words(flow, call, p) -> str:
    """The question of "after_hours_offer": a callback in the window `offer_window_words` tells?"""
    return p.text("after_hours_offer", window=offer_window_words(flow, call, p))


MOVES = {"nobody_in": nobody_in}
QUESTIONS = {"after_hours_offer": offer_words}
