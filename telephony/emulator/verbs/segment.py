"""Say, Play and Pause in a row, and the <Gather> after them with its nested prompts, play as one
Segment: a key ends a prompt and counts only where the Gather listens (keys are lost elsewhere)."""
from __future__ import annotations

from telephony.emulator.waits import Segment

PROMPT_VERBS = ("Say", "Play", "Pause")


def follow(run):
    call = run.call
    items = []
    while run.pos < len(run.verbs) and run.verbs[run.pos].tag in PROMPT_VERBS:
        verb = run.next_verb()
        items += run.handler(verb.tag).prompts(call, verb, in_gather=False)
    gather, gathering = None, run.handler("Gather")
    if run.pos < len(run.verbs) and run.verbs[run.pos].tag == "Gather" and run.allows("Gather"):
        element = run.next_verb()
        nested = []
        for child in element:
            nested += run.handler(child.tag).prompts(call, child, in_gather=True)
        gather = gathering.spec(run, element, prompted=bool(nested))
        items += nested
    first_key = None
    if items:
        first_key = yield Segment(items, gather)
    if gather is not None:
        return (yield from gathering.collect(run, gather, first_key))
    return None
