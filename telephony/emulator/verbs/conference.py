"""<Dial><Conference startConferenceOnEnter endConferenceOnExit>: a room of calls. It starts when a
participant who may start it enters; when one who ends it leaves (or the last one does) the others
are woken to end too. Not emulated: the room's waitUrl music and participant callbacks."""
from __future__ import annotations

from telephony.emulator.waits import Talking


def join(run, noun):
    call = run.call
    em = call.emulator
    room = em.rooms.conference((noun.text or "").strip())
    start = noun.attrib.get("startConferenceOnEnter", "true") == "true"
    ends = noun.attrib.get("endConferenceOnExit", "false") == "true"
    room.participants.append(call)
    call.dialled = room.sid
    if ends:
        room.enders.add(call.sid)
    call.conference = room.name
    call.log.append(("joined conference", room.name))
    if start and not room.started:
        room.started = True
    em.listeners.changed(call)
    try:
        yield Talking(conference=room)
    finally:
        if call in room.participants:
            room.participants.remove(call)
        call.conference = None
        if (call.sid in room.enders and room.started) or not room.participants:
            room.ended = True
            for other in list(room.participants):
                em.events.post(("wake", other, None, ("ended",)))
            em.rooms.conferences.pop(room.name, None)
        em.listeners.changed(call)
    return {"status": "completed"}
