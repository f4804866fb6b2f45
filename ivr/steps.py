"""The IVR's questions as one table: what each step asks, the answer it takes, and where each answer leads.

Both ways of answering obey the same row. Keys are collected by Twilio's `<Gather input="dtmf">` with
the step's numDigits, finishOnKey and timeout (so a caller can key a whole number, end it with #, or
stop and let the timeout submit what they keyed). Speech, where the caller's language has an engine,
is recognised on a forked media stream with the grammar for the step's `listen` kind. Either way the
answer is first turned into a *meaning* (`ivr.answers`), and the step's `leads` pick the move.

Meanings: "skill", "unsure" (a doubtful skill, time or "as soon as possible": confirmed first), "none" (none of the skills), "language", "yes", "no",
"asap", "later", "day", "time", "number", "refused" (a number or time we cannot use), "agent" (the
caller asked for a person: "0" or "agent" at any question), "nothing" (no answer), "unclear".
"nothing" and "unclear" ask again; after MAX_RETRIES the step's `give_up` move runs, which always
reaches a person or offers one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from twilio.twiml.voice_response import Gather

MAX_RETRIES = 2

# What kind of answer a step takes (decides how keys and words are read).
SKILL = "skill"  # a skill digit, a language digit, or words saying what the call is about
YES_NO = "yes_no"  # 1 = yes, 2 = no
CHOICE = "choice"  # one key from `keys`; spoken times are understood too
NUMBER = "number"  # a phone number keyed, ending with #, or spoken digit by digit
TIME = "time"  # a time of day as four keys (HHMM), or a spoken time

AGENT_KEY = "0"  # a lone 0 at any question reaches a person


@dataclass(frozen=True)
class Expects:
    """The answer a question takes, and how Twilio's Gather collects its keys."""

    kind: str
    num_digits: int = 1
    finish_on_key: str | None = None
    timeout: int = 6  # seconds after the prompt ends, and between keys
    keys: Mapping[str, str] = field(default_factory=dict)  # key -> meaning, for YES_NO and CHOICE
    listen: str | None = None  # the speech grammar kind: skill, yes_no, digits, time


@dataclass(frozen=True)
class Step:
    name: str
    prompt: str  # the prompt's key in the operator's IVR file
    expects: Expects
    leads: Mapping[str, str]  # meaning -> move (a name in ivr.moves.MOVES)
    give_up: str  # the move after MAX_RETRIES answers that were nothing or unclear


def _keys(**mapping: str) -> Mapping[str, str]:
    return MappingProxyType({k.lstrip("k"): v for k, v in mapping.items()})


_YES_NO = Expects(YES_NO, keys=_keys(k1="yes", k2="no"), listen="yes_no")

STEPS: Mapping[str, Step] = MappingProxyType({step.name: step for step in [
    Step("menu", "menu", Expects(SKILL, listen="skill"),
         leads={"skill": "route", "unsure": "confirm_skill", "none": "to_person", "language": "switch_language",
                "agent": "to_person"},
         give_up="to_person"),
    # A caller whose callback is still waiting: keep it (1, yes) or cancel it (2, no); ivr/returning.py.
    Step("open_callback", "open_callback", _YES_NO,
         leads={"yes": "keep_callback", "no": "cancel_callback", "agent": "to_person"},
         give_up="ask_menu_again"),
    Step("confirm_skill", "confirm_skill", _YES_NO,
         leads={"yes": "route_candidate", "no": "ask_menu_again", "agent": "to_person"},
         give_up="route_candidate"),
    Step("after_hours_offer", "after_hours_offer", _YES_NO,
         leads={"yes": "callback_at_opening", "no": "goodbye", "agent": "nobody_in"},
         give_up="goodbye"),
    Step("wait_offer", "wait_offer", _YES_NO,
         leads={"yes": "callback_asap", "no": "hold", "nothing": "hold", "agent": "hold"},
         give_up="hold"),
    Step("callback_number_confirm", "callback_number_confirm", _YES_NO,
         leads={"yes": "use_caller_number", "no": "ask_number", "agent": "to_person"},
         give_up="to_person"),
    Step("callback_number_enter", "callback_number_enter",
         Expects(NUMBER, num_digits=20, finish_on_key="#", timeout=5, listen="digits"),
         leads={"number": "read_back_number", "refused": "number_refused", "agent": "to_person"},
         give_up="to_person"),
    Step("callback_number_readback", "callback_number_readback", _YES_NO,
         leads={"yes": "use_entered_number", "no": "ask_number", "agent": "to_person"},
         give_up="to_person"),
    Step("callback_when", "callback_when",
         Expects(CHOICE, keys=_keys(k1="asap", k2="later"), listen="time"),
         leads={"asap": "book_asap", "later": "ask_day", "day": "ask_time", "time": "book_at",
                "unsure": "confirm_time", "refused": "time_refused", "agent": "to_person"},
         give_up="to_person"),
    Step("callback_pick_day", "callback_pick_day",
         Expects(CHOICE, keys=_keys(k1="day", k2="day", k3="day"), listen="time"),
         leads={"day": "ask_time", "time": "book_at", "asap": "book_asap", "unsure": "confirm_time",
                "refused": "time_refused", "agent": "to_person"},
         give_up="to_person"),
    Step("callback_pick_time", "callback_pick_time",
         Expects(TIME, num_digits=4, timeout=8, listen="time"),
         leads={"time": "book_at", "asap": "book_asap", "day": "ask_time", "unsure": "confirm_time",
                "refused": "time_refused", "agent": "to_person"},
         give_up="to_person"),
    # A chosen time that is fully booked: the first free time after it is offered (yes books it, no asks
    # for a day and time again); ivr/callback_times.py.
    Step("callback_time_full", "callback_time_full", _YES_NO,
         leads={"yes": "book_offered_time", "no": "ask_day", "agent": "to_person"},
         give_up="to_person"),
    # A spoken time or "as soon as possible" heard with low confidence, read back before it is booked:
    # "no" asks when again, so the caller can correct it.
    Step("callback_time_confirm", "callback_time_confirm", _YES_NO,
         leads={"yes": "book_confirmed_time", "no": "correct_time", "agent": "to_person"},
         give_up="to_person"),
]})


def step(name: str) -> Step | None:
    return STEPS.get(name)


def listen_kind(name: str) -> str | None:
    """The speech grammar for a step (None: keys only)."""
    found = STEPS.get(name)
    return found.expects.listen if found else None


def gather(step: Step, action: str, timeout: int | None = None) -> Gather:
    """The `<Gather input="dtmf">` that takes a step's keys (its numDigits, finishOnKey and timeout)."""
    expects = step.expects
    args = {"input": "dtmf", "num_digits": expects.num_digits, "timeout": timeout or expects.timeout,
            "action": action, "method": "POST"}
    if expects.finish_on_key:
        args["finish_on_key"] = expects.finish_on_key
    return Gather(**args)
