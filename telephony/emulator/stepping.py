"""A call's program (a generator following TwiML, program.py) stepped from one wait to the next:
started, resumed with what it waited for, or interrupted from outside; what it waits for now is
`call.wait_state`, and the prompts it is about to play are announced (heard, logged, reported)."""
from __future__ import annotations

from telephony.emulator.waits import Prompt, Segment


def begin(call, program) -> None:
    call.program = program
    step(call, lambda: next(program))


def resume(call, expected, value) -> None:
    """Send `value` into the program if it still waits for `expected`."""
    if call.program is None or call.wait_state is not expected:
        return
    step(call, lambda: call.program.send(value))


def throw(call, exc: Exception) -> None:
    if call.program is None:
        return
    step(call, lambda: call.program.throw(exc))


def step(call, action) -> None:
    em = call.emulator
    em.depth += 1
    try:
        state = action()
    except StopIteration:
        call.program, call.wait_state = None, None
        return
    finally:
        em.depth -= 1
    set_wait(call, state)


def set_wait(call, state) -> None:
    call.wait_state = state
    em = call.emulator
    if isinstance(state, Segment):
        if not em.live:
            # Stepped: the caller will hear all of it unless they interrupt (then it is taken back).
            for item in state.items:
                announce(call, state, item)
        elif state.items:
            announce(call, state, state.items[0])
    em.listeners.changed(call)


def announce(call, segment: Segment, item: Prompt) -> None:
    if item.kind == "say":
        segment.announced.append(len(call.heard))
        segment.logged.append(len(call.log))
        call.heard.append(item.text)
        call.log.append(("heard", item.text))
        call.emulator.listeners.notify("prompt", call, text=item.text, voice=item.voice, language=item.language,
                             seconds=item.seconds, in_gather=item.in_gather)
    elif item.kind == "play":
        call.played.append(item.text)
        call.log.append(("played", item.text))
        call.emulator.listeners.notify("play", call, url=item.text)
