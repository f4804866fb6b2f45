"""Moves of the menu and the questions around it (the `leads` of ivr.steps that need no logic of their
own): route to the skill heard, confirm a doubtful one, switch language, hold, start a callback, goodbye.
Like every move, each takes the flow, the call and the answer's `Meaning`, and returns the TwiML."""
from __future__ import annotations

from ivr.answers import Meaning


def route(flow, call, meaning: Meaning):
    return flow._route(call, flow.config.skills[meaning.value])


def confirm_skill(flow, call, meaning: Meaning):
    # Speech heard a skill, but not surely enough: ask before routing.
    call.scratch = {**call.scratch, "candidate_skill": meaning.value}
    return flow._ask(call, "confirm_skill")


def route_candidate(flow, call, meaning: Meaning):
    return flow._route(call, flow.config.skills[call.scratch["candidate_skill"]])


def ask_menu_again(flow, call, meaning: Meaning):
    return flow._ask(call, "menu")


def switch_language(flow, call, meaning: Meaning):
    call.language = meaning.value
    return flow._ask(call, "menu")


def callback_at_opening(flow, call, meaning: Meaning):
    return flow._start_callback(call, mode="opening")


def callback_asap(flow, call, meaning: Meaning):
    return flow._start_callback(call, mode="asap")


def hold(flow, call, meaning: Meaning):
    return flow._hold(call)


def goodbye(flow, call, meaning: Meaning):
    return flow._goodbye(call)



MOVES = {"route": route, "confirm_skill": confirm_skill, "route_candidate": route_candidate,
         "ask_menu_again": ask_menu_again, "switch_language": switch_language,
         "callback_at_opening": callback_at_opening, "callback_asap": callback_asap, "hold": hold,
         "goodbye": goodbye}
