"""What reaches the emulator from outside a call's program, queued in order and applied by a driver:
the REST API's requests (from the app's threads), a media stream the app closed, a call woken by
another (bridged, ended, dequeued), a person's action in live mode, a timer. EVENTS says what each
kind does."""
from __future__ import annotations

import threading
import time
from collections import deque

from telephony.emulator.answering import answer
from telephony.emulator.ending import hang_up, ring_out
from telephony.emulator.playing import cut, key
from telephony.emulator.program import start
from telephony.emulator.status import amd_seconds, send_amd
from telephony.emulator.stepping import resume, throw
from telephony.emulator.waits import Redirected, RemovedFromQueue, Segment, StreamBlock, Talking, Target
from telephony.rest import ENDED


class Events:
    """The queue of events, safe to post to from any thread."""

    def __init__(self):
        self._events: deque = deque()
        self.cond = threading.Condition()

    def post(self, event) -> None:
        with self.cond:
            self._events.append(event)
            self.cond.notify_all()

    def wait(self, timeout: float) -> None:
        """Until something is posted (or `timeout` seconds)."""
        with self.cond:
            if not self._events:
                self.cond.wait(timeout)

    def pop(self):
        """The oldest event, or None."""
        with self.cond:
            return self._events.popleft() if self._events else None

    def __bool__(self) -> bool:
        return bool(self._events)


def process_events(em) -> bool:
    """Apply every queued event; whether there was any."""
    did = False
    while (event := em.events.pop()) is not None:
        did = True
        apply(em, event)
    return did


def apply(em, event) -> None:
    handler = EVENTS.get(event[0])
    if handler is not None:
        handler(em, *event[1:])


def _update(em, sid: str, form: dict) -> None:
    """calls(sid).update: status=completed|canceled ends the call; url/twiml moves it on."""
    call = em.calls.get(sid)
    if call is None or call.status in ENDED:
        return
    call.updates_applied += 1
    call.reactions.append((time.monotonic(), "update"))
    if form.get("Status") in ("completed", "canceled"):
        if form["Status"] == "canceled" and call.status == "in-progress":
            return
        call.log.append(("ended by the app", form["Status"]))
        hang_up(call, form["Status"] if call.status != "in-progress" else "completed")
        return
    target = Target(form["Url"], (form.get("Method") or "POST").upper()) if form.get("Url") else \
        Target(twiml=form.get("Twiml"))
    call.log.append(("moved on by the app", form.get("Url") or "twiml"))
    if isinstance(call.wait_state, Segment):
        cut(call, call.wait_state)  # Twilio stops the prompt playing now; the rest never plays
    if call.program is not None:
        throw(call, Redirected(target))
    elif call.status == "in-progress":
        call.cause = "update"
        start(call, target)
    else:
        call.record = {**call.record, "url": target.url, "twiml": target.twiml}


def _member_update(em, name: str, sid: str, url: str, method: str) -> None:
    call = em.calls.get(sid)
    if call is not None and call.queue == name:
        throw(call, RemovedFromQueue(url, method))


def _dequeue(em, holder, dequeued) -> None:
    if holder.status in ENDED:
        em.events.post(("wake", dequeued.by, dequeued.by.wait_state, ("ended",)))
        return
    throw(holder, dequeued)


def _stream_closed(em, call, stream) -> None:
    # Only a stream that carried what the caller just said closing is the app's reaction to it;
    # an earlier question's stream closing meanwhile is not.
    if stream.spoken_to or isinstance(call.wait_state, StreamBlock):
        call.reactions.append((time.monotonic(), "closed"))
    if isinstance(call.wait_state, StreamBlock) and call.wait_state.stream is stream:
        resume(call, call.wait_state, ("closed",))
    else:
        for name, forked in list(call.forked.items()):
            if forked is stream:
                del call.forked[name]
                call.log.append(("stream closed by the app", name))


def _wake(em, call, expected, value) -> None:
    """Another call moved this one on (`expected`: the wait it must still be in; None: any; a class:
    any wait of that kind)."""
    if call.status in ENDED:
        return
    if expected is None or (isinstance(expected, type) and isinstance(call.wait_state, expected)):
        expected = call.wait_state
    if value[0] == "bridged" and isinstance(call.wait_state, Talking):
        resume(call, call.wait_state, value)
    else:
        resume(call, expected, value)


def _amd(em, call, answered_by: str) -> None:
    if call.amd_pending:
        send_amd(call, answered_by)


def _key(em, call, digit: str) -> None:
    if call.status not in ENDED:
        key(call, digit)


def _hang_up(em, call) -> None:
    if call.status in ("queued", "ringing") and call.direction != "inbound":
        ring_out(call, "busy")  # the called party declines, as with the stepped hang_up()
    else:
        hang_up(call, "completed" if call.status == "in-progress" else "canceled")


def _answer(em, call, answered_by) -> None:
    if call.status in ("queued", "ringing"):
        answer(call, answered_by)
        if em.live and call.amd_pending:
            em.live_driver.schedule(amd_seconds(call.amd_pending), call, None, ("amd_verdict", call.amd_pending))


def _prompt_done(em, call, segment, index: int) -> None:
    if call.wait_state is segment and segment.pos == index:
        em.live_driver.next_item(call, segment)


EVENTS = {
    "dial_out": lambda em, record: em.exchange.dial_out(record),
    "update": _update,
    "member_update": _member_update,
    "dequeue": _dequeue,
    "stream_closed": _stream_closed,
    "wake": _wake,
    "amd": _amd,
    "key": _key,
    "hang_up": _hang_up,
    "answer": _answer,
    "run": lambda em, action: action(),
    "auto_answer": lambda em, call, how: em.exchange.auto_answer(call, how),
    "timer": lambda em, entry: em.live_driver.fire(entry),
    "prompt_done": _prompt_done,
}
