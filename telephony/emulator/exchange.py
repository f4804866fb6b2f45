"""The telephone exchange: calls come in to the account's numbers, the REST API and <Dial> place
calls, and a placed call rings the party's phone, which answers by itself or waits for a person."""
from __future__ import annotations

from dataclasses import dataclass

from telephony.emulator.answering import answer
from telephony.emulator.basics import new_sid
from telephony.emulator.call import Call
from telephony.emulator.ending import ring_out
from telephony.emulator.status import amd_seconds, ringing
from telephony.rest import ENDED, rfc2822


@dataclass
class Phone:
    """Who answers calls to an address (a number, client:name, sip:...)."""

    address: str
    answer: str = "manual"  # manual: rings until a person (the test, the browser) decides
    ring_seconds: float = 2.0  # live mode: rings before an automatic answer


class Exchange:
    def __init__(self, account):
        self.account = account

    def new_call(self, sid: str, from_number: str, to_number: str, direction: str, record: dict | None = None,
                 parent: Call | None = None) -> Call:
        em = self.account
        call = Call(em, sid, from_number, to_number, direction, record, parent)
        em.calls[sid] = call
        if record is None or not record.get("api"):
            em.rest.add_call({"sid": sid, "to": to_number, "from": from_number, "direction": direction,
                              "status": call.status, "date_created": rfc2822(em.clock()),
                              "created_at": em.clock().isoformat(),
                              "parent_call_sid": parent.sid if parent else None, **(record or {})})
        return call

    def call_in(self, from_number: str, to_number: str) -> Call:
        """A caller dials one of the account's numbers (the call is not started yet)."""
        return self.new_call(new_sid("CA"), from_number, to_number, "inbound")

    def place(self, to: str, from_number: str, direction: str, parent: Call | None = None, url: str | None = None,
              method: str = "POST", timeout: float = 30, status_callback: str | None = None,
              events: list[str] | None = None) -> Call:
        """A <Dial> rings a party."""
        record = {"url": url, "method": method, "timeout": str(int(timeout)), "status_callback": status_callback,
                  "status_callback_event": events or None, "api": False}
        call = self.new_call(new_sid("CA"), from_number, to, direction, record, parent)
        ringing(call)
        self.ring(call)
        return call

    def dial_out(self, record: dict, adopt: bool = False) -> None:
        """A call the REST API created rings its party (adopted: one another process created)."""
        em = self.account
        if record["sid"] in em.calls:
            return
        call = Call(em, record["sid"], record.get("from") or em.number, record["to"], "outbound-api", record)
        em.calls[call.sid] = call
        if adopt and record.get("status") not in ("queued", None):
            call.status = record["status"]
            if call.status in ENDED:
                return
        else:
            ringing(call)
        self.ring(call)

    def ring(self, call: Call) -> None:
        em = self.account
        phone = em.phones.get(call.to_number) or Phone(call.to_number, em.default_answer)
        timeout = float(call.record.get("timeout") or 60)
        call.ring_deadline = em.now() + timeout
        if em.live:
            em.live_driver.schedule(timeout, call, None, ("ring_timeout",))
        if phone.answer == "manual":
            return
        if em.live:
            em.live_driver.schedule(min(phone.ring_seconds, timeout) if phone.answer != "no-answer" else timeout,
                                    call, call.wait_state, ("auto_answer", phone.answer))
            return
        em.events.post(("auto_answer", call, phone.answer))  # after whoever placed the call waits for it

    def auto_answer(self, call: Call, how: str) -> None:
        em = self.account
        if call.status not in ("queued", "ringing"):
            return
        if how in ("busy", "failed", "no-answer"):
            if how == "no-answer":
                em.time.advance(float(call.record.get("timeout") or 60))
            ring_out(call, how)
            return
        answer(call, how if how != "human" or call.record.get("machine_detection") else None, verdict_now=not em.live)
        if em.live and call.amd_pending:
            em.live_driver.schedule(amd_seconds(how), call, None, ("amd_verdict", how))
