"""Joining a skill's line: the caller's need is known (or they asked for a person), so they hold for
it, hear its wait and are offered a callback, or hear that it is closed and when it opens."""
from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from callbacks import promises
from callbacks import services as callbacks
from config import Skill
from ivr import asking, holding
from ivr.answers import Meaning
from routing import hours
from storage.models import Call


def to_person(flow, call: Call, meaning: Meaning | None = None) -> VoiceResponse:
    """The caller asked for a person, or could not be understood: a person, never a dead end.

    A caller already in a line holds there, keeping their place; one whose need is known holds for
    that skill; anyone else goes to the fallback skill. A closed line offers a callback at opening."""
    p = flow.prompts(call)
    entry = flow.entry(call)
    if entry is not None and entry.state == "holding":
        return holding.hold(flow, call, lead=[p.text("routing_to_general")])
    skill = flow.config.skills.get(call.skill) if call.skill else None
    if skill is None or not hours.is_open(skill, flow.clock.now()):
        skill = flow.config.fallback_skill
    return route(flow, call, skill, lead=[p.text("routing_to_general")])


def route(flow, call: Call, skill: Skill, lead: list[str] | None = None) -> VoiceResponse:
    """The caller's need is known: join the skill's line, or hear that it is closed."""
    p = flow.prompts(call)
    now = flow.clock.now()
    call.skill = skill.name
    call.retries = 0
    lead = list(lead or [])
    if not hours.is_open(skill, now):
        opening = hours.next_opening(skill, now)
        if opening is None:
            return asking.goodbye(flow, call, lead=lead)
        call.scratch = {**call.scratch, "opening": opening.isoformat()}
        lead.append(p.text("after_hours", skill=skill.label_in(call.language),
                           opening=promises.moment_words(p, opening, flow.zone(call), now)))
        return asking.ask(flow, call, "after_hours_offer", lead=lead)
    entry = callbacks.enter_line(flow.session, skill=skill.name, call_sid=call.call_sid,
                                 phone_number=call.from_number, language=call.language,
                                 arrived_at=call.started_at, now=now, transcript=call.transcript,
                                 confidence=call.confidence, context=flow.entry_context(call))
    call.entry_id = entry.id
    est = promises.estimate_for(flow.session, flow.config, entry, now)
    if not est.announceable:
        # Nobody staffed can meet a wait today: say so, and offer a callback (at the next opening or shift).
        key = "no_wait_today" if est.status == "after_closing" else "unstaffed"
        lead.append(p.text(key, skill=skill.label_in(call.language)))
        return asking.ask(flow, call, "after_hours_offer", lead=lead)
    if est.seconds > skill.callback_offer_threshold_seconds:
        promises.announce(flow.session, entry, est, now)
        call.scratch = {**call.scratch, "told_wait": est.seconds}
        return asking.ask(flow, call, "wait_offer", lead=lead)
    return holding.hold(flow, call, lead=lead)


def wait_offer_words(flow, call: Call, p) -> str:
    """The question of "wait_offer": the wait just told, and the offer of a callback instead."""
    return p.text("wait_offer", wait=promises.wait_words(p, call.scratch["told_wait"]))


MOVES = {"to_person": to_person}
QUESTIONS = {"wait_offer": wait_offer_words}
