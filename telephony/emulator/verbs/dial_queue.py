"""<Dial><Queue url>: bridges the queue's front caller (its <Enqueue> ends bridged; the `url` document
plays to that caller first, with DequeingCallSid); an empty queue waits up to the Dial's timeout for
someone to join."""
from __future__ import annotations

from telephony.emulator.waits import Dequeued, Interrupt, QueueDial, Talking
from telephony.rest import ENDED


def bridge(run, noun, timeout: float):
    call = run.call
    em = call.emulator
    queue = em.rooms.queue((noun.text or "").strip())
    url = run.url_attribute(noun, "url")
    method = noun.attrib.get("method", "POST").upper()
    holder = queue.members[0] if queue.members else None
    if holder is None:
        call.log.append(("dialling queue, empty", queue.name))
        event = yield QueueDial(queue, timeout)
        if event[0] != "member":
            return {"status": "no-answer", "DialBridged": "false"}
        holder = event[1]
    call.log.append(("bridging from queue", f"{queue.name}: {holder.sid}"))
    queue.remove(holder)
    call.dialled = holder.sid
    em.events.post(("dequeue", holder, Dequeued(call, url, method)))
    try:
        event = yield Talking(peer=holder)
        if event and event[0] == "bridged":
            call.peer = holder
            yield Talking(peer=holder)
    except Interrupt:
        if holder.status not in ENDED and holder.peer is call:
            em.events.post(("wake", holder, None, ("ended",)))
        raise
    finally:
        call.peer = None
    return {"status": "completed", "DialCallSid": holder.sid, "DialBridged": "true", "QueueSid": queue.sid}
