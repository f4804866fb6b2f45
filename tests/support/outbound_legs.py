"""Twilio's part in the calls our dispatcher places: a test answers, presses, hangs up, or lets a
leg ring out, and the matching signed webhooks (status callbacks, AMD verdict, TwiML fetches) reach
the app exactly as Twilio would send them. Built on the fake REST API (tests/support/twilio_rest.py)
for what was created, and on the voice double (tests/support/twilio_voice.py) for signing and
following TwiML."""
from __future__ import annotations

from dataclasses import dataclass, field

from tests.support.twilio_voice import ACCOUNT_SID, PhoneCall, TwilioDouble


@dataclass
class OutboundLeg(PhoneCall):
    record: dict = field(default_factory=dict)
    steers_seen: int = 0

    def _params(self) -> dict:
        return {**super()._params(), "Direction": "outbound-api", "CallStatus": self.status}

    def _event(self, status: str, **extra) -> None:
        self.status = status
        url = self.record.get("status_callback")
        if url:
            self.twilio.post(url, {**self._params(), "CallStatus": status, **extra})

    # ---- what the called party does ---------------------------------------------------------------

    def ring(self) -> "OutboundLeg":
        self._event("initiated")
        self._event("ringing")
        return self

    def answer(self) -> "OutboundLeg":
        self.status = "in-progress"
        self.fake.set_status(self.call_sid, "in-progress")
        self._event("in-progress")
        self._fetch(self.record["url"], {})
        return self

    def ring_out(self, status: str = "no-answer") -> None:
        """busy, no-answer, failed, canceled: the call ends without being answered."""
        self.fake.set_status(self.call_sid, status)
        self.ended = True
        self._event(status)

    def amd(self, answered_by: str) -> None:
        self.twilio.post(self.record["amd_callback"], {**self._params(), "AnsweredBy": answered_by,
                                                       "MachineDetectionDuration": "2100"})

    def follow_steering(self) -> bool:
        """Apply what the app asked Twilio to do with this live call (calls(sid).update). True if anything."""
        updates = self.fake.call(self.call_sid)["updates"][self.steers_seen:]
        self.steers_seen += len(updates)
        for update in updates:
            if update.get("Status") in ("completed", "canceled"):
                self._end(update["Status"])
            elif update.get("Twiml"):
                self.pending = None
                from tests.support.twiml_check import check

                root = check(update["Twiml"])
                self._run(list(root), in_queue=False)
        return bool(updates)

    def _end(self, status: str) -> None:
        if self.ended:
            return
        self.ended = True
        self.pending = None
        self.fake.set_status(self.call_sid, status)
        self._event(status, CallDuration="60")

    @property
    def fake(self):
        return self.twilio.rest


class Outbound:
    """The legs of calls the app created, by SID or by who was called."""

    def __init__(self, double: TwilioDouble, rest):
        self.double = double
        double.rest = rest
        self.rest = rest
        self.legs: dict[str, OutboundLeg] = {}

    def leg(self, sid: str) -> OutboundLeg:
        if sid not in self.legs:
            record = self.rest.call(sid)
            self.legs[sid] = OutboundLeg(self.double, sid, record["from"] or "+15005550006", record["to"],
                                         status="queued", record=record)
        return self.legs[sid]

    def to(self, address: str, index: int = -1) -> OutboundLeg:
        calls = self.rest.calls_to(address)
        assert calls, f"no call was placed to {address}; calls: {[c['to'] for c in self.rest.calls]}"
        return self.leg(calls[index]["sid"])

    def count_to(self, address: str) -> int:
        return len(self.rest.calls_to(address))


__all__ = ["Outbound", "OutboundLeg", "ACCOUNT_SID"]
