"""A call's progress as Twilio reports it: status callbacks (initiated, ringing, answered only when
asked for, completed always; an inbound number's status URL hears completed) and answering-machine
detection's asynchronous verdict."""
from __future__ import annotations

from telephony.rest import rfc2822

AMD_SECONDS = {"human": 2.1, "machine_start": 3.5}  # how long detection takes before the verdict


def amd_seconds(answered_by: str) -> float:
    return AMD_SECONDS.get(answered_by, 4.0)


def ringing(call) -> None:
    """A placed call starts ringing: initiated, then ringing."""
    em = call.emulator
    status_callback(call, "initiated", event="initiated")
    call.status = "ringing"
    em.rest.update_record(call.sid, status="ringing")
    status_callback(call, "ringing", event="ringing")
    call.log.append(("ringing", call.to_number))
    em.listeners.notify("ringing", call)


def status_callback(call, status: str, event: str | None = None, force: bool = False, **extra) -> None:
    em = call.emulator
    if call.direction == "inbound":
        url = em.directory.status_url_for(call.to_number)
        if not url or (event not in ("completed", None) and not force):
            return
        method = "POST"
    else:
        url = call.record.get("status_callback")
        method = (call.record.get("status_callback_method") or "POST").upper()
        wanted = call.record.get("status_callback_event") or ["completed"]
        if not url or (not force and event is not None and event not in wanted and event != "completed"):
            return
    call.status_seq += 1
    params = {**call.params(), "CallStatus": status, "Timestamp": rfc2822(em.clock()),
              "CallbackSource": "call-progress-events", "SequenceNumber": str(call.status_seq - 1), **extra}
    if call.answered_by:
        params["AnsweredBy"] = call.answered_by
    em.webhooks.request(url, params, method, twiml=False)


def send_amd(call, answered_by: str) -> None:
    """Asynchronous answering-machine detection reaches its verdict."""
    call.amd_pending = None
    url = call.record.get("amd_callback")
    if not url:
        raise AssertionError(f"{call!r} was placed without async_amd_status_callback")
    call.log.append(("answering machine detection", answered_by))
    em = call.emulator
    em.webhooks.request(url, {"AccountSid": em.account_sid, "CallSid": call.sid, "AnsweredBy": answered_by,
                              "MachineDetectionDuration": str(int(amd_seconds(answered_by) * 1000))},
                        (call.record.get("amd_callback_method") or "POST").upper(), twiml=False)
