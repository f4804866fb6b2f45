"""The calls our dispatcher places, as the emulator rings them: a test answers, presses, hangs up or
lets a leg ring out, and the matching signed webhooks (status callbacks, AMD verdict, TwiML fetches)
reach the app exactly as Twilio would send them."""
from __future__ import annotations

from telephony.emulator import ACCOUNT_SID, Call, Emulator


class Outbound:
    """The legs of calls the app created, by SID or by who was called."""

    def __init__(self, emulator: Emulator, rest=None):
        self.emulator = emulator
        self.rest = rest or emulator.rest
        if rest is not None and rest is not emulator.rest:
            # A shared account (records in a file): the emulator answers with those records.
            emulator.share_state(rest.state_path)

    def leg(self, sid: str) -> Call:
        return self.emulator.leg(sid)

    def to(self, address: str, index: int = -1) -> Call:
        self.emulator.run()
        calls = self.rest.calls_to(address)
        assert calls, f"no call was placed to {address}; calls: {[c['to'] for c in self.rest.calls]}"
        return self.leg(calls[index]["sid"])

    def count_to(self, address: str) -> int:
        return len(self.rest.calls_to(address))


__all__ = ["Outbound", "ACCOUNT_SID"]
