"""A ringing call is picked up: in-progress, answering-machine detection (synchronous: AnsweredBy on
the url request; asynchronous: the verdict later, status.send_amd), the answered status callback, then
its TwiML (or, for a <Dial>led party, its whisper document and the conversation)."""
from __future__ import annotations

from telephony.emulator.program import start, start_dialled
from telephony.emulator.status import ringing, status_callback
from telephony.emulator.waits import Target
from telephony.rest import rfc2822


def answer(call, answered_by: str | None = None, verdict_now: bool = False) -> None:
    em = call.emulator
    if call.status not in ("queued", "ringing"):
        raise AssertionError(f"{call!r} cannot be answered: it is {call.status}")
    if call.status == "queued":
        ringing(call)
    call.status = "in-progress"
    call.answered_at = em.now()
    detection = call.record.get("machine_detection")
    sync_amd = detection and str(call.record.get("async_amd", "false")).lower() != "true"
    params = {}
    if sync_amd:
        call.answered_by = answered_by or "human"
        params["AnsweredBy"] = call.answered_by
    em.rest.update_record(call.sid, status="in-progress", start_time=rfc2822(em.clock()),
                          **({"answered_by": call.answered_by} if call.answered_by else {}))
    call.log.append(("answered", call.answered_by or ""))
    em.listeners.notify("answered", call)
    status_callback(call, "in-progress", event="answered")
    if detection and not sync_amd:
        call.amd_pending = answered_by or "human"
        if verdict_now:
            em.events.post(("amd", call, call.amd_pending))
    if call.direction == "outbound-dial":
        start_dialled(call)
        return
    url, twiml = call.record.get("url"), call.record.get("twiml")
    start(call, Target(url, (call.record.get("method") or "POST").upper(), params) if url else Target(twiml=twiml))
