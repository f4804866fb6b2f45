"""Prompts and keys: a prompt plays out or is cut, and a key lands on whatever plays or waits now.

Keys count only inside <Gather>: a key during a <Say>/<Play> outside one is lost; a key during a
prompt nested in <Gather input="dtmf"> ends that prompt (and the Gather's remaining prompts) and counts;
on a <Connect><Stream> it travels as a `dtmf` message."""
from __future__ import annotations

from telephony.emulator import stepping
from telephony.emulator.streams import open_stream
from telephony.emulator.waits import GatherInput, Segment, StreamBlock


def key(call, digit: str) -> None:
    state = call.wait_state
    if isinstance(state, Segment):
        item = state.items[state.pos] if state.pos < len(state.items) else None
        if item is not None and item.in_gather and state.gather.dtmf:
            cut(call, state)
            call.log.append(("keyed", digit))
            stepping.resume(call, state, digit)
            return
    elif isinstance(state, GatherInput) and state.gather.dtmf:
        call.log.append(("keyed", digit))
        stepping.resume(call, state, ("key", digit))
        return
    elif isinstance(state, StreamBlock):
        call.log.append(("keyed", digit))
        open_stream(call, state.stream)
        state.stream.send_dtmf(digit)
        return
    call.lost_keys.append(digit)
    call.log.append(("keyed, lost", digit))
    call.emulator.listeners.notify("key_lost", call, digit=digit)


def cut(call, segment: Segment) -> None:
    """The prompt playing now stops; the ones after it never play."""
    keep = _said_before(segment, segment.pos) + 1
    for index in sorted(segment.announced[keep:], reverse=True):
        if index < len(call.heard):
            del call.heard[index]
    for index in sorted(segment.logged[keep:], reverse=True):
        if index < len(call.log):
            del call.log[index]
    segment.announced, segment.logged = segment.announced[:keep], segment.logged[:keep]
    if segment.pos < len(segment.items) and segment.items[segment.pos].kind != "pause":
        call.log.append(("prompt cut", segment.items[segment.pos].text))
        call.emulator.listeners.notify("prompt_cut", call, text=segment.items[segment.pos].text, index=segment.pos)


def _said_before(segment: Segment, pos: int) -> int:
    """Index (in `announced`) of the say item at `pos`, counting says only."""
    return sum(1 for p in segment.items[:pos + 1] if p.kind == "say") - 1
