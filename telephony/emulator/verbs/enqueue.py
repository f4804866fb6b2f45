"""<Enqueue waitUrl action>: the caller waits in a queue. The waitUrl document (Play, Say, Pause,
Gather, Redirect, Leave, Hangup only; with QueuePosition, QueueSid, QueueTime, AvgQueueTime,
CurrentQueueSize) is fetched again when it runs out; without one Twilio's hold music plays until
something takes the caller out. The action hears QueueResult: leave, bridged (after the conversation),
hangup, redirected (a REST queue member update, after which the member's URL is followed)."""
from __future__ import annotations

import math

from telephony.emulator.basics import WAIT_VERBS, WHISPER_VERBS
from telephony.emulator.waits import (Dequeued, HungUp, LeaveQueue, Prompt, QueueDial, QueueRefetch, Redirected,
                                      RemovedFromQueue, Segment, Talking, Target)


def follow(run):
    call, verb = run.call, run.next_verb()
    em = call.emulator
    name = (verb.text or "").strip()
    action = run.url_attribute(verb, "action")
    method = verb.attrib.get("method", "POST").upper()
    wait_url = run.url_attribute(verb, "waitUrl")
    wait_method = verb.attrib.get("waitUrlMethod", "POST").upper()
    queue = em.rooms.queue(name)
    queue.join(call)
    call.queue = name
    call.log.append(("enqueued", name))
    em.listeners.changed(call)
    for waiting in list(em.calls.values()):  # a <Dial><Queue> waiting for this queue bridges now
        if isinstance(waiting.wait_state, QueueDial) and waiting.wait_state.queue is queue:
            em.events.post(("wake", waiting, waiting.wait_state, ("member", call)))
            break
    result = None
    follow_next: Target | None = None
    try:
        try:
            yield from _hold(run, queue, wait_url, wait_method)
        except LeaveQueue:
            result = "leave"
        except Dequeued as dequeued:
            result = "bridged"
            yield from _bridged(run, queue, dequeued)
        except RemovedFromQueue as removed:
            result = "redirected"
            follow_next = Target(removed.url, removed.method)
    except HungUp:
        _report(call, queue, action, "hangup" if call.queue else "bridged")
        raise
    except Redirected:
        _report(call, queue, action, "redirected")
        raise
    finally:
        if queue.remove(call) or call.queue:
            call.queue = None
            em.listeners.changed(call)
    if follow_next is not None:
        _report(call, queue, action, result)
        return follow_next
    call.log.append(("left queue", f"{name}: {result}"))
    return Target(action, method, _result_params(call, queue, result)) if action else None


def _hold(run, queue, wait_url: str | None, wait_method: str):
    call = run.call
    while True:
        if wait_url is None:
            # Twilio's default hold music, until something takes the caller out of the queue.
            yield Segment([Prompt("play", "hold music", math.inf, False)], None)
            continue
        target: Target | None = Target(wait_url, wait_method, queue.params_for(call))
        heard = len(call.heard) + len(call.played)
        acted = call.actions
        while target is not None:
            target = yield from run.nested(target, WAIT_VERBS, queue=queue)
            if target is not None:
                target.params = {**queue.params_for(call), **target.params}
        if not call.emulator.live and call.actions == acted:
            # Stepped, and nothing in this wait document waited for the caller: halt here, or the
            # loop would never give the test back control (wait() lets time pass).
            yield QueueRefetch(queue)
        elif len(call.heard) + len(call.played) == heard:
            yield Segment([Prompt("pause", "", 1.0, False)], None)  # an empty wait document


def _bridged(run, queue, dequeued: Dequeued):
    """A <Dial><Queue> took the caller: its url document plays to them, then they talk."""
    call = run.call
    queue_time = queue.time_of(call)
    queue.remove(call)
    call.queue = None
    call.log.append(("dequeued by", dequeued.by.sid))
    if dequeued.url:
        yield from run.nested(Target(dequeued.url, dequeued.method, {
            "QueueSid": queue.sid, "QueueTime": str(queue_time), "DequeingCallSid": dequeued.by.sid}), WHISPER_VERBS)
    call.peer = dequeued.by
    call.emulator.events.post(("wake", dequeued.by, None, ("bridged", call)))
    yield Talking(peer=dequeued.by)
    call.peer = None


def _result_params(call, queue, result: str) -> dict:
    return {"QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(queue.time_of(call))}


def _report(call, queue, action: str | None, result: str) -> None:
    """The caller left the queue without the document going on: the action is told, its answer ignored."""
    call.log.append(("left queue", f"{queue.name}: {result}"))
    if action:
        call.emulator.webhooks.request(action, {**call.params(), **_result_params(call, queue, result)}, "POST",
                                       twiml=False)
