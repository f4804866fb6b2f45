"""The stepped driver (tests, `ivr devphone call`): synchronous and deterministic, on virtual time.

After a caller action the emulator runs until every call waits for a person again: a <Gather> (its
prompts listed in `heard`), a <Connect><Stream>, a queue, a ringing phone, a conversation. Prompts
nobody can interrupt play at once. REST requests that arrive meanwhile (from the app's threads too) are
applied in order; after speech the driver waits a bounded real time for the app's reaction."""
from __future__ import annotations

import time

from telephony import audio
from telephony.emulator.events import process_events
from telephony.emulator.stepping import resume
from telephony.emulator.streams import open_stream
from telephony.emulator.waits import GatherInput, Segment, StreamBlock
from telephony.rest import ENDED

SPEECH_SETTLE_SECONDS = 0.4  # after the app reacted to speech, how long to watch for a follow-up


def run(em) -> None:
    """Apply whatever arrived (REST requests, streams closed) and run until every call waits again."""
    if em.live or em.depth:
        return  # the live worker applies events itself; inside a step, the step's caller settles
    with em.driving():
        settle(em)


def settle(em, limit: int = 10000) -> None:
    for _ in range(limit):
        if not (process_events(em) or (not em.live and _auto_step(em))):
            return
    raise RuntimeError("the emulator keeps running: a loop in the TwiML?")


def _auto_step(em) -> bool:
    """Play what nobody can interrupt (a phone that answers by itself was posted as an event)."""
    for call in list(em.calls.values()):
        state = call.wait_state
        if call.status in ENDED or state is None or call.stops_at_prompts:
            continue
        if isinstance(state, Segment) and not state.listening and state.finite \
                and not any(s.carries_caller for s in call.forked.values()):
            em.time.advance(sum(p.seconds for p in state.items))
            resume(call, state, None)
            return True
    return False


def caller_acts(call, let_prompts_play: bool) -> None:
    """Before a caller action (holding the driver): the call must still be on; the prompts play to
    their end first unless the action barges in."""
    settle(call.emulator)
    if call.status in ENDED:
        raise AssertionError(f"{call!r} has ended; last heard: {call.last_heard!r}")
    call.actions += 1
    if let_prompts_play:
        finish_prompts(call)


def finish_prompts(call) -> None:
    """Let the current prompts play to their end."""
    state = call.wait_state
    if isinstance(state, Segment) and state.finite:
        call.emulator.time.advance(sum(p.seconds for p in state.items[state.pos:]))
        resume(call, state, None)
        settle(call.emulator)


def await_stream_reaction(call) -> None:
    """After keys on a <Connect><Stream>: wait (bounded) for the app to close it."""
    if isinstance(call.wait_state, StreamBlock) and call.wait_state.stream.opened:
        started = time.monotonic()
        await_reaction(call, started, started, 10.0)


def silence_until_closed(call, max_audio_seconds: float = 30.0) -> None:
    em = call.emulator
    state = call.wait_state
    with em.driving():
        open_stream(call, state.stream)
    started = time.monotonic()
    sent = 0.0
    while sent < max_audio_seconds and call.wait_state is state and not state.stream.closed:
        sent += state.stream.send_audio(audio.SILENCE_FRAME * 50, paced=False)
        em.events.wait(0.05)
        run(em)
    await_reaction(call, started, started, 5.0)


def await_reaction(call, started: float, audio_end: float, timeout: float) -> None:
    """Run the emulator while the app reacts to what the caller did: return once it moved the call
    on after the audio ended (REST update, stream closed) and nothing followed for a moment; keep
    waiting while the call sits in a silent wait the app put it in (it is still listening)."""
    em = call.emulator
    deadline = max(audio_end, time.monotonic()) + timeout
    settled_at = None
    seen = len(call.reactions)
    while time.monotonic() < deadline:
        em.events.wait(0.05)
        run(em)
        if call.status in ENDED:
            return
        new = call.reactions[seen:]
        if new:
            seen = len(call.reactions)
            if time.monotonic() >= audio_end or any(kind == "closed" for _, kind in new):
                settled_at = time.monotonic()
        if settled_at is not None and time.monotonic() - settled_at >= SPEECH_SETTLE_SECONDS:
            if _listening_silently(call):
                settled_at = None
                continue
            return


def _listening_silently(call) -> bool:
    """Put by the app's update into a wait with nothing to hear (a Pause, a prompt-less Gather) while
    a stream still carries the caller: the app is still working on the speech."""
    if call.cause != "update" or not any(s.carries_caller for s in call.forked.values()):
        return False
    state = call.wait_state
    if isinstance(state, Segment):
        return state.silent
    if isinstance(state, GatherInput):
        return not state.gather.prompted
    return False
