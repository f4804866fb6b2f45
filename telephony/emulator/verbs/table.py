"""Which module follows which TwiML verb; a verb missing here is followed by `unsupported`."""
from __future__ import annotations

from types import ModuleType

from telephony.emulator.verbs import (connect, dial, enqueue, gather, hangup, leave, pause, play, redirect, reject,
                                      say, start, stop, unsupported)

VERBS: dict[str, ModuleType] = {
    "Say": say, "Play": play, "Pause": pause, "Gather": gather,
    "Redirect": redirect, "Hangup": hangup, "Reject": reject,
    "Enqueue": enqueue, "Leave": leave, "Dial": dial,
    "Connect": connect, "Start": start, "Stop": stop,
}


def handler_for(tag: str) -> ModuleType:
    return VERBS.get(tag, unsupported)
