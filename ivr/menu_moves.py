"""Moves of the menu and the questions around it (the `leads` of ivr.steps that need no logic of their
own): route to the skill heard, confirm a doubtful one, switch language, hold, start a callback, goodbye.
Like every move, each takes the flow, the call and the answer's `Meaning`, and returns the TwiML."""
from __future__ import annotations

from ivr import asking, booking, holding, line
from ivr.answers import Meaning


def route(flow, call, meaning: Meaning):
    return line.route(flow, call, flow.config.skills[meaning.value])


def confirm_skill(flow, call, meaning: Meaning):
    # Speech heard a skill, but not surely enough: ask before routing.
    call.scratch = {**call.scratch, "candidate_skill": meaning.value}
    return asking.ask(flow, call, "confirm_skill")


def route_candidate(flow, call, meaning: Meaning):
    return line.route(flow, call, flow.config.skills[call.scratch["candidate_skill"]])


def ask_menu_again(flow, call, meaning: Meaning):
    return asking.ask(flow, call, "menu")


def switch_language(flow, call, meaning: Meaning):
    call.language = meaning.value
    return asking.ask(flow, call, "menu")


def callback_at_opening(flow, call, meaning: Meaning):
    return booking.start_callback(flow, call, mode="opening")


def callback_asap(flow, call, meaning: Meaning):
    return booking.start_callback(flow, call, mode="asap")


def hold(flow, call, meaning: Meaning):
    return holding.hold(flow, call)


def goodbye(flow, call, meaning: Meaning):
    return asking.goodbye(flow, call)


def menu_words(flow, call, p) -> str:
    """The menu's question: the skills to say or key, or only to key where no speech engine listens."""
    return p.text("menu" if flow.speech_on(call) else "menu_dtmf_only")


def confirm_skill_words(flow, call, p) -> str:
    return p.text("confirm_skill", skill=flow.config.skills[call.scratch["candidate_skill"]].label_in(call.language))


MOVES = {"route": route, "confirm_skill": confirm_skill, "route_candidate": route_candidate,
         "ask_menu_again": ask_menu_again, "switch_language": switch_language,
         "callback_at_opening": callback_at_opening, "callback_asap": callback_asap, "hold": hold,
         "goodbye": goodbye}
QUESTIONS = {"menu": menu_words, "confirm_skill": confirm_skill_words}
