"""<Hangup>: the call ends, completed."""
from __future__ import annotations

from telephony.emulator.waits import HungUp


def follow(run):
    run.next_verb()
    raise HungUp("completed")
