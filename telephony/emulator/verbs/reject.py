"""<Reject reason>: the call ends unanswered, busy with reason="busy", else failed."""
from __future__ import annotations

from telephony.emulator.waits import HungUp


def follow(run):
    verb = run.next_verb()
    raise HungUp("busy" if verb.attrib.get("reason") == "busy" else "failed")
