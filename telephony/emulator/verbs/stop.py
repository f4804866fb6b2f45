"""<Stop><Stream name>: stops that forked stream (streams.py)."""
from __future__ import annotations

from telephony.emulator.streams import stop_named


def follow(run):
    stop_named(run.call, run.next_verb())
    return None
