"""How a call ends: a party hangs up (or Twilio ends it), or a placed call rings out (busy, no-answer,
failed, canceled). Its streams stop, it leaves its queue, whoever talked to it or dialled it is told,
and the completed status callback goes out."""
from __future__ import annotations

from telephony.emulator import stepping, streams
from telephony.emulator.status import status_callback
from telephony.emulator.waits import HungUp, Ringing, Talking
from telephony.rest import ENDED


def hang_up(call, status: str = "completed") -> None:
    """This party hangs up (or Twilio ends the call)."""
    if call.status in ENDED:
        return
    if call.program is not None:
        stepping.throw(call, HungUp(status))
        if call.status not in ENDED:
            finish(call, status)
    else:
        finish(call, status if call.status == "in-progress" else ("canceled" if status == "completed" else status))


def ring_out(call, status: str) -> None:
    if call.status in ENDED:
        return
    if call.status == "in-progress":
        raise AssertionError(f"{call!r} was answered; hang it up instead")
    finish(call, status)


def finish(call, status: str) -> None:
    em = call.emulator
    if call.status in ENDED:
        return
    program, call.program = call.program, None
    if program is not None and program.gi_running is False:
        try:
            program.close()
        except Exception:  # noqa: BLE001 - a program closed mid-verb
            pass
    call.status = status
    call.wait_state = None
    call.ended_at = em.now()
    streams.stop_all(call)
    for queue in em.rooms.queue_map.values():
        queue.remove(call)
    call.queue = None
    duration = int(call.ended_at - call.answered_at) if call.answered_at is not None else 0
    em.rest.update_record(call.sid, status=status, duration=str(duration))
    call.log.append(("call ended", status))
    em.listeners.notify("ended", call, status=status)
    for other in em.calls.values():
        if other is call or other.status in ENDED:
            continue
        state = other.wait_state
        if isinstance(state, Talking) and state.peer is call:
            em.events.post(("wake", other, state, ("ended",)))
        elif isinstance(state, Ringing) and state.child is call:
            outcome = ("unanswered", status) if call.answered_at is None else ("ended",)
            em.events.post(("wake", other, state, outcome))
    status_callback(call, status, event="completed", CallDuration=str(duration))
    em.listeners.changed(call)
