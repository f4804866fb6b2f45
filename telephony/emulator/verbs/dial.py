"""<Dial action timeout callerId>: with a Number, Client or Sip noun (or a bare number) the party's
phone rings (its `url` document plays to it before the conversation); the Queue noun bridges the
queue's front caller (dial_queue.py); the Conference noun joins a room (conference.py). The action
hears DialCallStatus, DialCallSid, DialBridged and DialCallDuration; a caller hanging up during the
Dial still has the action requested (its answer ignored). Only the first noun is dialled."""
from __future__ import annotations

from urllib.parse import urljoin

from telephony.emulator.ending import hang_up
from telephony.emulator.verbs import conference, dial_queue
from telephony.emulator.waits import HungUp, Interrupt, Ringing, Talking, Target
from telephony.rest import ENDED

PARTIES = ("Number", "Client", "Sip")


def follow(run):
    call, verb = run.call, run.next_verb()
    em = call.emulator
    action = run.url_attribute(verb, "action")
    method = verb.attrib.get("method", "POST").upper()
    timeout = float(verb.attrib.get("timeout", "30"))
    nouns = [n for n in verb if n.tag in PARTIES + ("Queue", "Conference")]
    noun = nouns[0] if nouns else None
    started = em.now()
    call.dialled = None
    try:
        if noun is None or noun.tag in PARTIES:
            result = yield from _dial_party(run, verb, noun, timeout)
        elif noun.tag == "Queue":
            result = yield from dial_queue.bridge(run, noun, timeout)
        else:
            result = yield from conference.join(run, noun)
    except HungUp:
        if action:  # the caller is gone: Twilio still tells the action URL; nothing it answers plays
            bridged = call.dialled is not None
            em.webhooks.request(action, {
                **call.params(), "DialCallStatus": "completed" if bridged else "canceled",
                **({"DialCallSid": call.dialled} if bridged and call.dialled.startswith("CA") else {}),
                "DialBridged": str(bridged).lower(),
                "DialCallDuration": str(int(em.now() - started))}, "POST", twiml=False)
        raise
    params = {"DialCallStatus": result.pop("status"), "DialCallDuration": str(int(em.now() - started)), **result}
    call.log.append(("dial ended", params["DialCallStatus"]))
    return Target(action, method, params) if action else None


def _address(verb, noun) -> str:
    if noun is None:
        return (verb.text or "").strip()
    if noun.tag == "Client":
        identity = (noun.text or "").strip() or (noun.findtext("Identity") or "").strip()
        return identity if identity.startswith("client:") else f"client:{identity}"
    return (noun.text or "").strip()


def _dial_party(run, verb, noun, timeout: float):
    call = run.call
    address = _address(verb, noun)
    caller_id = verb.attrib.get("callerId") or (call.from_number if call.direction == "inbound" else call.to_number)
    attrib = noun.attrib if noun is not None else {}
    child = call.emulator.exchange.place(
        address, caller_id, "outbound-dial", parent=call,
        url=urljoin(run.doc_url or "", attrib["url"]) if attrib.get("url") else None,
        method=attrib.get("method", "POST"), timeout=timeout, status_callback=attrib.get("statusCallback"),
        events=attrib.get("statusCallbackEvent", "").split())
    call.log.append(("dialling", address))
    try:
        event = yield Ringing(child, timeout)
        if event[0] != "answered":
            return {"status": event[1], "DialCallSid": child.sid, "DialBridged": "false"}
        call.peer, call.dialled = child, child.sid
        yield Talking(peer=child)
        return {"status": "completed", "DialCallSid": child.sid, "DialBridged": "true"}
    except Interrupt:
        if child.status not in ENDED:
            hang_up(child, "completed" if child.status == "in-progress" else "canceled")
        raise
    finally:
        call.peer = None
